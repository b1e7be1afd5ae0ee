package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.tunnel.CipherSuite;
import io.semnet.tunnel.internal.noise.Handshake.Drop;
import io.semnet.tunnel.internal.noise.Handshake.Pending;
import io.semnet.tunnel.internal.noise.Handshake.Reply;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The initiator/responder state machine: keys, refusals, counters. */
class HandshakeTest {
  private final Nodes nodes = new Nodes();

  private Nodes.Node[] pair(CipherSuite suite) {
    Nodes.Node a = nodes.node(suite);
    Nodes.Node b = nodes.node(suite);
    a.knows(b);
    b.knows(a);
    return new Nodes.Node[] {a, b};
  }

  @ParameterizedTest
  @EnumSource(CipherSuite.class)
  void initiatorAndResponderDeriveMatchingKeys(CipherSuite suite) {
    Nodes.Node[] ab = pair(suite);
    Nodes.Node a = ab[0];
    Nodes.Node b = ab[1];
    Pending p = a.hs.initiate(b.pub(), a.hs.cookieGenerator(b.pub()));
    assertEquals(HandshakeCodec.INITIATION_BYTES, p.message().length);
    Reply r = b.hs.respond(p.message(), Nodes.SRC_A, false);
    assertNull(r.drop());
    assertEquals(HandshakeCodec.RESPONSE_BYTES, r.message().length);
    SessionKeys bk = r.keys();
    SessionKeys ak = a.hs.complete(p, r.message());
    assertNotNull(ak);

    assertArrayEquals(ak.sendKey(), bk.receiveKey());
    assertArrayEquals(ak.receiveKey(), bk.sendKey());
    assertFalse(Arrays.equals(ak.sendKey(), ak.receiveKey()), "one key per direction");
    assertArrayEquals(ak.handshakeHash(), bk.handshakeHash());
    assertEquals(p.senderIndex(), ak.localIndex());
    assertEquals(ak.localIndex(), bk.remoteIndex());
    assertEquals(bk.localIndex(), ak.remoteIndex());
    assertArrayEquals(b.pub(), ak.peerStatic());
    assertArrayEquals(a.pub(), bk.peerStatic());
    assertTrue(ak.initiator());
    assertFalse(bk.initiator());
    assertEquals(4, b.hs.x25519Operations(), "responder: es, ss, ee, se");
    assertEquals(4, a.hs.x25519Operations(), "initiator: es, ss, ee, se");

    // The keys work with the suite's AEAD.
    CipherState send = new CipherState(suite);
    send.initializeKey(ak.sendKey());
    CipherState recv = new CipherState(suite);
    recv.initializeKey(bk.receiveKey());
    assertArrayEquals(new byte[] {1, 2, 3}, recv.decryptWithAd(new byte[0], send.encryptWithAd(new byte[0], new byte[] {1, 2, 3})));

    // A second response to the same initiation is refused.
    assertNull(a.hs.complete(p, r.message()));
    assertEquals(1, a.hs.dropped(Drop.UNEXPECTED));
  }

