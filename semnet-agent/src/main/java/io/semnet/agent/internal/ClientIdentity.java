package io.semnet.agent.internal;

import java.net.Socket;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The TLS client identity of one MQTT connection: a private key and its certificate chain, which
 * {@link #update} replaces (a renewed certificate) for every later handshake, so a reconnect after
 * a renewal presents the new certificate. Thread-safe.
 */
public final class ClientIdentity extends X509ExtendedKeyManager {
  private static final String ALIAS = "client";
  private final PrivateKey key;
  private volatile X509Certificate[] chain;

  public ClientIdentity(PrivateKey key, List<X509Certificate> chain) {
    this.key = Objects.requireNonNull(key, "key");
    update(chain);
  }

  /** The identity in a PEM certificate file and a PEM PKCS#8 key file (as {@code certs init} writes them). */
  public static ClientIdentity fromFiles(Path certFile, Path keyFile) {
    return new ClientIdentity(Pem.privateKey(keyFile), Pem.certificates(certFile));
  }

  /** Presents {@code newChain} from the next handshake on. */
  public void update(List<X509Certificate> newChain) {
    if (newChain == null || newChain.isEmpty()) {
      throw new IllegalArgumentException("a client identity needs a certificate");
    }
    this.chain = newChain.toArray(new X509Certificate[0]);
  }

  /** The leaf certificate presented now. */
  public X509Certificate certificate() {
    return chain[0];
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[] {ALIAS};
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return ALIAS;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return ALIAS;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }
}
