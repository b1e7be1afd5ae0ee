package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.semnet.mdns.ResponderCounters;
import io.semnet.mdns.ResponderCounters.Counter;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The replies a {@link QueryEngine} sends, built from the name store's pre-encoded records: unicast
 * DNS answers and errors, legacy-unicast mDNS replies (RFC 6762 §6.7), regular mDNS replies over
 * unicast and multicast (known-answer suppression, at most one multicast per record a second) and
 * goodbyes (§10.1). The mDNS answers to send are passed in {@link #answers}/{@link #questions},
 * reused scratch arrays. Allocates nothing but the pooled reply buffer. Runs on the engine's loop.
 */
final class Replies {
  static final int QR = 0x8000;
  static final int AA = 0x0400;
  private static final int RD = 0x0100;
  private static final int RA = 0x0080;
  private static final long MULTICAST_INTERVAL = TimeUnit.SECONDS.toNanos(1);

  /** The answers of one mDNS reply: entry k answers question {@code questions[k]} of the query. */
  final NameEntry[] answers = new NameEntry[ParsedQuery.MAX_QUESTIONS];
  final int[] questions = new int[ParsedQuery.MAX_QUESTIONS];
  private final EngineConfig cfg;
  private final ResponderCounts counters;

  Replies(EngineConfig cfg, ResponderCounts counters) {
    this.cfg = cfg;
    this.counters = counters;
  }

  ByteBuf unicastAnswer(ParsedQuery q, NameEntry e, ReplySink sink) {
    if (!e.exists) {
      counters.increment(Counter.NXDOMAIN);
      return errorWithQuestion(q, QueryEngine.RCODE_NXDOMAIN, sink);
    }
    int qtype = q.types[0];
    NameEntry.Records a = wantsA(qtype) ? e.a : null;
    NameEntry.Records aaaa = wantsAaaa(qtype) ? e.aaaa : null;
    int count = (a != null ? 1 : 0) + (aaaa != null ? 1 : 0);
    ByteBuf out = sink.alloc().buffer(12 + q.nameLengths[0] + 4 + 2 * 30);
    writeHeader(out, q.id, responseFlags(q, QueryEngine.RCODE_NOERROR, true), 1, count);
    q.writeQuestion(0, out, false);
    if (a != null) {
      out.writeShort(0xc00c); // the owner is the question's name, at offset 12
      out.writeBytes(a.unicastTail);
    }
    if (aaaa != null) {
      out.writeShort(0xc00c);
      out.writeBytes(aaaa.unicastTail);
    }
    counters.increment(count > 0 ? Counter.ANSWERED : Counter.NODATA);
    return out;
  }

  private int responseFlags(ParsedQuery q, int rcode, boolean authoritative) {
    return QR | (q.flags & (0x7800 | RD)) | (authoritative ? AA : 0) | (cfg.recursionAvailable ? RA : 0) | rcode;
  }

  ByteBuf headerOnly(ParsedQuery q, int rcode, ReplySink sink) {
    ByteBuf out = sink.alloc().buffer(12);
    writeHeader(out, q.id, responseFlags(q, rcode, false), 0, 0);
    return out;
  }

  ByteBuf errorWithQuestion(ParsedQuery q, int rcode, ReplySink sink) {
    ByteBuf out = sink.alloc().buffer(12 + q.nameLengths[0] + 4);
    writeHeader(out, q.id, responseFlags(q, rcode, rcode == QueryEngine.RCODE_NXDOMAIN || rcode == QueryEngine.RCODE_NOERROR), 1, 0);
    q.writeQuestion(0, out, false);
    return out;
  }

  static void writeHeader(ByteBuf out, int id, int flags, int qd, int an) {
    out.writeShort(id);
    out.writeShort(flags);
    out.writeShort(qd);
    out.writeShort(an);
    out.writeShort(0);
    out.writeShort(0);
  }

  private static boolean wantsA(int qtype) {
    return qtype == QueryEngine.TYPE_A || qtype == QueryEngine.TYPE_ANY;
  }

  private static boolean wantsAaaa(int qtype) {
    return qtype == QueryEngine.TYPE_AAAA || qtype == QueryEngine.TYPE_ANY;
  }

  static boolean hasRecordFor(NameEntry e, int qtype) {
    return (wantsA(qtype) && e.a != null) || (wantsAaaa(qtype) && e.aaaa != null);
  }

  /** RFC 6762 §6.7: id and questions repeated, short TTLs, no cache-flush bit, unicast to the sender. */
  void sendLegacy(ParsedQuery q, int answered, ReplySink sink, InetSocketAddress sender) {
    int records = 0;
    int size = 12;
    for (int k = 0; k < answered; k++) {
      int i = questions[k];
      records += recordCount(answers[k], q.types[i]);
      size += q.nameLengths[i] + 4 + 2 * 30;
    }
    ByteBuf out = sink.alloc().buffer(size);
    writeHeader(out, q.id, QR | AA, answered, records);
    int[] offsets = questions; // reused: question k's offset replaces its index once written
    for (int k = 0; k < answered; k++) {
      int i = offsets[k];
      offsets[k] = out.writerIndex() | (i << 16);
      q.writeQuestion(i, out, true);
    }
    for (int k = 0; k < answered; k++) {
      int offset = offsets[k] & 0xffff;
      int qtype = q.types[offsets[k] >>> 16];
      NameEntry e = answers[k];
      if (wantsA(qtype) && e.a != null) {
        out.writeShort(0xc000 | offset);
        out.writeBytes(e.a.legacyTail);
      }
      if (wantsAaaa(qtype) && e.aaaa != null) {
        out.writeShort(0xc000 | offset);
        out.writeBytes(e.aaaa.legacyTail);
      }
    }
    counters.increment(Counter.MDNS_UNICAST_RESPONSES);
    sink.send(sender, out);
  }

  private static int recordCount(NameEntry e, int qtype) {
    return (wantsA(qtype) && e.a != null ? 1 : 0) + (wantsAaaa(qtype) && e.aaaa != null ? 1 : 0);
  }

  /** Regular mDNS replies: no questions, full records with cache-flush, unicast and/or multicast. */
  void sendMdns(ParsedQuery q, int answered, boolean viaMulticast, QueryEngine.MdnsOutput output, InetSocketAddress sender) {
    ByteBuf unicast = null;
    int unicastCount = 0;
    ByteBuf multicast = null;
    int multicastCount = 0;
    long now = System.nanoTime();
    for (int k = 0; k < answered; k++) {
      int i = questions[k];
      NameEntry e = answers[k];
      int qtype = q.types[i];
      boolean toUnicast = q.unicastResponse(i) || !viaMulticast;
      for (int family = 0; family < 2; family++) {
        NameEntry.Records rec = family == 0 ? (wantsA(qtype) ? e.a : null) : (wantsAaaa(qtype) ? e.aaaa : null);
        if (rec == null) {
          continue;
        }
        if (q.knownDecoded > 0 && q.knows(e.key, family == 0 ? QueryEngine.TYPE_A : QueryEngine.TYPE_AAAA, rec.rdata, cfg.ttlSeconds / 2)) {
          counters.increment(Counter.MDNS_KNOWN_ANSWERS_SUPPRESSED);
          continue;
        }
        if (toUnicast) {
          if (unicast == null) {
            unicast = output.sink.alloc().buffer(512);
            writeHeader(unicast, viaMulticast ? 0 : q.id, QR | AA, 0, 0);
          }
          unicast.writeBytes(rec.mdns);
          unicastCount++;
        } else {
          long last = family == 0 ? e.lastMulticastA : e.lastMulticastAaaa;
          if (last != Long.MIN_VALUE && now - last < MULTICAST_INTERVAL) {
            counters.increment(Counter.MDNS_RATE_LIMITED); // RFC 6762 §6: at most once a second
            continue;
          }
          if (family == 0) {
            e.lastMulticastA = now;
          } else {
            e.lastMulticastAaaa = now;
          }
          if (multicast == null) {
            multicast = output.sink.alloc().buffer(512);
            writeHeader(multicast, 0, QR | AA, 0, 0);
          }
          multicast.writeBytes(rec.mdns);
          multicastCount++;
        }
      }
    }
    if (unicast != null) {
      unicast.setShort(6, unicastCount);
      counters.increment(Counter.MDNS_UNICAST_RESPONSES);
      output.sink.send(sender, unicast);
    }
    if (multicast != null) {
      multicast.setShort(6, multicastCount);
      counters.increment(Counter.MDNS_MULTICAST_RESPONSES);
      output.sink.send(output.group, multicast);
    }
  }

  /** RFC 6762 §10.1: tell mDNS caches at once that a record we multicast is gone. */
  void goodbye(NameEntry.Records r, List<QueryEngine.MdnsOutput> multicastOutputs) {
    for (QueryEngine.MdnsOutput o : multicastOutputs) {
      ByteBuf out = o.sink.alloc().buffer(12 + r.goodbye.length);
      writeHeader(out, 0, QR | AA, 0, 1);
      out.writeBytes(r.goodbye);
      counters.increment(Counter.MDNS_GOODBYES);
      o.sink.send(o.group, out);
    }
  }
}
