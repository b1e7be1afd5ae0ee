package io.semnet.resolver.internal;

import io.semnet.core.address.ServiceIp;
import io.semnet.core.isolation.Grant;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * The canonical byte strings the root signs. They are independent of any wire format (JSON,
 * in-process objects), so a signature made once verifies whatever transport carried the record.
 * Each starts with a domain-separation tag, so a signature over one kind can never pass as another.
 */
public final class Canonical {
  private Canonical() {}

  /** SHA-256 of one instance's canonical form (identity, InstanceIPs, locator incl. node key and the previous place after a move, metadata). */
  public static byte[] instanceDigest(InstanceRecord r) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("semnet/instance/1");
      out.writeUTF(r.service().toString());
      out.writeInt(r.ordinal());
      addr(out, r.instanceIpv4() == null ? null : r.instanceIpv4().address());
      addr(out, r.instanceIpv6() == null ? null : r.instanceIpv6().address());
      Locator l = r.locator();
      out.writeBoolean(l != null);
      if (l != null) {
        addr(out, l.namespaceIpv4());
        addr(out, l.namespaceIpv6());
        out.writeUTF(l.worker().nodeId());
        addr(out, l.worker().address().getAddress());
        out.writeInt(l.worker().address().getPort());
        byte[] key = l.worker().publicKey();
        out.writeInt(key.length);
        out.write(key);
        out.writeLong(l.version());
        if (l.previous() != null) {
          // Only present after a move, so digests of locators without one are unchanged.
          out.writeUTF("previous");
          out.writeUTF(l.previous().nodeId());
          addr(out, l.previous().address().getAddress());
          out.writeInt(l.previous().address().getPort());
          byte[] pk = l.previous().publicKey();
          out.writeInt(pk.length);
          out.write(pk);
          out.writeLong(l.movedAtMillis());
        }
      }
      var m = r.metadata();
      out.writeBoolean(m.location() != null);
      if (m.location() != null) {
        out.writeDouble(m.location().latitude());
        out.writeDouble(m.location().longitude());
      }
      out.writeDouble(m.capacity());
      out.writeUTF(m.zone());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sha256(bytes.toByteArray());
  }

  /** What the root signs for a record version: header plus the digest of every instance. */
  public static byte[] recordBody(ServiceId service, long version, List<ServiceIp> serviceIps, List<byte[]> digests) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128 + 32 * digests.size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("semnet/record/1");
      out.writeUTF(service.toString());
      out.writeLong(version);
      out.writeInt(serviceIps.size());
      for (ServiceIp ip : serviceIps) {
        out.writeUTF(ip.policy());
        addr(out, ip.address());
      }
      out.writeInt(digests.size());
      for (byte[] d : digests) {
        out.write(d);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** What the root signs to say a service is gone as of {@code version}. */
  public static byte[] removalBody(ServiceId service, long version) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("semnet/removal/1");
      out.writeUTF(service.toString());
      out.writeLong(version);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** What the root signs for a version of the isolation rules. */
  public static byte[] rulesBody(long version, List<Grant> grants) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("semnet/rules/1");
      out.writeLong(version);
      out.writeInt(grants.size());
      for (Grant g : grants) {
        out.writeUTF(g.from().toString());
        out.writeUTF(g.to().toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** What the root signs for a revocation list: version, then every entry (serial, node id, key, notAfter) in the list's order. */
  public static byte[] revocationsBody(long version, List<io.semnet.core.trust.RevokedCertificate> revoked) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 80 * revoked.size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("semnet/revocations/1");
      out.writeLong(version);
      out.writeInt(revoked.size());
      for (io.semnet.core.trust.RevokedCertificate r : revoked) {
        out.writeLong(r.serial());
        out.writeUTF(r.nodeId());
        byte[] key = r.publicKey();
        out.writeInt(key.length);
        out.write(key);
        out.writeLong(r.notAfter().getEpochSecond());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** What the root signs for a heartbeat: epoch, times, rules version and the sorted (service, version) list. */
  public static byte[] heartbeatBody(long epoch, long issuedAt, long expiresAt, long rulesVersion,
      java.util.Map<ServiceId, Long> sortedVersions) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 48 * sortedVersions.size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF("semnet/heartbeat/1");
      out.writeLong(epoch);
      out.writeLong(issuedAt);
      out.writeLong(expiresAt);
      out.writeLong(rulesVersion);
      out.writeInt(sortedVersions.size());
      for (java.util.Map.Entry<ServiceId, Long> e : sortedVersions.entrySet()) {
        out.writeUTF(e.getKey().toString());
        out.writeLong(e.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void addr(DataOutputStream out, InetAddress a) throws IOException {
    if (a == null) {
      out.writeByte(0);
      return;
    }
    byte[] b = a.getAddress();
    out.writeByte(b.length);
    out.write(b);
  }

  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
