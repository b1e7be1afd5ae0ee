package io.semnet.tunnel;

/**
 * The AEAD that seals tunnel datagrams. Both are JDK built-ins with 256-bit keys, 96-bit nonces and
 * 128-bit tags; all nodes of a cluster must use the same suite. AES-GCM is the default because
 * JDK 17 has AES-NI/CLMUL intrinsics for it; ChaCha20-Poly1305 suits CPUs without AES instructions
 * (its intrinsics arrived in later JDKs).
 */
public enum CipherSuite {
  AES_256_GCM("AES/GCM/NoPadding", "AES"),
  CHACHA20_POLY1305("ChaCha20-Poly1305", "ChaCha20");

  private final String transformation;
  private final String keyAlgorithm;

  CipherSuite(String transformation, String keyAlgorithm) {
    this.transformation = transformation;
    this.keyAlgorithm = keyAlgorithm;
  }

  /** The JCA transformation name. */
  public String transformation() {
    return transformation;
  }

  /** The JCA key algorithm name. */
  public String keyAlgorithm() {
    return keyAlgorithm;
  }
}
