package io.semnet.resolver.enrol;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.EnrolmentProof;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.EnrolReply;
import io.semnet.resolver.protocol.EnrolRequest;
import io.semnet.resolver.protocol.ErrorReply;
import io.semnet.resolver.protocol.RenewRegistration;
import io.semnet.resolver.protocol.SignedRegistration;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.TransportException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A node's side of enrolment over the control protocol. The node is given a join token and the
 * root key hash out of band; it sends an {@link EnrolRequest} to the root's enrolment service (id
 * {@link #DEFAULT_SERVICE_ID} unless configured otherwise) proving possession of the token with an
 * HMAC over its keys and endpoint (the token itself never travels), and accepts the answer only if
 * the root key in it hashes to the pinned value, the root's signature over the registration
 * verifies, and the registration is for exactly its node id, endpoint and tunnel key. So a broker
 * in the middle can neither use the token nor substitute a root.
 *
 * <pre>{@code
 * Enrolled e = Enrolment.enrol(transport, "abc123.0123...", "sha256:9f...", endpoint, location, mqttKey.getEncoded());
 * // e.registration(), e.managerId(), e.rootTrust(), e.plan(), e.mqttCertificate()
 * Enrolled later = Enrolment.renew(transport, e, mqttKey.getEncoded());   // before e.renewAt(); see RegistrationRenewal
 * }</pre>
 *
 * Calls block up to the timeout (default 10 s). Thread-safe (stateless).
 */
public final class Enrolment {
  /** The id the root's enrolment service binds by default. */
  public static final String DEFAULT_SERVICE_ID = "enrol";
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private Enrolment() {}

  /**
   * Enrols at {@link #DEFAULT_SERVICE_ID} (timeout 10 s).
   *
   * @param token the join token string {@code <id>.<secret>}
   * @param rootKeyHash the pinned root key hash ({@code sha256:<hex>})
   * @param endpoint the node's tunnel endpoint with its tunnel public key; its node id names the node
   * @param location where the node is, or null
   * @param mqttPublicKey X.509 encoding of the node's MQTT client key, or null for no certificate
   * @throws EnrolmentException with the root's reason if refused, or if the answer is not trustworthy
   * @throws TransportException if the root's enrolment service could not be reached
   */
  public static Enrolled enrol(ControlTransport transport, String token, String rootKeyHash, WorkerEndpoint endpoint,
      GeoPoint location, byte[] mqttPublicKey) {
    return enrol(transport, DEFAULT_SERVICE_ID, token, rootKeyHash, endpoint, location, mqttPublicKey, DEFAULT_TIMEOUT);
  }

  /** {@link #enrol(ControlTransport, String, String, WorkerEndpoint, GeoPoint, byte[])} at service {@code serviceId}. */
  public static Enrolled enrol(ControlTransport transport, String serviceId, String token, String rootKeyHash,
      WorkerEndpoint endpoint, GeoPoint location, byte[] mqttPublicKey, Duration timeout) {
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(endpoint, "endpoint");
    String[] parts = JoinToken.parse(token);
    String pinned = Objects.requireNonNull(rootKeyHash, "rootKeyHash").trim().toLowerCase(java.util.Locale.ROOT);
    byte[] secret = HexFormat.of().parseHex(parts[1]);
    EnrolRequest unsigned = new EnrolRequest(parts[0], endpoint, location, mqttPublicKey, pinned, new byte[0]);
    EnrolRequest request = new EnrolRequest(parts[0], endpoint, location, mqttPublicKey, pinned,
        EnrolmentProof.compute(secret, unsigned));
    Arrays.fill(secret, (byte) 0);
    EnrolReply reply = call(transport, serviceId, endpoint.nodeId(), request, timeout);
    SignedRegistration s = reply.registration();
    if (!EnrolmentProof.keyHash(s.rootKey().encoded()).equals(pinned)) {
      throw new EnrolmentException("the answering root's key " + EnrolmentProof.keyHash(s.rootKey().encoded())
          + " does not match the pinned " + pinned + ": not our root (substituted?)");
    }
    return check(s, s.rootKey(), endpoint, reply.mqttCertificate());
  }

  /**
   * Renews an enrolled node's registration (and MQTT certificate) at {@link #DEFAULT_SERVICE_ID},
   * over the node's own transport identity, before it expires.
   *
   * @throws EnrolmentException if refused (e.g. already expired: enrol again with a new token)
   */
  public static Enrolled renew(ControlTransport transport, Enrolled current, byte[] mqttPublicKey) {
    return renew(transport, DEFAULT_SERVICE_ID, current, mqttPublicKey, DEFAULT_TIMEOUT);
  }

  /** {@link #renew(ControlTransport, Enrolled, byte[])} at service {@code serviceId}. */
  public static Enrolled renew(ControlTransport transport, String serviceId, Enrolled current, byte[] mqttPublicKey,
      Duration timeout) {
    WorkerEndpoint endpoint = current.registration().endpoint();
    EnrolReply reply = call(transport, serviceId, endpoint.nodeId(), new RenewRegistration(endpoint.nodeId(), mqttPublicKey), timeout);
    Enrolled next = check(reply.registration(), current.rootTrust(), endpoint, reply.mqttCertificate());
    if (!next.managerId().equals(current.managerId())) {
      throw new EnrolmentException("renewal moved the node to manager " + next.managerId());
    }
    return next;
  }

  private static Enrolled check(SignedRegistration s, RootTrust trust, WorkerEndpoint endpoint, byte[] mqttCertificate) {
    if (!s.verify(trust)) {
      throw new EnrolmentException("the registration's root signature does not verify");
    }
    if (!s.registration().endpoint().equals(endpoint)) {
      throw new EnrolmentException("the registration is for " + s.registration().endpoint() + ", not " + endpoint);
    }
    if (!s.notAfter().isAfter(Clock.systemUTC().instant())) {
      throw new EnrolmentException("the registration expired at " + s.notAfter());
    }
    return new Enrolled(s, mqttCertificate);
  }

  private static EnrolReply call(ControlTransport transport, String serviceId, String clientId, ControlMessage request,
      Duration timeout) {
    ControlMessage reply;
    try (ClientChannel c = transport.connect(serviceId, clientId, push -> {})) {
      reply = c.request(request, timeout).toCompletableFuture().get();
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof TransportException) {
        throw (TransportException) cause;
      }
      throw new TransportException("enrolment failed: " + cause.getMessage(), cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException("interrupted while enrolling", e);
    }
    if (reply instanceof ErrorReply) {
      throw new EnrolmentException("enrolment refused by the root: " + ((ErrorReply) reply).reason());
    }
    if (!(reply instanceof EnrolReply)) {
      throw new EnrolmentException("unexpected answer " + reply.type());
    }
    return (EnrolReply) reply;
  }
}
