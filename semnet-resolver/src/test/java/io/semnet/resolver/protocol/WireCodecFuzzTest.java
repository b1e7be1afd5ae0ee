package io.semnet.resolver.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;

/** Decoding arbitrary bytes either yields a message or throws MalformedMessageException; nothing else. */
class WireCodecFuzzTest {
  @FuzzTest(maxDuration = "60s")
  void decode(byte[] data) {
    ControlMessage m;
    try {
      m = WireCodec.decode(data);
    } catch (MalformedMessageException expected) {
      return;
    }
    // What decodes must encode and decode to the same message.
    ControlMessage again = WireCodec.decode(WireCodec.encode(m));
    if (!again.equals(m)) {
      throw new AssertionError("round trip changed " + m + " into " + again);
    }
  }
}
