package io.semnet.resolver.enrol;

import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.EnrolmentProof;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A join token as issued by the root ({@code Orchestration.issueJoinToken}): the token string
 * {@code <id>.<secret>} (6 and 32 lower-case hex/alphanumeric characters, like {@code kubeadm}'s)
 * that a node needs to enrol, plus the root key hash it pins and the token's terms. The id travels
 * on the wire and selects the secret at the root; the secret never does. {@link #toString()} hides
 * the secret. Immutable.
 */
public final class JoinToken {
  private static final Pattern FORM = Pattern.compile("([a-z0-9]{6})\\.([0-9a-f]{32})");

  private final String id;
  private final byte[] secret;
  private final String clusterId;
  private final Instant expiresAt;
  private final boolean oneTime;
  private final String rootKeyHash;

  /**
   * @param id the token id (6 characters of {@code [a-z0-9]})
   * @param secret 16 bytes
   */
  public JoinToken(String id, byte[] secret, String clusterId, Instant expiresAt, boolean oneTime, String rootKeyHash) {
    if (id == null || !id.matches("[a-z0-9]{6}")) {
      throw new IllegalArgumentException("join token id must be 6 characters of [a-z0-9]");
    }
    if (secret == null || secret.length != 16) {
      throw new IllegalArgumentException("join token secret must have 16 bytes");
    }
    this.id = id;
    this.secret = secret.clone();
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
    this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
    this.oneTime = oneTime;
    this.rootKeyHash = Objects.requireNonNull(rootKeyHash, "rootKeyHash");
  }

  /** The string a node is given: {@code <id>.<secret as 32 hex digits>}. Keep it secret. */
  public String token() {
    return id + "." + HexFormat.of().formatHex(secret);
  }

  /** The public half (travels on the wire). */
  public String id() {
    return id;
  }

  /** The cluster a node enrolled with this token joins. */
  public String clusterId() {
    return clusterId;
  }

  public Instant expiresAt() {
    return expiresAt;
  }

  /** Whether the first successful enrolment consumes the token. */
  public boolean oneTime() {
    return oneTime;
  }

  /** {@code sha256:<hex>} of the root's public key: the node pins the root by it. */
  public String rootKeyHash() {
    return rootKeyHash;
  }

  /** The hash a node pins for {@code trust} ({@code sha256:} + hex of SHA-256 of its X.509 encoding). */
  public static String rootKeyHash(RootTrust trust) {
    return EnrolmentProof.keyHash(trust.encoded());
  }

  /**
   * Splits a token string into id and secret.
   *
   * @throws IllegalArgumentException if it is not of the form {@code <id>.<secret>}
   */
  public static String[] parse(String token) {
    Matcher m = FORM.matcher(Objects.requireNonNull(token, "token").trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("a join token has the form <6 characters [a-z0-9]>.<32 hex digits>");
    }
    return new String[] {m.group(1), m.group(2)};
  }

  @Override
  public String toString() {
    return "JoinToken{" + id + ".*** cluster " + clusterId + " until " + expiresAt + (oneTime ? " one-time" : "") + "}";
  }
}
