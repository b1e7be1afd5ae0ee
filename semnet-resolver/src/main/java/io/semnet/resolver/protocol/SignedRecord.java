package io.semnet.resolver.protocol;

import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.trust.RootAuthority;
import io.semnet.core.trust.RootTrust;
import io.semnet.resolver.internal.Canonical;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A service record as the root signed it, possibly k-pruned on the way down. The root signs the
 * record's header (service, version, ServiceIPs) together with the SHA-256 digest of every
 * instance; a pruned copy keeps the full digest list and a subset of the instances, so one
 * signature per record version covers every pruning of it. A verifier checks the signature and that
 * every carried instance's digest is in the signed list: nothing can be added, changed (locator,
 * node key, metadata) or mixed in from another version. Immutable.
 */
public final class SignedRecord {
  private final ServiceRecord record;
  private final List<byte[]> digests;
  private volatile byte[] signature;
  private final RootAuthority signer;

  private SignedRecord(ServiceRecord record, List<byte[]> digests, byte[] signature) {
    this(record, digests, signature, null);
  }

  private SignedRecord(ServiceRecord record, List<byte[]> digests, byte[] signature, RootAuthority signer) {
    this.signer = signer;
    this.record = Objects.requireNonNull(record, "record");
    List<byte[]> copy = new ArrayList<>(digests.size());
    for (byte[] d : digests) {
      if (d == null || d.length != 32) {
        throw new IllegalArgumentException("instance digests are 32 bytes");
      }
      copy.add(d.clone());
    }
    this.digests = List.copyOf(copy);
    this.signature = signature == null ? null : signature.clone();
  }

  /** Signs a whole record (root only). */
  public static SignedRecord sign(ServiceRecord record, RootAuthority authority) {
    List<byte[]> digests = new ArrayList<>(record.instances().size());
    for (InstanceRecord r : record.instances()) {
      digests.add(Canonical.instanceDigest(r));
    }
    byte[] body = Canonical.recordBody(record.service(), record.version(), record.serviceIps(), digests);
    return new SignedRecord(record, digests, authority.sign(body));
  }

  /**
   * Like {@link #sign}, but the Ed25519 signature is made on first use ({@link #signature()},
   * {@link #pruned}, equality): the root stamps many versions nobody ever receives (a deployment
   * immediately followed by its placements), and signing costs about a millisecond.
   */
  public static SignedRecord signLazily(ServiceRecord record, RootAuthority authority) {
    List<byte[]> digests = new ArrayList<>(record.instances().size());
    for (InstanceRecord r : record.instances()) {
      digests.add(Canonical.instanceDigest(r));
    }
    return new SignedRecord(record, digests, null, java.util.Objects.requireNonNull(authority, "authority"));
  }

  /** Reassembles a signed record received from the wire (not verified: call {@link #verify}). */
  public static SignedRecord of(ServiceRecord record, List<byte[]> digests, byte[] signature) {
    return new SignedRecord(record, digests, signature);
  }

  /** A record without signature, for deployments that run without a root of trust (tests, labs). */
  public static SignedRecord unsigned(ServiceRecord record) {
    List<byte[]> digests = new ArrayList<>(record.instances().size());
    for (InstanceRecord r : record.instances()) {
      digests.add(Canonical.instanceDigest(r));
    }
    return new SignedRecord(record, digests, null);
  }

  public ServiceRecord record() {
    return record;
  }

  /** The signed digests of all instances of this version (also those pruned away). */
  public List<byte[]> digests() {
    List<byte[]> out = new ArrayList<>(digests.size());
    for (byte[] d : digests) {
      out.add(d.clone());
    }
    return out;
  }

  /** The root's Ed25519 signature, or null if unsigned (a copy). */
  public byte[] signature() {
    byte[] s = sig();
    return s == null ? null : s.clone();
  }

  private byte[] sig() {
    byte[] s = signature;
    if (s == null && signer != null) {
      synchronized (this) {
        s = signature;
        if (s == null) {
          s = signer.sign(signedBody());
          signature = s;
        }
      }
    }
    return s;
  }

  /** The bytes the signature covers. */
  public byte[] signedBody() {
    return Canonical.recordBody(record.service(), record.version(), record.serviceIps(), digests);
  }

  /**
   * True if the root signed this record version and every carried instance is one it signed. Never
   * throws on bad input.
   */
  public boolean verify(RootTrust trust) {
    byte[] s = sig();
    if (s == null || trust == null) {
      return false;
    }
    try {
      return trust.verify(signedBody(), s) && instancesCovered();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** True if every carried instance's digest is in the signed list. */
  public boolean instancesCovered() {
    for (InstanceRecord r : record.instances()) {
      byte[] d = Canonical.instanceDigest(r);
      boolean found = false;
      for (byte[] s : digests) {
        if (Arrays.equals(s, d)) {
          found = true;
          break;
        }
      }
      if (!found) {
        return false;
      }
    }
    return true;
  }

  /** The same signed version carrying only {@code instances} (a subset of this record's). */
  public SignedRecord pruned(List<InstanceRecord> instances) {
    return new SignedRecord(record.withInstances(instances), digests, sig());
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SignedRecord)) {
      return false;
    }
    SignedRecord s = (SignedRecord) o;
    if (!record.equals(s.record) || !Arrays.equals(sig(), s.sig()) || digests.size() != s.digests.size()) {
      return false;
    }
    for (int i = 0; i < digests.size(); i++) {
      if (!Arrays.equals(digests.get(i), s.digests.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return record.hashCode();
  }

  @Override
  public String toString() {
    return "Signed" + record + (signature == null && signer == null ? " (unsigned)" : "");
  }
}
