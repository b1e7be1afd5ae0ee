package io.semnet.mdns.internal;

import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;

/**
 * What the responder knows about one semantic name: whether it exists and its answer records,
 * pre-encoded for each way of answering so that answering copies bytes and nothing else. Owned by
 * the responder's event loop; never shared with other threads.
 */
final class NameEntry {
  final NameKey key;
  final SemanticName name;
  final ServiceId service;
  boolean exists;
  /** Expires (nanoTime) for negative entries; re-validates positive entries after this. */
  long refreshAt;
  boolean refreshing;
  Records a;
  Records aaaa;
  long lastMulticastA = Long.MIN_VALUE;
  long lastMulticastAaaa = Long.MIN_VALUE;

  NameEntry(NameKey key, SemanticName name) {
    this.key = key;
    this.name = name;
    this.service = name.service();
  }

  /** One address record encoded three ways. */
  static final class Records {
    final byte[] rdata;
    /** Full record (owner name written out) with the cache-flush bit and the mDNS TTL. */
    final byte[] mdns;
    /** Type to rdata with the unicast-DNS TTL; preceded by a compression pointer to the question. */
    final byte[] unicastTail;
    /** Type to rdata for legacy-unicast mDNS replies: short TTL, no cache-flush bit. */
    final byte[] legacyTail;
    /** Full record with TTL 0: the mDNS goodbye for this address. */
    final byte[] goodbye;

    Records(byte[] rdata, byte[] mdns, byte[] unicastTail, byte[] legacyTail, byte[] goodbye) {
      this.rdata = rdata;
      this.mdns = mdns;
      this.unicastTail = unicastTail;
      this.legacyTail = legacyTail;
      this.goodbye = goodbye;
    }
  }
}
