package io.semnet.proxy.tun;

import io.netty.util.internal.PlatformDependent;
import io.semnet.core.node.BusyPoll;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * Configures and opens a {@link TunDevice} ({@link TunDevice#builder()}): interface name, MTU,
 * queues, read batch size, poll interval, offloads and the network namespace. Every setter checks
 * its argument; {@link #build()} creates or attaches to the device, retrying in plain mode when the
 * kernel refuses the offloads.
 */
public final class TunDeviceBuilder {
  String name = "sn%d";
  int mtu = 1400;
  int queues = 1;
  int batchSize = 64;
  int pollMillis = 100;
  BusyPoll busyPoll = BusyPoll.fromSystemProperty();
  boolean up = true;
  boolean offloads = true;
  String namespace;

  TunDeviceBuilder() {}

  /** Interface name, at most 15 characters; {@code %d} lets the kernel number it (default {@code sn%d}). */
  public TunDeviceBuilder name(String name) {
    this.name = Objects.requireNonNull(name, "name");
    return this;
  }

  /** Device MTU (default 1400: room for the tunnel's overhead on a 1500-byte underlay). */
  public TunDeviceBuilder mtu(int mtu) {
    if (mtu < 576 || mtu > 65535) {
      throw new IllegalArgumentException("MTU " + mtu + " outside 576..65535");
    }
    this.mtu = mtu;
    return this;
  }

  /** Number of queues (IFF_MULTI_QUEUE when above 1), each with its reader thread. */
  public TunDeviceBuilder queues(int queues) {
    if (queues < 1 || queues > 64) {
      throw new IllegalArgumentException("queues outside 1..64");
    }
    this.queues = queues;
    return this;
  }

  /** Most packets read before the batch is ended (default 64). */
  public TunDeviceBuilder batchSize(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("batchSize must be > 0");
    }
    this.batchSize = n;
    return this;
  }

  /** How long a reader waits in poll(2) before checking for close (default 100 ms). */
  public TunDeviceBuilder pollMillis(int ms) {
    if (ms < 1) {
      throw new IllegalArgumentException("pollMillis must be > 0");
    }
    this.pollMillis = ms;
    return this;
  }

  /**
   * How long a reader keeps reading without blocking in {@code poll} after it last read a packet
   * ({@link BusyPoll}; default {@code -Dsemnet.busyPollMicros}, else off).
   */
  public TunDeviceBuilder busyPoll(Duration window) {
    this.busyPoll = BusyPoll.of(window);
    return this;
  }

  /** Bring the link up (default true). */
  public TunDeviceBuilder up(boolean up) {
    this.up = up;
    return this;
  }

  /**
   * Open the device with the virtio header and ask for checksum and TCP segmentation offloads
   * (default true; falls back to plain packets if the kernel refuses). See the class comment.
   */
  public TunDeviceBuilder offloads(boolean offloads) {
    this.offloads = offloads;
    return this;
  }

  /** Create the device inside this named network namespace (default: the calling thread's). */
  public TunDeviceBuilder namespace(String netns) {
    this.namespace = netns;
    return this;
  }

  /** Creates or attaches to the device. */
  public TunDevice build() throws IOException {
    if (!PlatformDependent.hasUnsafe()) {
      throw new IOException("direct-buffer addresses are unavailable (no sun.misc.Unsafe)");
    }
    try {
      return open();
    } catch (TunIoctl.OffloadRefused e) {
      offloads = false;
      return open();
    }
  }

  private TunDevice open() throws IOException {
    if (namespace == null) {
      return new TunDevice(this);
    }
    try {
      return NetworkNamespace.run(namespace, () -> new TunDevice(this));
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }
}
