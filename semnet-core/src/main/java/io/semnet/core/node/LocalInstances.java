package io.semnet.core.node;

import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.InstanceRecord;
import java.net.InetAddress;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The instances running on this node, by key and by namespace IP. The translator rewrites the
 * source of their packets to their InstanceIP and delivers packets for them locally. Thread-safe;
 * listeners hear every attach and detach.
 */
public final class LocalInstances {
  /** Told when instances come and go on this node. */
  public interface Listener {
    void onAttached(InstanceRecord instance);

    void onDetached(InstanceRecord instance);
  }

  private final Map<InstanceKey, InstanceRecord> byKey = new ConcurrentHashMap<>();
  private final Map<InetAddress, InstanceRecord> byNamespaceIp = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  /**
   * Records that {@code instance} now runs here. Its locator must be set.
   *
   * @throws IllegalArgumentException if unplaced or if its namespace IP is taken by another instance
   */
  public synchronized void attach(InstanceRecord instance) {
    Objects.requireNonNull(instance, "instance");
    if (instance.locator() == null) {
      throw new IllegalArgumentException(instance.key() + " has no locator");
    }
    for (InetAddress ip : namespaceIps(instance)) {
      InstanceRecord other = byNamespaceIp.get(ip);
      if (other != null && !other.key().equals(instance.key())) {
        throw new IllegalArgumentException("namespace IP " + ip.getHostAddress() + " is already used by " + other.key());
      }
    }
    InstanceRecord previous = byKey.put(instance.key(), instance);
    if (previous != null) {
      namespaceIps(previous).forEach(byNamespaceIp::remove);
    }
    namespaceIps(instance).forEach(ip -> byNamespaceIp.put(ip, instance));
    listeners.forEach(l -> l.onAttached(instance));
  }

  /** Removes the instance; returns it, or null if it was not here. */
  public synchronized InstanceRecord detach(InstanceKey key) {
    InstanceRecord r = byKey.remove(key);
    if (r != null) {
      namespaceIps(r).forEach(byNamespaceIp::remove);
      listeners.forEach(l -> l.onDetached(r));
    }
    return r;
  }

  public InstanceRecord get(InstanceKey key) {
    return byKey.get(key);
  }

  /** The local instance with this namespace IP, or null. */
  public InstanceRecord byNamespaceIp(InetAddress namespaceIp) {
    return byNamespaceIp.get(namespaceIp);
  }

  public Collection<InstanceRecord> all() {
    return List.copyOf(byKey.values());
  }

  public void addListener(Listener l) {
    listeners.add(l);
  }

  public void removeListener(Listener l) {
    listeners.remove(l);
  }

  private static List<InetAddress> namespaceIps(InstanceRecord r) {
    InetAddress v4 = r.locator().namespaceIpv4();
    InetAddress v6 = r.locator().namespaceIpv6();
    if (v4 != null && v6 != null) {
      return List.of(v4, v6);
    }
    return v4 != null ? List.of(v4) : List.of(v6);
  }
}
