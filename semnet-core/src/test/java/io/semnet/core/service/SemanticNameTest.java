package io.semnet.core.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SemanticNameTest {
  private static final Set<String> POLICIES = Set.of("rr", "closest", "hc");

  /** The rows of thesis table 3.4, with the .local the grammar requires. */
  @ParameterizedTest
  @CsvSource({
    "test.tum.login.dev.0.none.local, 0,",
    "test.tum.login.dev.1.none.local, 1,",
    "test.tum.login.dev.2.none.local, 2,",
    "test.tum.login.dev.any.rr.local, , rr",
    "test.tum.login.dev.any.closest.local, , closest",
    "test.tum.login.prod.any.rr.local, , rr",
    "test.tum.login.prod.any.closest.local, , closest",
  })
  void thesisTableNamesParse(String text, Integer instance, String policy) {
    SemanticName n = SemanticName.parse(text, POLICIES::contains);
    assertEquals("test", n.service().app());
    assertEquals("tum", n.service().appNamespace());
    assertEquals("login", n.service().service());
    if (instance != null) {
      assertTrue(n.isInstance());
      assertEquals(instance.intValue(), n.instance());
    } else {
      assertFalse(n.isInstance());
      assertEquals(policy, n.policy());
    }
    assertEquals(text, n.toString());
    assertEquals(n, SemanticName.parse(n.toString(), POLICIES::contains));
  }

  @Test
  void namesAreCaseInsensitiveAndTrailingDotIsAccepted() {
    SemanticName n = SemanticName.parse("Pipeline.TUM.Capture.Prod.ANY.RR.LOCAL.", POLICIES::contains);
    assertEquals("pipeline.tum.capture.prod.any.rr.local", n.toString());
    assertEquals(ServiceId.of("pipeline", "tum", "capture", "prod"), n.service());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "test.tum.login.dev.0.rr.local | policy must be 'none'",
    "test.tum.login.dev.any.none.local | 'any.none' names no address",
    "test.tum.login.dev.any.fastest2.local | unknown routing policy 'fastest2'",
    "test.tum.login.dev.any.rr | expected 7 labels",
    "test.tum.login.dev.extra.any.rr.local | expected 7 labels",
    "test.tum.login.dev.any.rr.com | must end in .local",
    "test.tum.login.dev.-1.none.local | not a valid label",
    "test.tum.login.dev.01.none.local | instance must be 'any' or a non-negative integer",
    "test.tum.login.dev.x1.none.local | instance must be 'any' or a non-negative integer",
    "test.tum.log_in.dev.0.none.local | service 'log_in' is not a valid label",
    "test..login.dev.0.none.local | app namespace '' is not a valid label",
    "test.tum.login.dev.any.any.local | 'any' is not a policy",
  })
  void invalidNamesAreRejectedWithAReason(String text, String reason) {
    InvalidNameException e = assertThrows(InvalidNameException.class, () -> SemanticName.parse(text, POLICIES::contains));
    assertTrue(e.reason().contains(reason), () -> "reason was: " + e.reason());
    SemanticName.Result r = SemanticName.tryParse(text, POLICIES::contains);
    assertFalse(r.isValid());
    assertEquals(e.reason(), r.reason());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "local", "a.b.c.d.e.f.local.x"})
  void degenerateInputIsRejected(String text) {
    assertFalse(SemanticName.tryParse(text, POLICIES::contains).isValid());
  }

  @Test
  void labelsLongerThan63AreRejected() {
    String longLabel = "a".repeat(64);
    assertThrows(IllegalArgumentException.class, () -> ServiceId.of(longLabel, "b", "c", "d"));
    assertTrue(SemanticName.tryParse(longLabel + ".b.c.d.0.none.local", p -> true).reason().contains("longer than 63"));
  }

  @Test
  void formattingRoundTripsForGeneratedNames() {
    ServiceId s = ServiceId.of("A-1", "b2", "c", "d-e");
    for (int i = 0; i < 1000; i += 37) {
      SemanticName n = SemanticName.ofInstance(s, i);
      assertEquals(n, SemanticName.parse(n.toString()));
    }
    SemanticName p = SemanticName.ofPolicy(s, "closesthc");
    assertEquals(p, SemanticName.parse(p.toString()));
    assertThrows(IllegalArgumentException.class, () -> SemanticName.ofPolicy(s, "none"));
    assertThrows(IllegalArgumentException.class, () -> SemanticName.ofInstance(s, -1));
  }

  /** Every proper suffix of a valid name, and only those, is a valid ancestor (RFC 8020). */
  @ParameterizedTest
  @ValueSource(strings = {
    "local", "LOCAL.", "none.local", "rr.local", "0.none.local", "any.rr.local", "17.None.Local",
    "dev.any.closest.local", "login.dev.0.none.local", "tum.login.dev.any.hc.local", "prod.any.rr.local",
  })
  void suffixesOfValidNamesAreValidAncestors(String text) {
    assertTrue(SemanticName.isValidAncestor(text, POLICIES::contains), text);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "example", "none.example", "any.local", "nosuch.local", "any.none.local", "0.rr.local", "01.none.local",
    "x.none.local", "any.any.local", "any.nosuch.local", "d_v.0.none.local", "-x.any.rr.local",
    "tum.login.dev..none.local", "test.tum.login.dev.0.none.local", "x.test.tum.login.dev.any.rr.local",
  })
  void otherNamesAreNotValidAncestors(String text) {
    assertFalse(SemanticName.isValidAncestor(text, POLICIES::contains), text);
  }

  @Test
  void serviceIdParsesItsOwnFormat() {
    ServiceId id = ServiceId.parse("Pipeline.tum.capture.prod");
    assertEquals("pipeline.tum.capture.prod", id.toString());
    assertThrows(IllegalArgumentException.class, () -> ServiceId.parse("a.b.c"));
  }
}
