package io.semnet.resolver.protocol;

import io.semnet.core.service.ServiceId;
import java.util.List;

/** The client no longer uses these services: drop its interests now rather than at expiry. */
public record Drop(List<ServiceId> services) implements ControlMessage {
  public Drop {
    services = List.copyOf(services);
  }

  @Override
  public String type() {
    return "drop";
  }
}
