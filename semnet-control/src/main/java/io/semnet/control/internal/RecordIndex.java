package io.semnet.control.internal;

import io.semnet.core.address.ServiceIp;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.SignedRecord;
import java.net.InetAddress;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signed records a manager holds, indexed by service, by every ServiceIP and InstanceIP they
 * carry, and by the nodes their instances are placed on. Reads are thread-safe; the caller
 * serialises writes ({@link #put}, {@link #remove}) so the indexes stay consistent with the records.
 */
public final class RecordIndex {
  private final Map<ServiceId, SignedRecord> records = new ConcurrentHashMap<>();
  private final Map<InetAddress, ServiceId> byAddress = new ConcurrentHashMap<>();
  private final Map<String, Set<ServiceId>> servicesOnNode = new ConcurrentHashMap<>();

  /** @return the held record of {@code service}, or null */
  public SignedRecord get(ServiceId service) {
    return records.get(service);
  }

  /** @return whether a record of {@code service} is held */
  public boolean contains(ServiceId service) {
    return records.containsKey(service);
  }

  /** @return a live view of the held records */
  public Collection<SignedRecord> values() {
    return records.values();
  }

  /** @return a live view of the services held */
  public Set<ServiceId> services() {
    return records.keySet();
  }

  /** @return how many records are held */
  public int size() {
    return records.size();
  }

  /** Holds {@code sr} in place of {@code old} (null if none) and re-indexes it. */
  public void put(SignedRecord old, SignedRecord sr) {
    records.put(sr.record().service(), sr);
    reindex(old == null ? null : old.record(), sr.record());
  }

  /** @return the record removed, or null */
  public SignedRecord remove(ServiceId service) {
    SignedRecord old = records.remove(service);
    if (old != null) {
      reindex(old.record(), null);
    }
    return old;
  }

  /** @return the services with an instance placed on {@code node} (null if none was ever) */
  public Set<ServiceId> servicesOn(String node) {
    return servicesOnNode.get(node);
  }

  /** @return the service a key belongs to, or null if it names an address unknown here */
  public ServiceId serviceOf(QueryKey key) {
    if (key.service() != null) {
      return key.service();
    }
    if (key.name() != null) {
      return key.name().service();
    }
    return byAddress.get(key.address());
  }

  /** @return whether the record {@code sr} (may be null) answers {@code key} */
  public static boolean answers(SignedRecord sr, QueryKey key) {
    if (sr == null) {
      return false;
    }
    ServiceRecord r = sr.record();
    if (key.service() != null) {
      return true;
    }
    if (key.address() != null) {
      return r.serviceIpFor(key.address()) != null || r.instanceFor(key.address()) != null;
    }
    SemanticName n = key.name();
    if (n.isInstance()) {
      return r.instance(n.instance()) != null;
    }
    return r.serviceIp(n.policy(), true) != null || r.serviceIp(n.policy(), false) != null;
  }

  /** @return the instance ordinal {@code key} asks for in {@code sr}, or -1 if it asks for a service */
  public static int ordinalAsked(SignedRecord sr, QueryKey key) {
    if (key.name() != null && key.name().isInstance()) {
      return key.name().instance();
    }
    if (key.address() != null) {
      InstanceRecord i = sr.record().instanceFor(key.address());
      return i == null ? -1 : i.ordinal();
    }
    return -1;
  }

  private void reindex(ServiceRecord old, ServiceRecord now) {
    if (old != null) {
      for (ServiceIp ip : old.serviceIps()) {
        byAddress.remove(ip.address(), old.service());
      }
      for (InstanceRecord i : old.instances()) {
        if (i.instanceIpv4() != null) {
          byAddress.remove(i.instanceIpv4().address(), old.service());
        }
        if (i.instanceIpv6() != null) {
          byAddress.remove(i.instanceIpv6().address(), old.service());
        }
        if (i.locator() != null) {
          Set<ServiceId> s = servicesOnNode.get(i.locator().worker().nodeId());
          if (s != null) {
            s.remove(old.service());
          }
        }
      }
    }
    if (now != null) {
      for (ServiceIp ip : now.serviceIps()) {
        byAddress.put(ip.address(), now.service());
      }
      for (InstanceRecord i : now.instances()) {
        if (i.instanceIpv4() != null) {
          byAddress.put(i.instanceIpv4().address(), now.service());
        }
        if (i.instanceIpv6() != null) {
          byAddress.put(i.instanceIpv6().address(), now.service());
        }
        if (i.locator() != null) {
          servicesOnNode.computeIfAbsent(i.locator().worker().nodeId(), k -> ConcurrentHashMap.newKeySet()).add(now.service());
        }
      }
    }
  }
}
