package io.semnet.tunnel;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A UDP forwarder standing between a client and a target (like a NAT or an on-path attacker): what
 * anyone sends to it goes to the target from the relay's own address, what the target sends back
 * goes to the last client. Records every datagram forwarded to the target, and can inject datagrams
 * to the target from its own address (replays).
 */
final class Relay implements AutoCloseable {
  private final DatagramSocket socket;
  private volatile InetSocketAddress target;
  private volatile SocketAddress client;
  final List<byte[]> toTarget = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private final java.util.Random random = new java.util.Random(7);
  private volatile double loss;
  private volatile double reorder;
  private DatagramPacket heldToTarget;
  private DatagramPacket heldToClient;
  final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
  final java.util.concurrent.atomic.AtomicLong reordered = new java.util.concurrent.atomic.AtomicLong();

  Relay(InetSocketAddress bind, InetSocketAddress target) throws IOException {
    this.socket = new DatagramSocket(bind);
    this.target = target;
    this.thread = new Thread(this::run, "relay");
    thread.setDaemon(true);
    thread.start();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /** Impairs forwarding in both directions: drops a fraction, and holds a fraction back behind the next datagram. */
  void impair(double lossFraction, double reorderFraction) {
    this.loss = lossFraction;
    this.reorder = reorderFraction;
  }

  private void forward(byte[] data, int len, SocketAddress to, boolean towardTarget) throws IOException {
    if (loss > 0 && random.nextDouble() < loss) {
      dropped.incrementAndGet();
      return;
    }
    DatagramPacket p = new DatagramPacket(Arrays.copyOf(data, len), len, to);
    DatagramPacket held = towardTarget ? heldToTarget : heldToClient;
    if (held == null && reorder > 0 && random.nextDouble() < reorder) {
      if (towardTarget) {
        heldToTarget = p;
      } else {
        heldToClient = p;
      }
      reordered.incrementAndGet();
      return;
    }
    socket.send(p);
    if (held != null) {
      socket.send(held);
      if (towardTarget) {
        heldToTarget = null;
      } else {
        heldToClient = null;
      }
    }
  }

  void retarget(InetSocketAddress t) {
    this.target = t;
  }

  void inject(byte[] datagram) throws IOException {
    socket.send(new DatagramPacket(datagram, datagram.length, target));
  }

  private void run() {
    byte[] buf = new byte[65536];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    while (!socket.isClosed()) {
      try {
        p.setLength(buf.length);
        socket.receive(p);
        if (p.getSocketAddress().equals(target)) {
          if (client != null) {
            forward(p.getData(), p.getLength(), client, false);
          }
        } else {
          client = p.getSocketAddress();
          toTarget.add(Arrays.copyOf(p.getData(), p.getLength()));
          forward(p.getData(), p.getLength(), target, true);
        }
      } catch (IOException e) {
        // closed
      }
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
