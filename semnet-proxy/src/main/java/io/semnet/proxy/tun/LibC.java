package io.semnet.proxy.tun;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls the TUN device and namespace switching need, bound with JNA direct mapping
 * (no proxy, no per-call allocation for primitive arguments). Buffers are passed as raw addresses
 * ({@code long}), which the x86-64 and AArch64 calling conventions pass like pointers.
 */
final class LibC {
  static final int O_RDONLY = 0;
  static final int O_RDWR = 2;
  static final int O_NONBLOCK = 0x800;
  static final int O_CLOEXEC = 0x80000;
  static final int F_GETFL = 3;
  static final int F_SETFL = 4;
  static final int CLONE_NEWNET = 0x40000000;
  static final int AF_INET = 2;
  static final int SOCK_DGRAM = 2;
  static final short POLLIN = 1;
  static final int EAGAIN = 11;
  static final int EINTR = 4;

  static {
    Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
  }

  private LibC() {}

  static native int open(String path, int flags);

  static native int close(int fd);

  static native long read(int fd, long buf, long count);

  static native long write(int fd, long buf, long count);

  static native long writev(int fd, long iov, int iovcnt);

  static native int ioctl(int fd, long request, Pointer arg);

  /** ioctl whose argument is passed by value (e.g. TUNSETOFFLOAD's flag word). */
  static native int ioctl(int fd, long request, long arg);

  static native int fcntl(int fd, int cmd, int arg);

  static native int poll(Pointer fds, long nfds, int timeoutMillis);

  static native int setns(int fd, int nstype);

  static native int socket(int domain, int type, int protocol);

  static native Pointer strerror(int errnum);

  static String error() {
    int e = Native.getLastError();
    Pointer p = strerror(e);
    return (p == null ? "errno" : p.getString(0)) + " (" + e + ")";
  }
}
