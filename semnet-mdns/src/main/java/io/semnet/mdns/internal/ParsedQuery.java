package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;

/**
 * A DNS query decoded by {@link QueryParser} into reusable arrays, so decoding a query allocates
 * nothing. One instance belongs to one thread (the responder's event loop) and is overwritten by
 * every parse.
 */
public final class ParsedQuery {
  /** Most questions kept from one query; mDNS queriers batch several, unicast allows one. */
  public static final int MAX_QUESTIONS = 8;
  /** Longest name in wire form (RFC 1035 §2.3.4). */
  public static final int MAX_NAME = 255;
  /** Most known answers kept from one mDNS query (RFC 6762 §7.1); the rest are ignored. */
  public static final int MAX_KNOWN = 16;

  int id;
  int flags;
  int questionCount;
  int answerCount;
  int authorityCount;
  int additionalCount;
  /** Wire-form names (length-prefixed labels, terminating zero) in the case the client sent. */
  final byte[][] names;
  /** The same names folded to lower case, the lookup key. */
  final byte[][] lowerNames;
  final int[] nameLengths;
  final int[] nameHashes;
  final int[] types = new int[MAX_QUESTIONS];
  final int[] classes = new int[MAX_QUESTIONS];
  /** Number of questions decoded (at most {@link #MAX_QUESTIONS}; the rest are ignored). */
  int decoded;
  /** Offset just past the question section in the query. */
  int questionsEnd;
  /** Known answers decoded by {@link QueryParser#parseKnownAnswers}; names in slots MAX_QUESTIONS + i. */
  int knownDecoded;
  final int[] knownTypes = new int[MAX_KNOWN];
  final long[] knownTtls = new long[MAX_KNOWN];
  final int[] knownRdataLengths = new int[MAX_KNOWN];
  final byte[][] knownRdata = new byte[MAX_KNOWN][16];

  /** A reusable query for {@link QueryParser#parse}. */
  public ParsedQuery() {
    this(MAX_QUESTIONS + MAX_KNOWN, MAX_NAME);
  }

  /**
   * True if the querier already holds this address record (same owner, type and address) with at
   * least {@code minTtl} seconds left, so answering it again would be redundant (RFC 6762 §7.1).
   */
  boolean knows(NameKey owner, int type, byte[] rdata, long minTtl) {
    for (int k = 0; k < knownDecoded; k++) {
      int slot = MAX_QUESTIONS + k;
      if (knownTypes[k] == type && knownTtls[k] >= minTtl && knownRdataLengths[k] == rdata.length
          && nameLengths[slot] == owner.length
          && java.util.Arrays.equals(lowerNames[slot], 0, owner.length, owner.bytes, 0, owner.length)
          && java.util.Arrays.equals(knownRdata[k], 0, rdata.length, rdata, 0, rdata.length)) {
        return true;
      }
    }
    return false;
  }

  private ParsedQuery(int questions, int nameBytes) {
    names = new byte[questions][nameBytes];
    lowerNames = new byte[questions][nameBytes];
    nameLengths = new int[questions];
    nameHashes = new int[questions];
  }

  public int id() {
    return id;
  }

  public int flags() {
    return flags;
  }

  public int opcode() {
    return (flags >>> 11) & 0xf;
  }

  public boolean recursionDesired() {
    return (flags & 0x0100) != 0;
  }

  public int questionCount() {
    return questionCount;
  }

  public int decodedQuestions() {
    return decoded;
  }

  public int type(int q) {
    return types[q];
  }

  /** The question class without the mDNS unicast-response bit. */
  public int dnsClass(int q) {
    return classes[q] & 0x7fff;
  }

  /** True if the mDNS unicast-response (QU) bit is set on question {@code q}. */
  public boolean unicastResponse(int q) {
    return (classes[q] & 0x8000) != 0;
  }

  public int nameLength(int q) {
    return nameLengths[q];
  }

  /** The name of question {@code q} in presentation form (allocates; for the slow path only). */
  public String nameString(int q) {
    return WireNames.toPresentation(names[q], nameLengths[q]);
  }

  /** Writes question {@code q} (name as the client spelt it, type, class) to {@code out}. */
  public void writeQuestion(int q, ByteBuf out, boolean clearUnicastBit) {
    out.writeBytes(names[q], 0, nameLengths[q]);
    out.writeShort(types[q]);
    out.writeShort(clearUnicastBit ? classes[q] & 0x7fff : classes[q]);
  }

  /** Copies question {@code q} into {@code key} (lower-case wire name) for keeping beyond the next parse. */
  public byte[] keyCopy(int q) {
    byte[] k = new byte[nameLengths[q]];
    System.arraycopy(lowerNames[q], 0, k, 0, k.length);
    return k;
  }

  /**
   * An independent, compact copy of this query (only the decoded questions, arrays sized to the
   * longest name), for answering it later: waiting queries hold hundreds of bytes, not kilobytes.
   * Not reusable for parsing.
   */
  public ParsedQuery copy() {
    int longest = 1;
    for (int i = 0; i < decoded; i++) {
      longest = Math.max(longest, nameLengths[i]);
    }
    ParsedQuery c = new ParsedQuery(decoded, longest);
    c.id = id;
    c.flags = flags;
    c.questionCount = questionCount;
    c.answerCount = answerCount;
    c.authorityCount = authorityCount;
    c.additionalCount = additionalCount;
    c.decoded = decoded;
    c.questionsEnd = questionsEnd;
    for (int i = 0; i < decoded; i++) {
      System.arraycopy(names[i], 0, c.names[i], 0, nameLengths[i]);
      System.arraycopy(lowerNames[i], 0, c.lowerNames[i], 0, nameLengths[i]);
      c.nameLengths[i] = nameLengths[i];
      c.nameHashes[i] = nameHashes[i];
      c.types[i] = types[i];
      c.classes[i] = classes[i];
    }
    return c;
  }
}
