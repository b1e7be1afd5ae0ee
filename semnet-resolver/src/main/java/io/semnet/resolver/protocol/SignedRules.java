package io.semnet.resolver.protocol;

import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.Canonical;
import java.util.Arrays;
import java.util.Objects;

/**
 * A version of the platform's isolation rules (the grants), signed by the root: a forged grant
 * would open a path between namespaces, so nodes accept only signed rules. Versions only grow.
 * Immutable.
 */
public final class SignedRules {
  private final long version;
  private final IsolationRules rules;
  private final byte[] signature;

  private SignedRules(long version, IsolationRules rules, byte[] signature) {
    this.version = version;
    this.rules = Objects.requireNonNull(rules, "rules");
    this.signature = signature == null ? null : signature.clone();
  }

  public static SignedRules sign(long version, IsolationRules rules, RootAuthority authority) {
    return new SignedRules(version, rules, authority.sign(Canonical.rulesBody(version, rules.grants())));
  }

  public static SignedRules of(long version, IsolationRules rules, byte[] signature) {
    return new SignedRules(version, rules, signature);
  }

  public long version() {
    return version;
  }

  public IsolationRules rules() {
    return rules;
  }

  public byte[] signature() {
    return signature == null ? null : signature.clone();
  }

  public boolean verify(RootTrust trust) {
    return signature != null && trust != null && trust.verify(Canonical.rulesBody(version, rules.grants()), signature);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedRules && ((SignedRules) o).version == version && ((SignedRules) o).rules.equals(rules)
        && Arrays.equals(((SignedRules) o).signature, signature);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(version) * 31 + rules.hashCode();
  }

  @Override
  public String toString() {
    return "SignedRules{v" + version + " " + rules + "}";
  }
}
