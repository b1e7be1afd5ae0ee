package io.semnet.mdns.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordEncoder;
import io.netty.handler.codec.dns.DnsRecordType;
import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * Encodes address records once, with Netty's DNS codec, in the forms the responder sends them. Runs
 * only when the name store changes, never per query.
 */
final class RecordEncoder {
  static final int CLASS_IN = 1;
  static final int CACHE_FLUSH = 0x8000;

  private RecordEncoder() {}

  /** The A or AAAA record for {@code address} owned by {@code name} (presentation form, no trailing dot). */
  static NameEntry.Records records(String name, InetAddress address, long ttl, long legacyTtl) {
    DnsRecordType type = address instanceof Inet4Address ? DnsRecordType.A : DnsRecordType.AAAA;
    byte[] rdata = address.getAddress();
    String fqdn = name + ".";
    int nameLength = fqdn.length() + 1; // length bytes replace the dots, plus the root label
    byte[] mdns = encode(fqdn, type, CLASS_IN | CACHE_FLUSH, ttl, rdata);
    byte[] unicast = encode(fqdn, type, CLASS_IN, ttl, rdata);
    byte[] legacy = encode(fqdn, type, CLASS_IN, legacyTtl, rdata);
    byte[] goodbye = encode(fqdn, type, CLASS_IN | CACHE_FLUSH, 0, rdata);
    return new NameEntry.Records(rdata, mdns, tail(unicast, nameLength), tail(legacy, nameLength), goodbye);
  }

  private static byte[] tail(byte[] record, int nameLength) {
    byte[] t = new byte[record.length - nameLength];
    System.arraycopy(record, nameLength, t, 0, t.length);
    return t;
  }

  private static byte[] encode(String fqdn, DnsRecordType type, int dnsClass, long ttl, byte[] rdata) {
    DefaultDnsRawRecord record = new DefaultDnsRawRecord(fqdn, type, dnsClass, ttl, Unpooled.wrappedBuffer(rdata));
    ByteBuf buf = Unpooled.buffer(fqdn.length() + 32);
    try {
      DnsRecordEncoder.DEFAULT.encodeRecord(record, buf);
      byte[] out = new byte[buf.readableBytes()];
      buf.readBytes(out);
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("cannot encode " + type + " record for " + fqdn, e);
    } finally {
      buf.release();
      record.release();
    }
  }
}
