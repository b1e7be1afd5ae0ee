package io.semnet.control;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Objects;

/**
 * A remote orchestrator's signing identity (Ed25519). The root's {@link OrchestrationService} is
 * configured with the public keys ({@link #publicKey()}) of the orchestrators it obeys; every
 * {@link RemoteOrchestration} call is signed with the private key. Thread-safe.
 */
public final class OrchestratorKey {
  static final byte[] DOMAIN = "semnet-orchestrate-v1\n".getBytes(StandardCharsets.UTF_8);

  private final PrivateKey privateKey;
  private final byte[] publicKey;

  private OrchestratorKey(KeyPair pair) {
    this.privateKey = pair.getPrivate();
    this.publicKey = pair.getPublic().getEncoded();
  }

  /** A fresh Ed25519 key pair. */
  public static OrchestratorKey generate() {
    try {
      return new OrchestratorKey(KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is not available in this JDK", e);
    }
  }

  /** From an existing Ed25519 key pair (e.g. loaded from the orchestrator's key store). */
  public static OrchestratorKey of(KeyPair pair) {
    Objects.requireNonNull(pair, "pair");
    String alg = pair.getPublic().getAlgorithm();
    if (!"Ed25519".equalsIgnoreCase(alg) && !"EdDSA".equalsIgnoreCase(alg)) {
      throw new IllegalArgumentException("an orchestrator key must be Ed25519, got " + alg);
    }
    return new OrchestratorKey(pair);
  }

  /** The public key's X.509 encoding: what the root is configured to trust. */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  byte[] sign(byte[] body) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(privateKey);
      s.update(DOMAIN);
      s.update(body);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }

  static boolean verify(java.security.PublicKey key, byte[] body, byte[] signature) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(DOMAIN);
      s.update(body);
      return s.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
