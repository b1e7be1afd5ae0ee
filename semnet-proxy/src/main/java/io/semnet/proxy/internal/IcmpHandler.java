package io.semnet.proxy.internal;

import io.semnet.core.node.PacketIo;
import io.semnet.core.node.Tunnel;
import io.semnet.proxy.Counter;
import io.semnet.proxy.internal.packet.AddressRewriter;
import io.semnet.proxy.internal.packet.AddressWords;
import io.semnet.proxy.internal.packet.Checksums;
import io.semnet.proxy.internal.packet.PacketView;
import java.nio.ByteBuffer;

/**
 * ICMP for the translator: translates ICMP errors about a translated flow (outside and inside) and
 * answers local senders with the errors a router would send (unreachable, administratively
 * prohibited, packet too big, time exceeded). Errors are rare: the outer ICMP checksum is
 * recomputed in full, everything else is adjusted incrementally. Allocation-free.
 */
final class IcmpHandler {
  private static final int TCP = PacketView.PROTO_TCP;
  private static final int UDP = PacketView.PROTO_UDP;
  private static final int ICMPV6 = PacketView.PROTO_ICMPV6;

  private final FlowTable table;
  private final long ratePerSecond;
  /** Token bucket of the errors this node generates (guarded by this). */
  private long tokens;
  private long refilledNanos = System.nanoTime();
  private PacketIo io;
  private Tunnel tunnel;

  IcmpHandler(TranslatorConfig c, FlowTable table) {
    this.table = table;
    this.ratePerSecond = c.icmpErrorsPerSecond();
    this.tokens = ratePerSecond;
  }

  /** Takes a token for one generated error: at most the rate per second, bursts up to one second's worth. */
  private synchronized boolean mayGenerate() {
    long t = System.nanoTime();
    long add = (t - refilledNanos) * ratePerSecond / 1_000_000_000L;
    if (add > 0) {
      tokens = Math.min(ratePerSecond, tokens + add);
      refilledNanos += add * 1_000_000_000L / ratePerSecond;
    }
    if (tokens <= 0) {
      return false;
    }
    tokens--;
    return true;
  }

  void start(Wiring wiring) {
    this.io = wiring.io();
    this.tunnel = wiring.tunnel();
  }

  /**
   * The flow an ICMP error (parsed in {@code pv}, travelling in direction {@code dir}) is about: the
   * quoted packet (parsed into {@code w.inner}) is the reverse direction of the half the error
   * travels on. The error must also travel as a packet of that flow: its outer addresses are the
   * half's (it comes from the flow's endpoint, not from a bystander quoting someone else's tuple).
   *
   * @return the half, or null if the error was dropped (and counted)
   */
  Half errorFlow(ThreadScratch w, PacketView pv, int dir) {
    PacketView in = w.inner;
    int st = in.parseEmbedded(pv.buffer(), pv.l4Offset() + 8, pv.end());
    if (st != 0 || in.isIpv6() != pv.isIpv6() || !in.isFirstFragment()) {
      w.counts[Counter.DROP_ICMP_NO_FLOW.ordinal()]++;
      return null;
    }
    Half h = table.find(dir, pv.isIpv6(), in.protocol(), in.dstHi(), in.dstLo(), in.srcHi(), in.srcLo(), in.dstPort(),
        in.srcPort());
    if (h == null) {
      w.counts[Counter.DROP_ICMP_NO_FLOW.ordinal()]++;
      return null;
    }
    if (pv.srcLo() != h.sLo || pv.dstLo() != h.dLo || pv.srcHi() != h.sHi || pv.dstHi() != h.dHi) {
      w.counts[Counter.DROP_ICMP_ENDPOINT_MISMATCH.ordinal()]++;
      return null;
    }
    return h;
  }

