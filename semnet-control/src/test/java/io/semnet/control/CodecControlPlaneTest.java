package io.semnet.control;

import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.InProcessTransport;

/**
 * The behavioural suite with every message encoded to JSON and decoded again on each hop, so the
 * wire codec carries everything the protocol needs (signatures verify after a round trip).
 */
class CodecControlPlaneTest extends ControlPlaneBehaviourTest {
  private InProcessTransport inProcess;

  @Override
  protected ControlTransport newTransport() {
    inProcess = InProcessTransport.builder().codec(m -> WireCodec.decode(WireCodec.encode(m))).build();
    return inProcess;
  }

  @Override
  protected void cut(String id) {
    inProcess.setReachable(id, false);
  }

  @Override
  protected void heal(String id) {
    inProcess.setReachable(id, true);
  }
}
