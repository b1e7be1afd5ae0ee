package io.semnet.core.address;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * Where a worker node's tunnel is reached: its public IP and tunnel port, plus the node's tunnel
 * public key, which peers use to authenticate it. Several nodes may share one public IP behind
 * NAT; each then has its own port. Identity is the node id. Immutable: the key bytes are copied
 * in and out.
 */
public final class WorkerEndpoint {
  private final String nodeId;
  private final InetSocketAddress address;
  private final byte[] publicKey;

  private WorkerEndpoint(String nodeId, InetSocketAddress address, byte[] publicKey) {
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    if (nodeId.isEmpty()) {
      throw new IllegalArgumentException("nodeId is empty");
    }
    Objects.requireNonNull(address, "address");
    if (address.isUnresolved()) {
      throw new IllegalArgumentException("worker endpoint must be a numeric address, got " + address);
    }
    this.address = address;
    this.publicKey = Objects.requireNonNull(publicKey, "publicKey").clone();
  }

  /**
   * @param nodeId stable identity of the node
   * @param address public IP and tunnel port
   * @param publicKey the node's tunnel public key (raw X25519, 32 bytes; empty only in plaintext
   *     deployments)
   */
  public static WorkerEndpoint of(String nodeId, InetSocketAddress address, byte[] publicKey) {
    return new WorkerEndpoint(nodeId, address, publicKey);
  }

  public String nodeId() {
    return nodeId;
  }

  public InetSocketAddress address() {
    return address;
  }

  /** A copy of the node's tunnel public key. */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /** True if {@code key} equals the node's public key, without copying. */
  public boolean hasPublicKey(byte[] key) {
    return Arrays.equals(publicKey, key);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof WorkerEndpoint)) {
      return false;
    }
    WorkerEndpoint w = (WorkerEndpoint) o;
    return nodeId.equals(w.nodeId) && address.equals(w.address) && Arrays.equals(publicKey, w.publicKey);
  }

  @Override
  public int hashCode() {
    return nodeId.hashCode() * 31 + address.hashCode();
  }

  @Override
  public String toString() {
    return "WorkerEndpoint{" + nodeId + " " + Addresses.format(address.getAddress()) + ":" + address.getPort()
        + " key=" + (publicKey.length == 0 ? "none" : Base64.getEncoder().encodeToString(publicKey).substring(0, 8) + "…")
        + "}";
  }
}
