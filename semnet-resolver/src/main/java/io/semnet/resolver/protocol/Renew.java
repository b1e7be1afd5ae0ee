package io.semnet.resolver.protocol;

import java.util.List;

/**
 * Renews (or, after a manager restart or reconnection, re-registers) the client's interest in each
 * listed service. The reply carries every record newer than the version the client holds and the
 * services that are gone or no longer visible, so the same message resynchronises a client after
 * an outage.
 */
public record Renew(List<ServiceVersion> services) implements ControlMessage {
  public Renew {
    services = List.copyOf(services);
  }

  @Override
  public String type() {
    return "renew";
  }
}
