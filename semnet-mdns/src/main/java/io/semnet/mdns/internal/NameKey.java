package io.semnet.mdns.internal;

import java.util.Arrays;

/**
 * A lower-case wire name as a map key. The responder keeps one mutable probe instance per thread
 * and points it at the decoded query, so a cache lookup allocates nothing.
 */
final class NameKey {
  byte[] bytes;
  int length;
  int hash;

  NameKey() {}

  NameKey(byte[] bytes) {
    this.bytes = bytes;
    this.length = bytes.length;
    this.hash = WireNames.hash(bytes, bytes.length);
  }

  /** Points this probe at question {@code q} of {@code query}. */
  NameKey probe(ParsedQuery query, int q) {
    bytes = query.lowerNames[q];
    length = query.nameLengths[q];
    hash = query.nameHashes[q];
    return this;
  }

  NameKey copy() {
    return new NameKey(Arrays.copyOf(bytes, length));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof NameKey)) {
      return false;
    }
    NameKey k = (NameKey) o;
    return k.length == length && k.hash == hash && Arrays.equals(bytes, 0, length, k.bytes, 0, k.length);
  }
}
