package io.semnet.mdns.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scriptable upstream DNS server on 127.0.0.1 (UDP and TCP on the same port) for attacking the
 * forwarder: each query received is recorded and handed to a {@link Behaviour}, which may answer
 * with anything, from anywhere on loopback, as often as it likes.
 */
public final class FakeUpstream implements AutoCloseable {
  /** A query the upstream received. */
  public record Query(byte[] bytes, InetSocketAddress from, boolean tcp, DataOutputStream tcpOut) {
    public int id() {
      return ((bytes[0] & 0xff) << 8) | (bytes[1] & 0xff);
    }
  }

  /** What the upstream does with a query. */
  public interface Behaviour {
    void onQuery(FakeUpstream up, Query q) throws Exception;
  }

  private final DatagramSocket udp;
  private final ServerSocket tcp;
  private final Behaviour behaviour;
  private final Thread udpThread;
  private final Thread tcpThread;
  /** Every query received, in order. */
  public final BlockingQueue<Query> queries = new LinkedBlockingQueue<>();
  private volatile boolean closed;

  public FakeUpstream(Behaviour behaviour) throws IOException {
    this.behaviour = behaviour;
    DatagramSocket u = null;
    ServerSocket t = null;
    for (int i = 0; i < 20 && t == null; i++) {
      u = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
      try {
        t = new ServerSocket(u.getLocalPort(), 16, InetAddress.getByName("127.0.0.1"));
      } catch (IOException e) {
        u.close(); // the TCP port is taken: try another
      }
    }
    if (t == null) {
      throw new IOException("no port free for both UDP and TCP");
    }
    udp = u;
    tcp = t;
    udpThread = new Thread(this::serveUdp, "fake-upstream-udp");
    tcpThread = new Thread(this::serveTcp, "fake-upstream-tcp");
    udpThread.setDaemon(true);
    tcpThread.setDaemon(true);
    udpThread.start();
    tcpThread.start();
  }

  public int port() {
    return udp.getLocalPort();
  }

  /** "127.0.0.1:port", for {@code upstreams(...)}. */
  public String spec() {
    return "127.0.0.1:" + port();
  }

  /** Sends {@code msg} from the upstream's own UDP socket (the source an answer must have). */
  public void sendUdp(byte[] msg, SocketAddress to) throws IOException {
    udp.send(new DatagramPacket(msg, msg.length, to));
  }

  /** Writes one length-prefixed message on a TCP query's connection. */
  public static void sendTcp(Query q, byte[] msg) throws IOException {
    q.tcpOut.writeShort(msg.length);
    q.tcpOut.write(msg);
    q.tcpOut.flush();
  }

  private void serveUdp() {
    byte[] buf = new byte[4096];
    while (!closed) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        udp.receive(p);
        Query q = new Query(Arrays.copyOf(p.getData(), p.getLength()), (InetSocketAddress) p.getSocketAddress(), false, null);
        queries.add(q);
        behaviour.onQuery(this, q);
      } catch (SocketException e) {
        return; // closed
      } catch (Exception e) {
        if (!closed) {
          e.printStackTrace();
        }
      }
    }
  }

  private void serveTcp() {
    while (!closed) {
      try (Socket s = tcp.accept()) {
        s.setSoTimeout(5000);
        DataInputStream in = new DataInputStream(s.getInputStream());
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        byte[] msg = new byte[in.readUnsignedShort()];
        in.readFully(msg);
        Query q = new Query(msg, (InetSocketAddress) s.getRemoteSocketAddress(), true, out);
        queries.add(q);
        behaviour.onQuery(this, q);
      } catch (SocketException e) {
        if (closed) {
          return;
        }
      } catch (Exception e) {
        if (!closed) {
          e.printStackTrace();
        }
      }
    }
  }

  public Query nextQuery(long millis) throws InterruptedException {
    return queries.poll(millis, TimeUnit.MILLISECONDS);
  }

  /**
   * A response with {@code id}, flags {@code flags} (QR is always set), one question
   * ({@code qname}, {@code qtype}, class IN) and one A record per address (TTL 60), owner pointing
   * at the question.
   */
  public static byte[] answer(int id, int flags, String qname, int qtype, String... ipv4) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Wire.short16(out, id);
    Wire.short16(out, 0x8000 | flags);
    Wire.short16(out, 1);
    Wire.short16(out, ipv4.length);
    Wire.short16(out, 0);
    Wire.short16(out, 0);
    Wire.name(out, qname);
    Wire.short16(out, qtype);
    Wire.short16(out, 1);
    for (String a : ipv4) {
      out.write(new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4}, 0, 12);
      for (String octet : a.split("\\.")) {
        out.write(Integer.parseInt(octet));
      }
    }
    return out.toByteArray();
  }

  /**
   * The answer an honest upstream gives {@code q}: its header and question with QR, RA and
   * {@code extraFlags} set, followed by one A record per address (records after the question, such
   * as an OPT, are left out).
   */
  public static byte[] reply(Query q, int extraFlags, String... ipv4) {
    byte[] b = q.bytes();
    int end = 12;
    while (b[end] != 0) {
      end += (b[end] & 0xff) + 1;
    }
    byte[] r = Arrays.copyOf(b, end + 5);
    r[10] = 0;
    r[11] = 0;
    r[2] |= (byte) (0x80 | (extraFlags >>> 8));
    r[3] |= (byte) (0x80 | extraFlags);
    r[7] = (byte) ipv4.length;
    byte[] records = answer(0, 0, "", 1, ipv4);
    byte[] all = Arrays.copyOf(r, r.length + records.length - 17);
    System.arraycopy(records, 17, all, r.length, records.length - 17);
    return all;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    udp.close();
    tcp.close();
    try {
      udpThread.join(2000);
      tcpThread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
