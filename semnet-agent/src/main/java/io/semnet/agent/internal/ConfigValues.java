package io.semnet.agent.internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.semnet.core.address.Addresses;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * Reading the processes' YAML files (unknown keys are errors, so a typo does not silently fall back
 * to a default) and the value forms they use: durations such as {@code 90s}, {@code 5m},
 * {@code 24h}, {@code 7d} (or ISO-8601 {@code PT24H}) and addresses {@code host:port} /
 * {@code [v6]:port}. Stateless.
 */
public final class ConfigValues {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ConfigValues() {}

  /** Reads {@code file} into a new {@code type}. */
  public static <T> T read(Path file, Class<T> type) {
    try {
      return YAML.readValue(file.toFile(), type);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read configuration " + file + ": " + e.getMessage(), e);
    }
  }

  /** A duration: {@code <n>ms|s|m|h|d} or ISO-8601. */
  public static Duration duration(String what, String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.startsWith("p")) {
        return Duration.parse(text.trim());
      }
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      switch (t.charAt(t.length() - 1)) {
        case 's': return Duration.ofSeconds(n);
        case 'm': return Duration.ofMinutes(n);
        case 'h': return Duration.ofHours(n);
        case 'd': return Duration.ofDays(n);
        default: break;
      }
    } catch (RuntimeException e) {
      // fall through to the error below
    }
    throw new IllegalArgumentException(what + ": '" + text + "' is not a duration (e.g. 90s, 5m, 24h, 7d)");
  }

  /** {@code host:port} or {@code [v6]:port}; the host must be an IP literal (no resolver on start-up paths). */
  public static InetSocketAddress address(String what, String text) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(what + ": '" + text + "' is not host:port");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(t.substring(colon + 1));
      return new InetSocketAddress(Addresses.parseLiteral(host), port);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(what + ": '" + text + "' is not an IP literal with a port", e);
    }
  }
}
