package io.semnet.proxy.internal.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChecksumsTest {
  /** Full recomputation over a byte array, independent of the code under test. */
  static int reference(byte[] d, int skipAt) {
    long s = 0;
    for (int i = 0; i < d.length; i += 2) {
      int hi = i == skipAt ? 0 : d[i] & 0xff;
      int lo = i + 1 < d.length && i != skipAt ? d[i + 1] & 0xff : 0;
      s += (hi << 8) | lo;
    }
    while ((s >>> 16) != 0) {
      s = (s & 0xffff) + (s >>> 16);
    }
    return ~(int) s & 0xffff;
  }

  @Test
  void directAndHeapBuffersSumAlikeAtEveryOffsetAndLength() {
    SplittableRandom r = new SplittableRandom(7);
    for (int round = 0; round < 5_000; round++) {
      byte[] d = new byte[1 + r.nextInt(3000)];
      for (int i = 0; i < d.length; i++) {
        d[i] = (byte) r.nextInt(256);
      }
      int off = r.nextInt(d.length);
      int len = r.nextInt(d.length - off + 1);
      byte[] region = java.util.Arrays.copyOfRange(d, off, off + len);
      ByteBuffer direct = ByteBuffer.allocateDirect(d.length).put(d).flip();
      long seed = r.nextInt(1 << 20);
      int expected = reference(region, -1);
      int heap = Checksums.finish(Checksums.sum(ByteBuffer.wrap(d), off, len, 0));
      assertEquals(expected, heap, "heap, off " + off + " len " + len);
      assertEquals(Checksums.fold(Checksums.sum(ByteBuffer.wrap(d), off, len, seed)),
          Checksums.fold(Checksums.sum(direct, off, len, seed)), "direct, off " + off + " len " + len);
    }
  }

  @Test
  void incrementalUpdatesOfAddressesKeepTheChecksumValid() {
    SplittableRandom r = new SplittableRandom(42);
    for (int round = 0; round < 20_000; round++) {
      byte[] d = new byte[48 + r.nextInt(60)];
      for (int i = 0; i < d.length; i++) {
        d[i] = (byte) r.nextInt(256);
      }
      ByteBuffer b = ByteBuffer.wrap(d);
      b.putShort(0, (short) 0);
      b.putShort(0, (short) reference(d, 0));
      // replace a 32-bit and a 64-bit field at even offsets, updating incrementally
      int at4 = 2 + 2 * r.nextInt(8);
      int at8 = 20 + 2 * r.nextInt(8);
      int old4 = b.getInt(at4);
      int new4 = r.nextInt();
      b.putInt(at4, new4);
      long old8 = b.getLong(at8);
      long new8 = r.nextLong();
      b.putLong(at8, new8);
      Checksums.adjustAt(b, 0, Checksums.add(Checksums.intDelta(old4, new4), Checksums.longDelta(old8, new8)));
      int expected = reference(d, 0);
      int actual = b.getShort(0) & 0xffff;
      assertTrue(expected == actual || (expected ^ actual) == 0xffff && (expected == 0 || actual == 0),
          "round " + round + ": " + Integer.toHexString(actual) + " vs " + Integer.toHexString(expected));
      assertTrue(Checksums.verifies(Checksums.sum(b, 0, d.length, 0)));
    }
  }

  @Test
  void sumMatchesTheReferenceForOddLengths() {
    byte[] d = {1, 2, 3, 4, 5};
    assertEquals(reference(d, -1), Checksums.finish(Checksums.sum(ByteBuffer.wrap(d), 0, 5, 0)));
  }

  @Test
  void udpZeroStaysZeroAndComputedZeroBecomesAllOnes() {
    ByteBuffer b = ByteBuffer.allocate(2);
    Checksums.adjustUdpAt(b, 0, 0x1234);
    assertEquals(0, b.getShort(0));
    b.putShort(0, (short) 0x1234);
    // choose a delta that makes the result 0: ~(~c + d) = 0 when ~c + d = 0xffff
    Checksums.adjustUdpAt(b, 0, 0x1234);
    assertEquals((short) 0xffff, b.getShort(0));
  }
}
