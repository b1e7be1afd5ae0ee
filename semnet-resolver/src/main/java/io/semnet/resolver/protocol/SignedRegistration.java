package io.semnet.resolver.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.protocol.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;

/**
 * A node's registration as certified by the root: serial number, validity ({@code notBefore},
 * {@code notAfter}), the {@link NodeRegistration} (cluster = the node's manager id, endpoint with
 * tunnel key, location, subnets, tunnel-key certificate) and the platform's {@link AddressPlan},
 * signed by the root's Ed25519 key. The signed bytes are the JSON text {@link #body()} exactly as
 * carried, so any change on the way fails {@link #verify}. Immutable.
 *
 * <p>Body fields: {@code serial} (positive integer), {@code notBefore}, {@code notAfter} (epoch
 * seconds), {@code manager}, {@code registration} (the node form in semnet-resolver's README),
 * {@code plan} ({@code {"ipv4": {"range", "nodeSubnet", "clusterPool", "virtual"}, "ipv6": ...,
 * "quarantineSeconds"}}), {@code rootKey} (base64 SubjectPublicKeyInfo of the signer).
 */
public final class SignedRegistration {
  private static final byte[] DOMAIN = "semnet-registration-v1\n".getBytes(StandardCharsets.UTF_8);

  private final String body;
  private final byte[] signature;
  private final long serial;
  private final Instant notBefore;
  private final Instant notAfter;
  private final String managerId;
  private final NodeRegistration registration;
  private final AddressPlan plan;
  private final RootTrust rootKey;

  private SignedRegistration(String body, byte[] signature) {
    this.body = body;
    this.signature = signature.clone();
    JsonNode n;
    try {
      n = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("registration body is not JSON: " + e.getMessage(), e);
    }
    this.serial = Json.integer(n, "serial");
    this.notBefore = Instant.ofEpochSecond(Json.integer(n, "notBefore"));
    this.notAfter = Instant.ofEpochSecond(Json.integer(n, "notAfter"));
    this.managerId = Json.text(n, "manager");
    this.registration = Json.node(Json.need(n, "registration"));
    this.plan = Json.plan(Json.need(n, "plan"));
    this.rootKey = RootTrust.of(Json.bytes(n, "rootKey"));
    if (serial <= 0 || !notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException("registration needs a positive serial and notBefore < notAfter");
    }
    if (!managerId.equals(registration.clusterId())) {
      throw new IllegalArgumentException("registration's manager differs from its cluster");
    }
    if (signature.length != 64) {
      throw new IllegalArgumentException("signature must have 64 bytes");
    }
  }

  /** Root side: builds and signs the registration of a node. */
  public static SignedRegistration sign(RootAuthority authority, long serial, Instant notBefore, Instant notAfter,
      NodeRegistration registration, AddressPlan plan) {
    ObjectNode o = Json.obj();
    o.put("serial", serial);
    o.put("notBefore", notBefore.getEpochSecond());
    o.put("notAfter", notAfter.getEpochSecond());
    o.put("manager", registration.clusterId());
    o.set("registration", Json.node(registration));
    o.set("plan", Json.plan(plan));
    o.put("rootKey", Json.b64(authority.trust().encoded()));
    String body = o.toString();
    return new SignedRegistration(body, authority.sign(signed(body)));
  }

  /** From its carried form (does not verify); throws IllegalArgumentException if malformed. */
  public static SignedRegistration of(String body, byte[] signature) {
    Objects.requireNonNull(body, "body");
    Objects.requireNonNull(signature, "signature");
    return new SignedRegistration(body, signature);
  }

  private static byte[] signed(String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[DOMAIN.length + b.length];
    System.arraycopy(DOMAIN, 0, out, 0, DOMAIN.length);
    System.arraycopy(b, 0, out, DOMAIN.length, b.length);
    return out;
  }

  /** Whether {@code trust} signed exactly this registration and is the root key it names. */
  public boolean verify(RootTrust trust) {
    return trust.equals(rootKey) && trust.verify(signed(body), signature);
  }

  /** Whether {@code now} lies in {@code [notBefore, notAfter)}. */
  public boolean isValidAt(Instant now) {
    return !now.isBefore(notBefore) && now.isBefore(notAfter);
  }

  /** The signed JSON text. */
  public String body() {
    return body;
  }

  /** The root's Ed25519 signature (a copy). */
  public byte[] signature() {
    return signature.clone();
  }

  public long serial() {
    return serial;
  }

  public Instant notBefore() {
    return notBefore;
  }

  public Instant notAfter() {
    return notAfter;
  }

  /** The node's cluster manager (the id its worker resolver talks to). */
  public String managerId() {
    return managerId;
  }

  public NodeRegistration registration() {
    return registration;
  }

  public AddressPlan plan() {
    return plan;
  }

  /** The key the registration says signed it (check it against a pinned hash before trusting it). */
  public RootTrust rootKey() {
    return rootKey;
  }

  @Override
  public String toString() {
    return "SignedRegistration{" + registration.nodeId() + " serial " + serial + " " + notBefore + ".." + notAfter + "}";
  }
}
