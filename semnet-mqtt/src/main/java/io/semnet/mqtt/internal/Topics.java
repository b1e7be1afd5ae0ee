package io.semnet.mqtt.internal;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The MQTT topic layout of one transport: {@code <prefix>/<manager>/c2m/<client>} for requests,
 * {@code <prefix>/<manager>/m2c/<client>} for replies and pushes, {@code <prefix>/<manager>/state}
 * and {@code <prefix>/<node>/alive} for presence. Immutable. Every id is a single topic level:
 * {@link #checkId} refuses wildcards, separators and control characters.
 */
public final class Topics {
  /** Ids become single topic levels: no wildcards, separators or control characters. */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private final String prefix;

  /** @param prefix the first topic level of every topic, itself a valid id */
  public Topics(String prefix) {
    this.prefix = checkId("topicPrefix", prefix);
  }

  /** @return the first topic level */
  public String prefix() {
    return prefix;
  }

  /** @return the topic a client publishes its requests to */
  public String request(String managerId, String clientId) {
    return prefix + "/" + managerId + "/c2m/" + clientId;
  }

  /** @return the filter a manager subscribes to for requests from every client */
  public String requests(String managerId) {
    return prefix + "/" + managerId + "/c2m/+";
  }

  /** @return the topic a manager publishes replies and pushes for one client to */
  public String inbox(String managerId, String clientId) {
    return prefix + "/" + managerId + "/m2c/" + clientId;
  }

  /** @return the retained topic a manager announces itself on */
  public String state(String managerId) {
    return prefix + "/" + managerId + "/state";
  }

  /** @return the retained topic (and Last Will) of a node's connection */
  public String alive(String node) {
    return prefix + "/" + node + "/alive";
  }

  /**
   * @return {@code id}, checked to be a valid single topic level
   * @throws IllegalArgumentException naming {@code what} if it is not
   */
  public static String checkId(String what, String id) {
    Objects.requireNonNull(id, what);
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(what + " '" + id + "' must match " + ID.pattern() + " (it becomes an MQTT topic level)");
    }
    return id;
  }

  /** @return whether {@code s} is a valid single topic level */
  public static boolean isValidId(String s) {
    return s != null && ID.matcher(s).matches();
  }
}
