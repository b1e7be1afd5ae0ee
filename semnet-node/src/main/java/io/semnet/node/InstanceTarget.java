package io.semnet.node;

import java.util.Objects;

/**
 * The network namespace an instance runs in: a named one ({@code ip netns add NAME}) or that of a
 * process, typically a container's init ({@link #pid}). The node moves one end of a veth pair into
 * it, named {@link #interfaceName()} ({@code eth0} unless chosen otherwise). Immutable.
 *
 * @param netns the namespace's name under {@code /var/run/netns}, or null for a PID target
 * @param pid the process whose namespace it is, or 0 for a named target
 * @param interfaceName the instance-side interface's name (at most 15 characters)
 */
public record InstanceTarget(String netns, long pid, String interfaceName) {
  public InstanceTarget {
    Objects.requireNonNull(interfaceName, "interfaceName");
    if ((netns == null) == (pid <= 0)) {
      throw new IllegalArgumentException("an instance target is a namespace name or a PID, exactly one of them");
    }
    if (netns != null && (netns.isEmpty() || netns.contains("/") || netns.equals(".") || netns.equals(".."))) {
      throw new IllegalArgumentException("bad network namespace name '" + netns + "'");
    }
    if (interfaceName.isEmpty() || interfaceName.length() > 15 || interfaceName.contains("/") || interfaceName.contains(" ")) {
      throw new IllegalArgumentException("bad interface name '" + interfaceName + "'");
    }
  }

  /** The named network namespace {@code name} (it must exist). */
  public static InstanceTarget netns(String name) {
    return new InstanceTarget(Objects.requireNonNull(name, "name"), 0, "eth0");
  }

  /** The network namespace of process {@code pid} (e.g. a container's first process). */
  public static InstanceTarget pid(long pid) {
    if (pid <= 0) {
      throw new IllegalArgumentException("bad pid " + pid);
    }
    return new InstanceTarget(null, pid, "eth0");
  }

  /** The same namespace with another name for the instance-side interface. */
  public InstanceTarget withInterfaceName(String name) {
    return new InstanceTarget(netns, pid, name);
  }

  @Override
  public String toString() {
    return (netns != null ? "netns " + netns : "pid " + pid) + " (" + interfaceName + ")";
  }
}
