package io.semnet.control;

import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.InProcessTransport;

/** The behavioural suite over the in-process transport. */
class InProcessControlPlaneTest extends ControlPlaneBehaviourTest {
  private InProcessTransport inProcess;

  @Override
  protected ControlTransport newTransport() {
    inProcess = InProcessTransport.builder().threads(2).build();
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
