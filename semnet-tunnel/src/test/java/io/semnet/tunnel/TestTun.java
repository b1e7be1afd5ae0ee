package io.semnet.tunnel;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Test-only TUN access through JNA (the proxy module owns the real TUN support): attach to an
 * existing TUN device, read and write raw IP packets, and move the calling thread into a network
 * namespace. Linux x86-64 only.
 */
final class TestTun implements AutoCloseable {
  interface LibC extends Library {
    LibC C = Native.load("c", LibC.class);

    int open(String path, int flags);

    int close(int fd);

    int ioctl(int fd, NativeLong request, byte[] arg);

    int setns(int fd, int nstype);

    NativeLong read(int fd, byte[] buf, NativeLong count);

    NativeLong write(int fd, byte[] buf, NativeLong count);

    int poll(byte[] fds, NativeLong nfds, int timeout);
  }

  private static final int O_RDWR = 2;
  private static final long TUNSETIFF = 0x400454caL;
  private static final short IFF_TUN = 0x0001;
  private static final short IFF_NO_PI = 0x1000;
  private static final int CLONE_NEWNET = 0x40000000;

  private final int fd;

  private TestTun(int fd) {
    this.fd = fd;
  }

  /** Moves the calling thread into network namespace {@code ns} (from /var/run/netns). */
  static void enterNamespace(String ns) throws IOException {
    int nsFd = LibC.C.open("/var/run/netns/" + ns, 0);
    if (nsFd < 0) {
      throw new IOException("cannot open netns " + ns + ": errno " + Native.getLastError());
    }
    try {
      if (LibC.C.setns(nsFd, CLONE_NEWNET) != 0) {
        throw new IOException("setns " + ns + " failed: errno " + Native.getLastError());
      }
    } finally {
      LibC.C.close(nsFd);
    }
  }

  /** Attaches to TUN device {@code name} in the calling thread's namespace. */
  static TestTun attach(String name) throws IOException {
    int fd = LibC.C.open("/dev/net/tun", O_RDWR);
    if (fd < 0) {
      throw new IOException("cannot open /dev/net/tun: errno " + Native.getLastError());
    }
    byte[] ifr = new byte[40];
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(n, 0, ifr, 0, n.length);
    short flags = IFF_TUN | IFF_NO_PI;
    ifr[16] = (byte) flags;
    ifr[17] = (byte) (flags >>> 8);
    if (LibC.C.ioctl(fd, new NativeLong(TUNSETIFF), ifr) != 0) {
      int err = Native.getLastError();
      LibC.C.close(fd);
      throw new IOException("TUNSETIFF " + name + " failed: errno " + err);
    }
    return new TestTun(fd);
  }

  /** Reads one packet, waiting at most {@code timeoutMillis}; returns its length or 0 on timeout. */
  int read(byte[] buf, int timeoutMillis) {
    byte[] pfd = new byte[8];
    pfd[0] = (byte) fd;
    pfd[1] = (byte) (fd >>> 8);
    pfd[2] = (byte) (fd >>> 16);
    pfd[3] = (byte) (fd >>> 24);
    pfd[4] = 1; // POLLIN
    if (LibC.C.poll(pfd, new NativeLong(1), timeoutMillis) <= 0) {
      return 0;
    }
    long r = LibC.C.read(fd, buf, new NativeLong(buf.length)).longValue();
    return (int) Math.max(r, 0);
  }

  void write(byte[] packet, int len) {
    LibC.C.write(fd, packet, new NativeLong(len));
  }

  @Override
  public void close() {
    LibC.C.close(fd);
  }
}
