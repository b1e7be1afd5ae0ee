package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;

/**
 * Decodes DNS queries from untrusted bytes without allocating. Every length, pointer and count is
 * checked against the message: compression pointers must point strictly backwards (so they cannot
 * loop), names are capped at 255 bytes and labels at 63, and a message that ends early is rejected.
 * The caller decides what a rejection means (FORMERR for unicast, silence for multicast).
 */
public final class QueryParser {
  /** Parse outcomes. */
  public static final int OK = 0;
  /** Too short to hold a header: nothing can be answered, not even an error. */
  public static final int TOO_SHORT = 1;
  /** A response (QR set): never answered, to avoid loops between responders. */
  public static final int NOT_A_QUERY = 2;
  /** A header that can be answered with an error, but the rest is malformed. */
  public static final int MALFORMED = 3;
  /** Compression pointer pointing forward or into itself. */
  public static final int BAD_POINTER = 4;

  private static final int HEADER = 12;

  private QueryParser() {}

  /**
   * Parses the readable bytes of {@code msg} (not consumed) into {@code q}.
   *
   * @return {@link #OK} or the reason it failed; with {@link #MALFORMED} or {@link #BAD_POINTER} the
   *     header fields of {@code q} are set and the message can be answered with FORMERR
   */
  public static int parse(ByteBuf msg, ParsedQuery q) {
    return parse(msg, q, false);
  }

  /**
   * Parses the header and questions of a DNS <em>response</em> the same way (for checking an
   * upstream's answer against the query): {@link #NOT_A_QUERY} here means the message is a query.
   */
  public static int parseResponse(ByteBuf msg, ParsedQuery q) {
    return parse(msg, q, true);
  }

  private static int parse(ByteBuf msg, ParsedQuery q, boolean response) {
    int base = msg.readerIndex();
    int len = msg.readableBytes();
    q.decoded = 0;
    q.knownDecoded = 0;
    q.questionCount = 0;
    if (len < HEADER) {
      return TOO_SHORT;
    }
    q.id = msg.getUnsignedShort(base);
    q.flags = msg.getUnsignedShort(base + 2);
    q.questionCount = msg.getUnsignedShort(base + 4);
    q.answerCount = msg.getUnsignedShort(base + 6);
    q.authorityCount = msg.getUnsignedShort(base + 8);
    q.additionalCount = msg.getUnsignedShort(base + 10);
    if (((q.flags & 0x8000) != 0) != response) {
      return NOT_A_QUERY;
    }
    int pos = HEADER;
    int keep = Math.min(q.questionCount, ParsedQuery.MAX_QUESTIONS);
    for (int i = 0; i < q.questionCount; i++) {
      int slot = i < keep ? i : -1;
      int r = readName(msg, base, len, pos, q, slot);
      if (r < 0) {
        return -r;
      }
      pos = r;
      if (pos + 4 > len) {
        return MALFORMED;
      }
      if (slot >= 0) {
        q.types[slot] = msg.getUnsignedShort(base + pos);
        q.classes[slot] = msg.getUnsignedShort(base + pos + 2);
        q.decoded = slot + 1;
      }
      pos += 4;
    }
    q.questionsEnd = pos;
    q.knownDecoded = 0;
    return OK;
  }

  /**
   * Decodes the answer section of an mDNS query (its known answers) after a successful
   * {@link #parse}: A and AAAA records of class IN are kept, others skipped. A malformed section
   * simply ends the list; it never makes the query fail.
   */
  public static void parseKnownAnswers(ByteBuf msg, ParsedQuery q) {
    int base = msg.readerIndex();
    int len = msg.readableBytes();
    int pos = q.questionsEnd;
    q.knownDecoded = 0;
    for (int i = 0; i < q.answerCount && q.knownDecoded < ParsedQuery.MAX_KNOWN; i++) {
      int slot = ParsedQuery.MAX_QUESTIONS + q.knownDecoded;
      int r = readName(msg, base, len, pos, q, slot);
      if (r < 0 || r + 10 > len) {
        return;
      }
      int type = msg.getUnsignedShort(base + r);
      int rclass = msg.getUnsignedShort(base + r + 2) & 0x7fff;
      long ttl = msg.getUnsignedInt(base + r + 4);
      int rdlen = msg.getUnsignedShort(base + r + 8);
      int rdata = r + 10;
      if (rdata + rdlen > len) {
        return;
      }
      if (rclass == 1 && ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16))) {
        int k = q.knownDecoded;
        q.knownTypes[k] = type;
        q.knownTtls[k] = ttl;
        q.knownRdataLengths[k] = rdlen;
        msg.getBytes(base + rdata, q.knownRdata[k], 0, rdlen);
        q.knownDecoded++;
      }
      pos = rdata + rdlen;
    }
  }

  /**
   * Reads the name at {@code start}; returns the offset after it in the message (not following
   * pointers), or minus a failure code. Stores it in question {@code slot} unless slot is -1.
   */
  private static int readName(ByteBuf msg, int base, int len, int start, ParsedQuery q, int slot) {
    byte[] out = slot >= 0 ? q.names[slot] : null;
    byte[] lower = slot >= 0 ? q.lowerNames[slot] : null;
    int outLen = 0;
    int hash = 1;
    int pos = start;
    int end = -1; // offset after the name in the message, fixed at the first pointer
    int limit = start; // a pointer must land strictly before the label it was read from
    while (true) {
      if (pos >= len) {
        return -MALFORMED;
      }
      int b = msg.getUnsignedByte(base + pos);
      if (b == 0) {
        if (outLen + 1 > ParsedQuery.MAX_NAME) {
          return -MALFORMED;
        }
        if (out != null) {
          out[outLen] = 0;
          lower[outLen] = 0;
          q.nameLengths[slot] = outLen + 1;
          q.nameHashes[slot] = hash;
        }
        return end >= 0 ? end : pos + 1;
      }
      int kind = b & 0xc0;
      if (kind == 0xc0) {
        if (pos + 1 >= len) {
          return -MALFORMED;
        }
        int target = ((b & 0x3f) << 8) | msg.getUnsignedByte(base + pos + 1);
        if (target >= limit) {
          return -BAD_POINTER;
        }
        if (end < 0) {
          end = pos + 2;
        }
        limit = target;
        pos = target;
        continue;
      }
      if (kind != 0) {
        return -MALFORMED; // extended label types (RFC 6891 obsoleted them) are not accepted
      }
      if (pos + 1 + b > len || outLen + 1 + b + 1 > ParsedQuery.MAX_NAME) {
        return -MALFORMED;
      }
      if (out != null) {
        out[outLen] = (byte) b;
        lower[outLen] = (byte) b;
      }
      hash = 31 * hash + b;
      outLen++;
      for (int i = 0; i < b; i++) {
        byte c = msg.getByte(base + pos + 1 + i);
        byte lc = c >= 'A' && c <= 'Z' ? (byte) (c + 32) : c;
        if (out != null) {
          out[outLen] = c;
          lower[outLen] = lc;
        }
        hash = 31 * hash + lc;
        outLen++;
      }
      pos += 1 + b;
    }
  }
}
