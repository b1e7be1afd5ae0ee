package io.semnet.proxy.internal;

import io.semnet.proxy.internal.packet.AddressWords;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * One thread's memo between the data path's address words and {@link InetAddress} objects, so a
 * new flow needs no address allocation for the addresses it has seen recently: the maps of the
 * control plane are keyed by {@code InetAddress}, the flow table by words. Two direct-mapped
 * arrays of {@value #SIZE} slots (words to address, and address identity to words); a miss
 * allocates once and overwrites its slot, so the memo's size is fixed whatever the traffic. Owned
 * by one {@link ThreadScratch}; not thread-safe.
 */
final class AddressCache {
  static final int SIZE = 64;
  private static final int MASK = SIZE - 1;

  private final long[] wordHi = new long[SIZE];
  private final long[] wordLo = new long[SIZE];
  private final InetAddress[] byWords = new InetAddress[SIZE];
  private final InetAddress[] byIdentity = new InetAddress[SIZE];
  private final long[] identityHi = new long[SIZE];
  private final long[] identityLo = new long[SIZE];

  /** The address of the given family whose words are {@code hi} and {@code lo}. */
  InetAddress address(boolean v6, long hi, long lo) {
    long h = (hi * 0x9E3779B97F4A7C15L) ^ (lo * 0xC2B2AE3D27D4EB4FL);
    int i = (int) (h ^ (h >>> 32) ^ (h >>> 17)) & MASK;
    InetAddress a = byWords[i];
    if (a != null && wordHi[i] == hi && wordLo[i] == lo && (a instanceof Inet6Address) == v6) {
      return a;
    }
    a = AddressWords.toInetAddress(v6, hi, lo);
    byWords[i] = a;
    wordHi[i] = hi;
    wordLo[i] = lo;
    return a;
  }

  /** The upper word of {@code a} (see {@link AddressWords#hi}). */
  long hi(InetAddress a) {
    return identityHi[slotOf(a)];
  }

  /** The lower word of {@code a} (see {@link AddressWords#lo}). */
  long lo(InetAddress a) {
    return identityLo[slotOf(a)];
  }

  private int slotOf(InetAddress a) {
    int i = System.identityHashCode(a) & MASK;
    if (byIdentity[i] != a) {
      identityHi[i] = AddressWords.hi(a);
      identityLo[i] = AddressWords.lo(a);
      byIdentity[i] = a;
    }
    return i;
  }
}
