package io.semnet.mqtt.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Whatever bytes arrive on an MQTT topic, the envelope decoder either yields a well-formed inbound
 * message or throws {@link Envelope.Rejected}: no other exception can reach the transport's
 * callback thread. What decodes re-encodes to the same message.
 */
class EnvelopeFuzzTest {
  private static final Envelope CODEC = new Envelope(1, 1, 1 << 20);

  @FuzzTest(maxDuration = "60s")
  void decode(byte[] data) {
    Envelope.Inbound in;
    try {
      in = CODEC.decode(data);
    } catch (Envelope.Rejected expected) {
      return;
    }
    if (in.message() == null) {
      return; // presence: nothing to round-trip
    }
    Envelope.Inbound again;
    try {
      again = CODEC.decode(CODEC.message(in.version(), in.kind(), in.id(), in.message()));
    } catch (Envelope.Rejected e) {
      throw new AssertionError("re-encoded " + in.message() + " was rejected: " + e.reason + " " + e.getMessage());
    }
    if (!again.message().equals(in.message()) || again.id() != in.id() || !again.kind().equals(in.kind())) {
      throw new AssertionError("round trip changed " + in + " into " + again);
    }
  }
}
