package io.semnet.mdns.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Builds raw DNS queries and decodes replies with Netty's decoder, for tests. */
public final class Wire {
  private Wire() {}

  public static byte[] query(int id, int flags, String name, int type, int qclass) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    short16(out, id);
    short16(out, flags);
    short16(out, 1);
    short16(out, 0);
    short16(out, 0);
    short16(out, 0);
    name(out, name);
    short16(out, type);
    short16(out, qclass);
    return out.toByteArray();
  }

  public static byte[] query(int id, String name, int type) {
    return query(id, 0x0100, name, type, 1);
  }

  public static void name(ByteArrayOutputStream out, String name) {
    if (!name.isEmpty() && !name.equals(".")) {
      for (String label : name.split("\\.")) {
        byte[] b = label.getBytes(StandardCharsets.US_ASCII);
        out.write(b.length);
        out.write(b, 0, b.length);
      }
    }
    out.write(0);
  }

  public static void short16(ByteArrayOutputStream out, int v) {
    out.write((v >>> 8) & 0xff);
    out.write(v & 0xff);
  }

  public static ByteBuf buf(byte[] b) {
    return Unpooled.wrappedBuffer(b);
  }

  /** Decodes a reply with Netty (which follows compression pointers). Caller releases. */
  public static DatagramDnsResponse decode(byte[] reply) {
    EmbeddedChannel ch = new EmbeddedChannel(new DatagramDnsResponseDecoder());
    InetSocketAddress a = new InetSocketAddress("127.0.0.1", 53);
    ch.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(reply), a, a));
    DatagramDnsResponse r = ch.readInbound();
    ch.finishAndReleaseAll();
    return r;
  }
}
