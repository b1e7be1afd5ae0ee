package io.semnet.proxy.tun;

import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ioctl layer below {@link TunDevice}: opening one queue of a TUN device ({@code TUNSETIFF},
 * {@code TUNSETOFFLOAD}, non-blocking), and setting its MTU and bringing it up through an
 * {@code AF_INET} socket of the calling thread's namespace. Nothing here is on the data path.
 */
final class TunIoctl {
  private static final Logger log = LoggerFactory.getLogger(TunDevice.class);
  private static final long TUNSETIFF = 0x400454caL;
  private static final long SIOCGIFFLAGS = 0x8913L;
  private static final long SIOCSIFFLAGS = 0x8914L;
  private static final long SIOCSIFMTU = 0x8922L;
  private static final short IFF_TUN = 0x0001;
  private static final short IFF_NO_PI = 0x1000;
  private static final short IFF_MULTI_QUEUE = 0x0100;
  private static final short IFF_VNET_HDR = 0x4000;
  private static final long TUNSETOFFLOAD = 0x400454d0L;
  private static final int TUN_F_CSUM = 0x01;
  private static final int TUN_F_TSO4 = 0x02;
  private static final int TUN_F_TSO6 = 0x04;
  private static final short IFF_UP = 0x1;
  private static final int IFNAMSIZ = 16;

  private TunIoctl() {}

  /** The kernel refused TUNSETOFFLOAD: the builder retries without the virtio header. */
  static final class OffloadRefused extends RuntimeException {
    OffloadRefused() {
      super(null, null, false, false);
    }
  }

  /**
   * Opens {@code /dev/net/tun}, stores the descriptor in {@code fds[q]} (so the caller closes it
   * on failure), attaches it to the device {@code name} ({@code IFF_MULTI_QUEUE} when {@code
   * multiQueue}, {@code IFF_VNET_HDR} and the offloads when {@code vnet}) and makes it non-blocking.
   *
   * @return the interface name the kernel gave (a template like {@code sn%d} is expanded)
   * @throws OffloadRefused if {@code vnet} and the kernel refuses the offloads
   */
  static String openQueue(int[] fds, int q, String name, boolean multiQueue, boolean vnet) throws IOException {
    int fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC);
    if (fd < 0) {
      throw new IOException("cannot open /dev/net/tun: " + LibC.error());
    }
    fds[q] = fd;
    String actual;
    try (Memory ifr = ifreq(name)) {
      short flags = (short) (IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0));
      ifr.setShort(IFNAMSIZ, (short) (flags | (vnet ? IFF_VNET_HDR : 0)));
      if (LibC.ioctl(fd, TUNSETIFF, ifr) != 0) {
        throw new IOException("TUNSETIFF " + name + " failed: " + LibC.error());
      }
      actual = ifr.getString(0, StandardCharsets.US_ASCII.name());
    }
    if (vnet && LibC.ioctl(fd, TUNSETOFFLOAD, (long) (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) != 0) {
      // The virtio header is fixed at TUNSETIFF: without the offloads it would only cost bytes,
      // so start over in plain mode.
      log.info("TUN offloads unavailable on {} ({}); using plain packets", actual, LibC.error());
      throw new OffloadRefused();
    }
    int fl = LibC.fcntl(fd, LibC.F_GETFL, 0);
    if (fl < 0 || LibC.fcntl(fd, LibC.F_SETFL, fl | LibC.O_NONBLOCK) != 0) {
      throw new IOException("cannot make " + actual + " non-blocking: " + LibC.error());
    }
    return actual;
  }

  private static Memory ifreq(String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    if (n.length >= IFNAMSIZ) {
      throw new IllegalArgumentException("interface name '" + name + "' is longer than 15 characters");
    }
    Memory ifr = new Memory(40);
    ifr.clear();
    ifr.write(0, n, 0, n.length);
    return ifr;
  }

  /** Sets MTU and brings the link up through an AF_INET socket of the current namespace. */
  static void configure(String name, int mtu, boolean up) throws IOException {
    int s = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM, 0);
    if (s < 0) {
      throw new IOException("socket() failed: " + LibC.error());
    }
    try (Memory ifr = ifreq(name)) {
      ifr.setInt(IFNAMSIZ, mtu);
      if (LibC.ioctl(s, SIOCSIFMTU, ifr) != 0) {
        throw new IOException("cannot set MTU " + mtu + " on " + name + ": " + LibC.error());
      }
      if (up) {
        ifr.setInt(IFNAMSIZ, 0);
        if (LibC.ioctl(s, SIOCGIFFLAGS, ifr) != 0) {
          throw new IOException("cannot read flags of " + name + ": " + LibC.error());
        }
        ifr.setShort(IFNAMSIZ, (short) (ifr.getShort(IFNAMSIZ) | IFF_UP));
        if (LibC.ioctl(s, SIOCSIFFLAGS, ifr) != 0) {
          throw new IOException("cannot bring " + name + " up: " + LibC.error());
        }
      }
    } finally {
      LibC.close(s);
    }
  }
}
