package io.semnet.resolver.protocol;

import io.semnet.core.service.ServiceId;
import java.util.Objects;

/** A service and the record version the client holds (0 if none), as listed in a {@link Renew}. */
public record ServiceVersion(ServiceId service, long version) {
  public ServiceVersion {
    Objects.requireNonNull(service, "service");
  }
}
