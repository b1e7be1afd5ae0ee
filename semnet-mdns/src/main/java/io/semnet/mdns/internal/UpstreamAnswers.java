package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Checks an upstream's answer against the query it was sent for, and reads the client's UDP size
 * limit from its query. Pure functions over untrusted bytes: every read is bounds-checked and no
 * input can make them fail or loop.
 */
final class UpstreamAnswers {
  /** The answer belongs to the query. */
  static final int MATCH = 0;
  /** Not a well-formed DNS response (too short, a query, broken question section). */
  static final int MALFORMED = 1;
  /** A response with another id. */
  static final int WRONG_ID = 2;
  /** The right id, but not exactly one question equal to the query's (name, type, class). */
  static final int WRONG_QUESTION = 3;

  private static final int TYPE_OPT = 41;
  private static final int MIN_UDP = 512;

  private UpstreamAnswers() {}

  /**
   * Compares {@code answer} (not consumed) with the query's id and question; {@code scratch} is
   * overwritten. The name is compared case-insensitively, type and class exactly.
   */
  static int check(ByteBuf answer, int id, byte[] lowerName, int type, int qclass, ParsedQuery scratch) {
    int r = QueryParser.parseResponse(answer, scratch);
    if (r == QueryParser.TOO_SHORT || r == QueryParser.NOT_A_QUERY) {
      return MALFORMED;
    }
    if (scratch.id != id) {
      return WRONG_ID;
    }
    if (r != QueryParser.OK) {
      return MALFORMED;
    }
    if (scratch.questionCount != 1 || scratch.types[0] != type || scratch.classes[0] != qclass
        || !Arrays.equals(scratch.lowerNames[0], 0, scratch.nameLengths[0], lowerName, 0, lowerName.length)) {
      return WRONG_QUESTION;
    }
    return MATCH;
  }

  /** True if the TC (truncated) bit is set in the message's header. */
  static boolean truncated(ByteBuf msg) {
    return (msg.getByte(msg.readerIndex() + 2) & 0x02) != 0;
  }

  /**
   * The largest UDP answer the client of {@code query} accepts: its EDNS payload size (RFC 6891),
   * at least 512; 512 without an OPT record or if the records after the question are malformed.
   */
  static int udpLimit(byte[] query, int questionsEnd) {
    if (query.length < 12) {
      return MIN_UDP;
    }
    int records = u16(query, 6) + u16(query, 8) + u16(query, 10);
    int pos = questionsEnd;
    for (int i = 0; i < records; i++) {
      pos = skipName(query, pos);
      if (pos < 0 || pos + 10 > query.length) {
        return MIN_UDP;
      }
      if (u16(query, pos) == TYPE_OPT) {
        return Math.max(MIN_UDP, u16(query, pos + 2));
      }
      pos += 10 + u16(query, pos + 8);
    }
    return MIN_UDP;
  }

  /** The offset after the name at {@code pos} (not following pointers), or -1 if malformed. */
  private static int skipName(byte[] m, int pos) {
    while (pos < m.length) {
      int b = m[pos] & 0xff;
      if (b == 0) {
        return pos + 1;
      }
      if ((b & 0xc0) == 0xc0) {
        return pos + 2 <= m.length ? pos + 2 : -1;
      }
      if ((b & 0xc0) != 0) {
        return -1;
      }
      pos += b + 1;
    }
    return -1;
  }

  private static int u16(byte[] m, int at) {
    return ((m[at] & 0xff) << 8) | (m[at + 1] & 0xff);
  }
}
