package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.tunnel.internal.noise.HandshakeCodec.CookieReply;
import io.semnet.tunnel.internal.noise.HandshakeCodec.Initiation;
import io.semnet.tunnel.internal.noise.HandshakeCodec.Parsed;
import io.semnet.tunnel.internal.noise.HandshakeCodec.Response;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Round trips, exact lengths and clear errors of the handshake message codec. */
class HandshakeCodecTest {
  static Initiation initiation() {
    return new Initiation(0xdeadbeef, filled(32, 1), filled(48, 2), filled(28, 3), filled(16, 4), filled(16, 5));
  }

  static Response response() {
    return new Response(0x01020304, 0xfffffffe, filled(32, 6), filled(16, 7), filled(16, 8), filled(16, 9));
  }

  static CookieReply cookieReply() {
    return new CookieReply(42, filled(12, 10), filled(32, 11));
  }

  @Test
  void messagesRoundTripWithTheirDocumentedSizes() {
    assertEquals(148, HandshakeCodec.INITIATION_BYTES);
    assertEquals(92, HandshakeCodec.RESPONSE_BYTES);
    assertEquals(52, HandshakeCodec.COOKIE_REPLY_BYTES);
    for (HandshakeCodec.Message m : List.of(initiation(), response(), cookieReply())) {
      byte[] wire = HandshakeCodec.serialize(m);
      assertEquals(HandshakeCodec.VERSION, wire[0]);
      Parsed p = HandshakeCodec.parse(wire, 0, wire.length);
      assertTrue(p.ok(), p.error());
      assertNull(p.error());
      assertEquals(m.getClass(), p.message().getClass());
      assertArrayEquals(wire, HandshakeCodec.serialize(p.message()));
    }
    byte[] wire = HandshakeCodec.serialize(initiation());
    assertArrayEquals(new byte[] {2, 1, 0, 0, (byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef}, Arrays.copyOf(wire, 8));
    Initiation back = (Initiation) HandshakeCodec.parse(wire, 0, wire.length).message();
    assertEquals(0xdeadbeef, back.senderIndex());
    assertArrayEquals(filled(28, 3), back.encryptedTimestamp());
    Response r = (Response) HandshakeCodec.parse(HandshakeCodec.serialize(response()), 0, 92).message();
    assertEquals(0xfffffffe, r.receiverIndex());
  }

  @Test
  void parsesAtAnOffset() {
    byte[] wire = HandshakeCodec.serialize(cookieReply());
    byte[] padded = new byte[wire.length + 10];
    System.arraycopy(wire, 0, padded, 5, wire.length);
    Parsed p = HandshakeCodec.parse(padded, 5, wire.length);
    assertInstanceOf(CookieReply.class, p.message());
    assertEquals(42, ((CookieReply) p.message()).receiverIndex());
  }

  @Test
  void everyTruncationAndExtensionIsAClearError() {
    for (HandshakeCodec.Message m : List.of(initiation(), response(), cookieReply())) {
      byte[] wire = HandshakeCodec.serialize(m);
      for (int len = 0; len < wire.length; len++) {
        Parsed p = HandshakeCodec.parse(Arrays.copyOf(wire, len), 0, len);
        assertFalse(p.ok());
        assertTrue(p.error().contains("truncated") || p.error().contains("got " + len), p.error());
      }
      // an initiation may carry up to MAX_EXTRA_PAYLOAD_BYTES more payload (the tunnel's certificate); nothing beyond
      int tooLong = m instanceof HandshakeCodec.Initiation ? HandshakeCodec.MAX_INITIATION_BYTES + 1 : wire.length + 1;
      Parsed longer = HandshakeCodec.parse(Arrays.copyOf(wire, tooLong), 0, tooLong);
      assertFalse(longer.ok());
      assertTrue(longer.error().contains("got " + tooLong), longer.error());
    }
    byte[] init = HandshakeCodec.serialize(initiation());
    int withCert = init.length + 200;
    byte[] extended = Arrays.copyOf(init, withCert);
    Parsed p = HandshakeCodec.parse(extended, 0, withCert);
    assertTrue(p.ok(), p.error());
    assertEquals(28 + 200, ((HandshakeCodec.Initiation) p.message()).encryptedTimestamp().length);
    assertArrayEquals(extended, HandshakeCodec.serialize(p.message()));
  }

  @Test
  void badHeadersAndBoundsAreErrors() {
    byte[] wire = HandshakeCodec.serialize(initiation());
    byte[] v = wire.clone();
    v[0] = 1;
    assertEquals("unknown version 1", HandshakeCodec.parse(v, 0, v.length).error());
    byte[] t = wire.clone();
    t[1] = 9;
    assertEquals("unknown type 9", HandshakeCodec.parse(t, 0, t.length).error());
    byte[] r = wire.clone();
    r[3] = 1;
    assertEquals("reserved header bytes are not zero", HandshakeCodec.parse(r, 0, r.length).error());
    assertEquals("bad buffer bounds", HandshakeCodec.parse(null, 0, 0).error());
    assertEquals("bad buffer bounds", HandshakeCodec.parse(wire, 10, wire.length).error());
    assertEquals("bad buffer bounds", HandshakeCodec.parse(wire, -1, 4).error());
    assertEquals("bad buffer bounds", HandshakeCodec.parse(wire, 0, -4).error());
    assertEquals(HandshakeCodec.TYPE_INITIATION, HandshakeCodec.type(wire, 0, wire.length));
    assertEquals(-1, HandshakeCodec.type(v, 0, v.length));
  }

  @Test
  void messagesAreImmutable() {
    byte[] eph = filled(32, 1);
    Initiation i = new Initiation(1, eph, filled(48, 2), filled(28, 3), filled(16, 4), filled(16, 5));
    eph[0] = 99;
    i.ephemeral()[0] = 98;
    assertEquals(1, i.ephemeral()[0]);
    assertThrows(IllegalArgumentException.class, () -> new CookieReply(1, new byte[11], new byte[32]));
  }

  static byte[] filled(int n, int v) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) v);
    return b;
  }
}
