package io.semnet.node.admin;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An immutable HTTP response of an {@link AdminEndpoint}: status, content type and body bytes.
 *
 * @param status the HTTP status code
 * @param contentType the {@code Content-Type} header value
 * @param body the body; the array is owned by the response and must not be changed afterwards
 */
public record AdminResponse(int status, String contentType, byte[] body) {

  /** The content type of JSON bodies. */
  public static final String JSON = "application/json";
  /** The content type of the Prometheus text exposition format, version 0.0.4. */
  public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** Checks the status range and that nothing is {@code null}. */
  public AdminResponse {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("HTTP status out of range: " + status);
    }
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(body, "body");
  }

  /** A {@code 200} response with a JSON body. */
  public static AdminResponse json(String json) {
    return new AdminResponse(200, JSON, json.getBytes(StandardCharsets.UTF_8));
  }

  /** A response with the given status and a plain-text body. */
  public static AdminResponse text(int status, String text) {
    return new AdminResponse(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
  }
}
