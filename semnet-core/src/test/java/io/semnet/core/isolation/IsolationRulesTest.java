package io.semnet.core.isolation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.service.ServiceId;
import org.junit.jupiter.api.Test;

class IsolationRulesTest {
  private final ServiceId tumA = ServiceId.of("pipeline", "tum", "capture", "prod");
  private final ServiceId tumB = ServiceId.of("other", "tum", "db", "dev");
  private final ServiceId lmu = ServiceId.of("shop", "lmu", "api", "prod");

  @Test
  void sameAppNamespaceIsOpenOthersAreClosed() {
    assertTrue(IsolationRules.DEFAULT.mayReach(tumA, tumB));
    assertFalse(IsolationRules.DEFAULT.mayReach(tumA, lmu));
    assertFalse(IsolationRules.DEFAULT.mayReach(lmu, tumA));
  }

  @Test
  void grantsAreDirectionalAndSelective() {
    IsolationRules r = IsolationRules.DEFAULT.withGrant(
        Grant.of(ServiceSelector.parse("lmu/shop"), ServiceSelector.service(tumA)));
    assertTrue(r.mayReach(lmu, tumA));
    assertFalse(r.mayReach(tumA, lmu), "grants open one direction only");
    assertFalse(r.mayReach(lmu, tumB), "only the granted service");
    assertFalse(r.mayReach(ServiceId.of("blog", "lmu", "web", "prod"), tumA), "only the granted app");
    assertFalse(r.withoutGrant(r.grants().get(0)).mayReach(lmu, tumA));
  }
}