  /**
   * Translates an ICMP error (parsed in {@code pv}, travelling in direction {@code dir}) whose
   * embedded packet belongs to a flow: the embedded header is the reverse direction of the flow
   * the error travels on, so it is rewritten with the flow's addresses swapped (and its IPv4
   * header and transport checksums adjusted), the outer header like any packet of the flow
   * (TTL decremented on egress), and the ICMP checksum recomputed over the changed payload.
   *
   * <p>Call {@link #errorFlow} first: it parses the quoted packet into {@code w.inner}.
   *
   * @return false if it was dropped (and counted)
   */
  boolean translateError(ThreadScratch w, PacketView pv, Half h, int dir) {
    PacketView in = w.inner;
    ByteBuffer b = pv.buffer();
    boolean v6 = pv.isIpv6();
    boolean egress = dir == Half.EGRESS;
    if (egress && pv.ttl() <= 1) {
      w.counts[Counter.DROP_TTL_EXPIRED.ordinal()]++;
      return false;
    }
    if (egress && h.nextHop != null && tunnel == null) {
      w.counts[Counter.DROP_NO_TUNNEL.ordinal()]++;
      return false;
    }
    int is = in.start();
    int innerDelta = Half.addressDelta(v6, in.srcHi(), in.srcLo(), in.dstHi(), in.dstLo(), h.nDstHi, h.nDstLo, h.nSrcHi, h.nSrcLo);
    AddressWords.putAddresses(b, is, v6, h.nDstHi, h.nDstLo, h.nSrcHi, h.nSrcLo);
    if (!v6) {
      Checksums.adjustAt(b, is + 10, innerDelta);
    }
    int il4 = in.l4Offset();
    int ie = in.end();
    if (in.protocol() == TCP && il4 + 18 <= ie) {
      Checksums.adjustAt(b, il4 + 16, innerDelta);
    } else if (in.protocol() == UDP && il4 + 8 <= ie) {
      Checksums.adjustUdpAt(b, il4 + 6, innerDelta);
    } else if (in.protocol() == ICMPV6 && il4 + 4 <= ie) {
      Checksums.adjustAt(b, il4 + 2, innerDelta);
    }
    int s = pv.start();
    int outerDelta = Half.addressDelta(v6, pv.srcHi(), pv.srcLo(), pv.dstHi(), pv.dstLo(), h.nSrcHi, h.nSrcLo, h.nDstHi, h.nDstLo);
    AddressWords.putAddresses(b, s, v6, h.nSrcHi, h.nSrcLo, h.nDstHi, h.nDstLo);
    if (!v6) {
      if (egress) {
        b.put(s + 8, (byte) (b.get(s + 8) - 1));
        outerDelta = Checksums.add(outerDelta, AddressRewriter.TTL_DELTA);
      }
      Checksums.adjustAt(b, s + 10, outerDelta);
    } else if (egress) {
      b.put(s + 7, (byte) (b.get(s + 7) - 1));
    }
    int l4 = pv.l4Offset();
    int icmpLen = pv.end() - l4;
    b.putShort(l4 + 2, (short) 0);
    long sum = Checksums.sum(b, l4, icmpLen, 0);
    if (v6) {
      sum = Checksums.sum(b, s + 8, 32, sum) + icmpLen + ICMPV6;
    }
    b.putShort(l4 + 2, (short) Checksums.finish(sum));
    w.counts[Counter.ICMP_ERRORS_TRANSLATED.ordinal()]++;
    return true;
  }

  /** Answers a local sender with ICMP unreachable (no route or no instance) and counts the drop. */
  void unreachable(ThreadScratch w, PacketView pv) {
    sendError(w, pv, pv.isIpv6() ? 1 : 3, pv.isIpv6() ? 3 : 1, 0, Counter.UNREACHABLE_SENT);
    w.counts[Counter.DROP_NO_ROUTE.ordinal()]++;
  }

  /**
   * Answers the sender of {@code pv} (a local instance) with an ICMP/ICMPv6 error from the address
   * it sent to, quoting as much of the packet as fits in 576 (IPv4) or 1280 (IPv6) bytes, and
   * counts {@code counter}. Never answers an ICMP error or a later fragment (RFC 1122, RFC 4443).
   * Rate-limited over all senders ({@code ICMP_ERRORS_RATE_LIMITED} counts the errors not sent).
   */
  void sendError(ThreadScratch w, PacketView pv, int type, int code, int mtu, Counter counter) {
    if (pv.isIcmpError() || !pv.isFirstFragment()) {
      return;
    }
    if (!mayGenerate()) {
      w.counts[Counter.ICMP_ERRORS_RATE_LIMITED.ordinal()]++;
      return;
    }
    ByteBuffer o = w.icmpOut;
    ByteBuffer b = pv.buffer();
    int s = pv.start();
    int total;
    o.clear();
    if (!pv.isIpv6()) {
      int quote = Math.min(pv.length(), 576 - 28);
      total = 28 + quote;
      o.putLong(0, 0x4500000000000000L | ((long) total << 32));
      o.putInt(8, 0x40010000); // TTL 64, protocol ICMP, checksum 0
      o.putInt(12, (int) pv.dstLo());
      o.putInt(16, (int) pv.srcLo());
      o.putShort(10, (short) Checksums.finish(Checksums.sum(o, 0, 20, 0)));
      o.putInt(20, (type << 24) | (code << 16));
      o.putInt(24, mtu & 0xffff);
      o.put(28, b, s, quote);
      o.putShort(22, (short) Checksums.finish(Checksums.sum(o, 20, 8 + quote, 0)));
    } else {
      int quote = Math.min(pv.length(), 1280 - 48);
      total = 48 + quote;
      o.putInt(0, 0x60000000);
      o.putShort(4, (short) (8 + quote));
      o.put(6, (byte) ICMPV6);
      o.put(7, (byte) 64);
      AddressWords.putAddresses(o, 0, true, pv.dstHi(), pv.dstLo(), pv.srcHi(), pv.srcLo());
      o.putInt(40, (type << 24) | (code << 16));
      o.putInt(44, mtu);
      o.put(48, b, s, quote);
      long sum = Checksums.sum(o, 8, 32, 0) + 8 + quote + ICMPV6;
      o.putShort(42, (short) Checksums.finish(Checksums.sum(o, 40, 8 + quote, sum)));
    }
    o.limit(total).position(0);
    io.write(o);
    w.ioDirty = true;
    w.counts[counter.ordinal()]++;
  }
}
