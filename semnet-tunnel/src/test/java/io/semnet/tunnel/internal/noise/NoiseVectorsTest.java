package io.semnet.tunnel.internal.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.tunnel.CipherSuite;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Cacophony vectors for {@code Noise_IK_25519_{AESGCM,ChaChaPoly}_SHA256} (see the NOTICE next
 * to the JSON file): fed the vectors' keys, ephemerals, prologue and payloads, both sides produce
 * every message byte for byte (two handshake messages, then transport messages alternating
 * initiator→responder and responder→initiator), the other side reads each back to the payload,
 * and both end with the vector's handshake hash.
 */
class NoiseVectorsTest {
  private static final HexFormat HEX = HexFormat.of();

  static Stream<JsonNode> vectors() throws Exception {
    try (InputStream in = NoiseVectorsTest.class.getResourceAsStream("noise-ik-vectors.json")) {
      assertNotNull(in, "vector file missing");
      JsonNode root = new ObjectMapper().readTree(in);
      assertTrue(root.get("source").asText().contains("Cacophony"), "attribution kept");
      List<JsonNode> out = new ArrayList<>();
      root.get("vectors").forEach(out::add);
      assertEquals(2, out.size());
      return out.stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void handshakeAndTransportMatchByteForByte(JsonNode v) {
    String name = v.get("protocol_name").asText();
    CipherSuite suite = switch (name) {
      case "Noise_IK_25519_AESGCM_SHA256" -> CipherSuite.AES_256_GCM;
      case "Noise_IK_25519_ChaChaPoly_SHA256" -> CipherSuite.CHACHA20_POLY1305;
      default -> throw new AssertionError("unexpected vector " + name);
    };
    assertEquals(name, Noise.protocolName(suite));
    HandshakeState init = HandshakeState.initiator(suite, hex(v, "init_prologue"), key(v, "init_static"),
        hex(v, "init_remote_static"), key(v, "init_ephemeral"));
    HandshakeState resp = HandshakeState.responder(suite, hex(v, "resp_prologue"), key(v, "resp_static"), key(v, "resp_ephemeral"));

    JsonNode messages = v.get("messages");
    assertTrue(messages.size() > 2, "vector has transport messages");
    CipherState[] initCs = null;
    CipherState[] respCs = null;
    for (int i = 0; i < messages.size(); i++) {
      byte[] payload = HEX.parseHex(messages.get(i).get("payload").asText());
      byte[] expected = HEX.parseHex(messages.get(i).get("ciphertext").asText());
      boolean fromInitiator = i % 2 == 0;
      byte[] written;
      byte[] read;
      if (i < 2) {
        HandshakeState w = fromInitiator ? init : resp;
        HandshakeState r = fromInitiator ? resp : init;
        written = w.writeMessage(payload);
        read = r.readMessage(written);
      } else {
        if (initCs == null) {
          initCs = init.split();
          respCs = resp.split();
        }
        // split()[0] carries initiator→responder, [1] responder→initiator.
        CipherState enc = fromInitiator ? initCs[0] : respCs[1];
        CipherState dec = fromInitiator ? respCs[0] : initCs[1];
        written = enc.encryptWithAd(new byte[0], payload);
        read = dec.decryptWithAd(new byte[0], written);
      }
      assertEquals(HEX.formatHex(expected), HEX.formatHex(written), name + " message " + i);
      assertArrayEquals(payload, read, name + " message " + i + " read back");
      if (i == 1) {
        assertTrue(init.isComplete() && resp.isComplete());
        assertEquals(v.get("handshake_hash").asText(), HEX.formatHex(init.handshakeHash()), name + " initiator hash");
        assertEquals(v.get("handshake_hash").asText(), HEX.formatHex(resp.handshakeHash()), name + " responder hash");
        assertArrayEquals(key(v, "init_static").publicKey(), resp.remoteStatic(), "responder learnt the initiator's key");
      }
    }
  }

  private static byte[] hex(JsonNode v, String field) {
    return HEX.parseHex(v.get(field).asText());
  }

  private static DhKeyPair key(JsonNode v, String field) {
    return DhKeyPair.fromPrivate(hex(v, field));
  }
}