  @Test
  void replayedInitiationIsRefused() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    Pending p = ab[0].hs.initiate(ab[1].pub(), ab[0].hs.cookieGenerator(ab[1].pub()));
    assertNull(ab[1].hs.respond(p.message(), Nodes.SRC_A, false).drop());
    nodes.advanceMillis(1000);
    Reply again = ab[1].hs.respond(p.message(), Nodes.SRC_A, false);
    assertEquals(Drop.REPLAYED_TIMESTAMP, again.drop());
    assertNull(again.keys());
    assertNull(again.message());
    assertEquals(1, ab[1].hs.dropped(Drop.REPLAYED_TIMESTAMP));
    // A fresh initiation is accepted.
    Pending q = ab[0].hs.initiate(ab[1].pub(), ab[0].hs.cookieGenerator(ab[1].pub()));
    assertNull(ab[1].hs.respond(q.message(), Nodes.SRC_A, false).drop());
  }

  @Test
  void replayFloorSurvivesResponderRestartThroughTheStore() {
    Nodes.Node a = nodes.node();
    Nodes.Node b = nodes.node();
    a.knows(b);
    b.knows(a);
    Pending p = a.hs.initiate(b.pub(), a.hs.cookieGenerator(b.pub()));
    assertNull(b.hs.respond(p.message(), Nodes.SRC_A, false).drop());
    // "Restart" b: a new Handshake with the same key pair and store.
    Handshake restarted = new Handshake(CipherSuite.AES_256_GCM, b.keys, k -> true, b.store,
        new SourceRateLimiter(16, 20, 5, nodes.nanos::get), () -> 7, nodes.nanos::get, nodes.clock());
    assertEquals(Drop.REPLAYED_TIMESTAMP, restarted.respond(p.message(), Nodes.SRC_A, false).drop());
  }

  @Test
  void wrongMac1IsDroppedBeforeAnyX25519() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    Nodes.Node c = nodes.node();
    Pending p = ab[0].hs.initiate(ab[1].pub(), ab[0].hs.cookieGenerator(ab[1].pub()));
    byte[] flipped = p.message();
    flipped[Macs.mac1Offset(flipped.length)] ^= 1;
    assertEquals(Drop.BAD_MAC1, ab[1].hs.respond(flipped, Nodes.SRC_A, false).drop());
    // A valid initiation for another node has the wrong mac1 here too.
    Pending forC = ab[0].hs.initiate(c.pub(), ab[0].hs.cookieGenerator(c.pub()));
    assertEquals(Drop.BAD_MAC1, ab[1].hs.respond(forC.message(), Nodes.SRC_A, false).drop());
    // Garbage of the right length and header.
    byte[] garbage = new byte[HandshakeCodec.INITIATION_BYTES];
    garbage[0] = 2;
    garbage[1] = 1;
    assertEquals(Drop.BAD_MAC1, ab[1].hs.respond(garbage, Nodes.SRC_A, false).drop());
    assertEquals(3, ab[1].hs.dropped(Drop.BAD_MAC1));
    assertEquals(0, ab[1].hs.x25519Operations());
  }

  @Test
  void initiationFromUnknownStaticKeyIsRefused() {
    Nodes.Node a = nodes.node();
    Nodes.Node b = nodes.node();
    a.knows(b); // b does not know a
    Pending p = a.hs.initiate(b.pub(), a.hs.cookieGenerator(b.pub()));
    Reply r = b.hs.respond(p.message(), Nodes.SRC_A, false);
    assertEquals(Drop.UNKNOWN_PEER, r.drop());
    assertNull(r.message());
    assertEquals(1, b.hs.dropped(Drop.UNKNOWN_PEER));
    assertEquals(1, b.hs.x25519Operations(), "refused after es, before ss");
  }

  @Test
  void tamperedInitiationWithValidMac1IsRefused() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    CookieGenerator gen = ab[0].hs.cookieGenerator(ab[1].pub());
    byte[] msg = ab[0].hs.initiate(ab[1].pub(), gen).message();
    msg[60] ^= 1; // inside the encrypted static key
    gen.stamp(msg); // a fresh valid mac1
    assertEquals(Drop.BAD_HANDSHAKE, ab[1].hs.respond(msg, Nodes.SRC_A, false).drop());
  }

  @Test
  void twoHandshakesBetweenTheSameKeysGiveDifferentKeys() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    SessionKeys[] first = run(ab[0], ab[1]);
    SessionKeys[] second = run(ab[0], ab[1]);
    assertFalse(Arrays.equals(first[0].sendKey(), second[0].sendKey()));
    assertFalse(Arrays.equals(first[0].receiveKey(), second[0].receiveKey()));
    assertFalse(Arrays.equals(first[0].handshakeHash(), second[0].handshakeHash()));
    // Also when the roles swap.
    SessionKeys[] swapped = run(ab[1], ab[0]);
    assertFalse(Arrays.equals(first[0].sendKey(), swapped[1].sendKey()));
  }

  @Test
  void responseFromWrongResponderOrTamperedIsRefused() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    Nodes.Node a = ab[0];
    Nodes.Node b = ab[1];
    Pending p = a.hs.initiate(b.pub(), a.hs.cookieGenerator(b.pub()));
    byte[] resp = b.hs.respond(p.message(), Nodes.SRC_A, false).message();
    byte[] wrongIndex = resp.clone();
    wrongIndex[8] ^= 1; // receiver index
    assertNull(a.hs.complete(p, wrongIndex));
    assertEquals(1, a.hs.dropped(Drop.UNEXPECTED));
    byte[] badMac = resp.clone();
    badMac[Macs.mac1Offset(badMac.length) + 3] ^= 1;
    assertNull(a.hs.complete(p, badMac));
    assertEquals(1, a.hs.dropped(Drop.BAD_MAC1));
    byte[] tampered = resp.clone();
    tampered[20] ^= 1; // inside the responder's ephemeral key
    new CookieGenerator(CipherSuite.AES_256_GCM, a.pub(), nodes.nanos::get).stamp(tampered);
    assertNull(a.hs.complete(p, tampered));
    assertEquals(1, a.hs.dropped(Drop.BAD_HANDSHAKE));
  }

  @Test
  void underLoadACookieIsRequiredAndThenAccepted() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    Nodes.Node a = ab[0];
    Nodes.Node b = ab[1];
    CookieGenerator gen = a.hs.cookieGenerator(b.pub());
    Pending p = a.hs.initiate(b.pub(), gen);
    Reply r = b.hs.respond(p.message(), Nodes.SRC_A, true);
    assertEquals(Drop.COOKIE_REQUIRED, r.drop());
    assertEquals(HandshakeCodec.COOKIE_REPLY_BYTES, r.message().length);
    assertEquals(0, b.hs.x25519Operations(), "no asymmetric work before the cookie round trip");
    assertTrue(a.hs.acceptCookieReply(p, r.message()));
    assertTrue(gen.hasFreshCookie());

    Pending retry = a.hs.initiate(b.pub(), gen);
    // From another source port the cookie does not match.
    assertEquals(Drop.COOKIE_REQUIRED, b.hs.respond(retry.message(), new InetSocketAddress("127.0.0.1", 40002), true).drop());
    Reply ok = b.hs.respond(retry.message(), Nodes.SRC_A, true);
    assertNull(ok.drop());
    assertNotNull(a.hs.complete(retry, ok.message()));
    // A cookie reply replayed against a later initiation (other mac1) does not open.
    assertFalse(a.hs.acceptCookieReply(retry, r.message()));
  }

  @Test
  void perSourceRateLimitAppliesAfterTheMacs() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    CookieGenerator gen = ab[0].hs.cookieGenerator(ab[1].pub());
    int accepted = 0;
    for (int i = 0; i < SourceRateLimiter.DEFAULT_BURST + 3; i++) {
      Reply r = ab[1].hs.respond(ab[0].hs.initiate(ab[1].pub(), gen).message(), Nodes.SRC_A, false);
      if (r.drop() == null) {
        accepted++;
      }
    }
    assertEquals(SourceRateLimiter.DEFAULT_BURST, accepted);
    assertEquals(3, ab[1].hs.dropped(Drop.RATE_LIMITED));
    nodes.advanceMillis(1000 / SourceRateLimiter.DEFAULT_PER_SECOND);
    assertNull(ab[1].hs.respond(ab[0].hs.initiate(ab[1].pub(), gen).message(), Nodes.SRC_A, false).drop());
  }

  @Test
  void sessionKeysExpireAfterRejectAfterTime() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    SessionKeys k = run(ab[0], ab[1])[0];
    long created = k.createdNanos();
    assertFalse(k.expired(created + SessionKeys.REJECT_AFTER_TIME_NANOS - 1));
    assertTrue(k.expired(created + SessionKeys.REJECT_AFTER_TIME_NANOS));
  }

  @Test
  void garbageAndWrongTypesAreMalformed() {
    Nodes.Node[] ab = pair(CipherSuite.AES_256_GCM);
    Pending p = ab[0].hs.initiate(ab[1].pub(), ab[0].hs.cookieGenerator(ab[1].pub()));
    assertEquals(Drop.MALFORMED, ab[1].hs.respond(new byte[0], Nodes.SRC_A, false).drop());
    assertEquals(Drop.MALFORMED, ab[1].hs.respond(Arrays.copyOf(p.message(), 147), Nodes.SRC_A, false).drop());
    assertNull(ab[0].hs.complete(p, p.message()), "an initiation is not a response");
    assertEquals(1, ab[0].hs.dropped(Drop.MALFORMED));
    assertFalse(ab[0].hs.acceptCookieReply(p, new byte[] {2, 3, 0, 0}));
  }

  private SessionKeys[] run(Nodes.Node i, Nodes.Node r) {
    nodes.advanceMillis(1000);
    Pending p = i.hs.initiate(r.pub(), i.hs.cookieGenerator(r.pub()));
    Reply reply = r.hs.respond(p.message(), Nodes.SRC_A, false);
    assertNull(reply.drop());
    SessionKeys ik = i.hs.complete(p, reply.message());
    assertNotNull(ik);
    return new SessionKeys[] {ik, reply.keys()};
  }
}
