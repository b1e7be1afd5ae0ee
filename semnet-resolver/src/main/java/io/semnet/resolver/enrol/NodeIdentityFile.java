package io.semnet.resolver.enrol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.protocol.SignedRegistration;
import io.semnet.resolver.protocol.WireCodec;
import io.semnet.resolver.protocol.internal.Json;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Objects;
import java.util.Set;

/**
 * A node's persistent identity, in one JSON file of mode 0600 written atomically (temporary file,
 * fsync, rename): its tunnel key pair (raw X25519, as {@code NodeKeys} saves it), its MQTT client
 * key pair (EC P-256, made on first open), the last tunnel nonce epoch it used, the last tunnel
 * handshake timestamp it issued (so a restart with the clock stepped back continues above it), and its latest
 * enrolment (signed registration, MQTT certificate, pinned root key). A restarted node so keeps its
 * keys, registration and subnets, and never reuses a nonce: {@link #nextEpoch} persists the epoch
 * before returning it, and returns at least the last one plus one even if the clock stepped back.
 * Not thread-safe (one owner per node), except {@link #handshakeTimestamp} and
 * {@link #saveHandshakeTimestamp}, which the tunnel's event loop calls and which synchronise with
 * every write.
 */
public final class NodeIdentityFile {
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private final Path path;
  private byte[] tunnelPrivate;
  private byte[] tunnelPublic;
  private KeyPair mqtt;
  private long lastEpoch = -1;
  private byte[] handshakeTimestamp;
  private Enrolled enrolled;

  private NodeIdentityFile(Path path) {
    this.path = path;
  }

  /**
   * Opens (or creates, with a fresh MQTT key pair) the identity file at {@code path}.
   *
   * @throws IOException if it cannot be read or written, or is not owner-only
   * @throws IllegalArgumentException if it is malformed, or its enrolment does not verify
   */
  public static NodeIdentityFile open(Path path) throws IOException {
    NodeIdentityFile f = new NodeIdentityFile(Objects.requireNonNull(path, "path"));
    if (Files.exists(path)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
      if (!OWNER_ONLY.containsAll(perms)) {
        throw new IOException(path + " holds private keys but has mode " + PosixFilePermissions.toString(perms) + "; expected rw-------");
      }
      f.read(Json.MAPPER.readTree(Files.readAllBytes(path)));
    } else {
      f.mqtt = newMqttKeyPair();
      f.write();
    }
    return f;
  }

  private void read(JsonNode n) {
    if (Json.has(n, "tunnelPrivate")) {
      tunnelPrivate = Json.bytes(n, "tunnelPrivate");
      tunnelPublic = Json.bytes(n, "tunnelPublic");
    }
    try {
      KeyFactory ec = KeyFactory.getInstance("EC");
      mqtt = new KeyPair(ec.generatePublic(new X509EncodedKeySpec(Json.bytes(n, "mqttPublic"))),
          ec.generatePrivate(new PKCS8EncodedKeySpec(Json.bytes(n, "mqttPrivate"))));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("malformed MQTT key in identity file", e);
    }
    lastEpoch = Json.integer(n, "lastEpoch");
    if (Json.has(n, "handshakeTimestamp")) {
      handshakeTimestamp = Json.bytes(n, "handshakeTimestamp");
      if (handshakeTimestamp.length != 12) {
        throw new IllegalArgumentException("malformed handshake timestamp in identity file");
      }
    }
    if (Json.has(n, "registration")) {
      RootTrust root = RootTrust.of(Json.bytes(n, "root"));
      SignedRegistration s = WireCodec.signedRegistration(n.get("registration"));
      if (!s.verify(root)) {
        throw new IllegalArgumentException("the stored registration does not verify against the stored root key");
      }
      enrolled = new Enrolled(s, Json.has(n, "mqttCertificate") ? Json.bytes(n, "mqttCertificate") : null);
    }
  }

  private synchronized void write() throws IOException {
    ObjectNode o = Json.obj();
    if (tunnelPrivate != null) {
      o.put("tunnelPrivate", Json.b64(tunnelPrivate));
      o.put("tunnelPublic", Json.b64(tunnelPublic));
    }
    o.put("mqttPrivate", Json.b64(mqtt.getPrivate().getEncoded()));
    o.put("mqttPublic", Json.b64(mqtt.getPublic().getEncoded()));
    o.put("lastEpoch", lastEpoch);
    if (handshakeTimestamp != null) {
      o.put("handshakeTimestamp", Json.b64(handshakeTimestamp));
    }
    if (enrolled != null) {
      o.put("root", Json.b64(enrolled.rootTrust().encoded()));
      o.set("registration", WireCodec.toJson(enrolled.signedRegistration()));
      if (enrolled.mqttCertificate() != null) {
        o.put("mqttCertificate", Json.b64(enrolled.mqttCertificate()));
      }
    }
    Path dir = path.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, path.getFileName().toString(), ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(java.nio.ByteBuffer.wrap(o.toString().getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      try {
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static KeyPair newMqttKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(256);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is not available", e);
    }
  }

  /** Whether a tunnel key pair is stored. */
  public boolean hasTunnelKeys() {
    return tunnelPrivate != null;
  }

  /** The stored raw X25519 private key (a copy), or null. */
  public byte[] tunnelPrivateKey() {
    return tunnelPrivate == null ? null : tunnelPrivate.clone();
  }

  /** The stored raw X25519 public key (a copy), or null. */
  public byte[] tunnelPublicKey() {
    return tunnelPublic == null ? null : tunnelPublic.clone();
  }

  /** Stores the tunnel key pair (e.g. {@code NodeKeys.privateKeyBytes()}, {@code publicKey()}). */
  public void saveTunnelKeys(byte[] rawPrivate, byte[] rawPublic) throws IOException {
    tunnelPrivate = Objects.requireNonNull(rawPrivate, "rawPrivate").clone();
    tunnelPublic = Objects.requireNonNull(rawPublic, "rawPublic").clone();
    write();
  }

  /** The node's MQTT client key pair (certify its public key with {@link Enrolment}). */
  public KeyPair mqttKeyPair() {
    return mqtt;
  }

  /** The last epoch handed out, or -1. */
  public long lastEpoch() {
    return lastEpoch;
  }

  /**
   * The tunnel epoch to use for this run: {@code candidate} (e.g. seconds since an origin), or the
   * last one plus one if that is not larger. Written to the file before it is returned.
   */
  public long nextEpoch(long candidate) throws IOException {
    lastEpoch = Math.max(candidate, lastEpoch + 1);
    write();
    return lastEpoch;
  }

  /** The last tunnel handshake timestamp stored (12 bytes, TAI64N), or null. */
  public synchronized byte[] handshakeTimestamp() {
    return handshakeTimestamp == null ? null : handshakeTimestamp.clone();
  }

  /** Stores the last tunnel handshake timestamp this node issued (12 bytes); written to the file before it returns. */
  public synchronized void saveHandshakeTimestamp(byte[] timestamp) throws IOException {
    if (timestamp == null || timestamp.length != 12) {
      throw new IllegalArgumentException("a handshake timestamp has 12 bytes");
    }
    handshakeTimestamp = timestamp.clone();
    write();
  }

  /** The latest stored enrolment, or null. */
  public Enrolled enrolment() {
    return enrolled;
  }

  /** Stores an enrolment (after {@link Enrolment#enrol} or a renewal). */
  public void saveEnrolment(Enrolled e) throws IOException {
    enrolled = Objects.requireNonNull(e, "e");
    write();
  }
}
