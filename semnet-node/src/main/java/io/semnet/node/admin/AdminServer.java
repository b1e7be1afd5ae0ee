package io.semnet.node.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small read-only HTTP server for a node's or controller's health, metrics and inspection
 * endpoints.
 *
 * <p>Guarantees: it binds to loopback unless told otherwise, and refuses to start on any other
 * address without a bearer token; when a token is set, every request must carry
 * {@code Authorization: Bearer <token>} (compared in constant time) or is answered {@code 401}.
 * Only {@code GET} is served ({@code 405} otherwise); an unknown path is {@code 404}; an endpoint's
 * exception is a {@code 500} that reveals only the exception's class. Requests are served by a
 * bounded pool with a bounded queue; when both are full the connection is closed at once and
 * counted ({@link #refusedBusy()}).
 * Nothing here runs on the data path. {@link #close()} stops the server and its threads.
 */
public final class AdminServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  private final HttpServer server;
  private final ThreadPoolExecutor executor;
  private final byte[] token;
  private final Map<String, AdminEndpoint> endpoints;
  private final AtomicLong refused = new AtomicLong();

  private AdminServer(Builder b) throws IOException {
    InetAddress host = b.address.getAddress();
    if (b.bearerToken == null && host != null && !host.isLoopbackAddress()) {
      throw new IllegalStateException(
          "admin server bound to " + b.address + " (not loopback) needs a bearer token");
    }
    this.token = b.bearerToken == null ? null : b.bearerToken.getBytes(StandardCharsets.UTF_8);
    this.endpoints = Map.copyOf(b.endpoints);
    this.executor = new ThreadPoolExecutor(b.threads, b.threads, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(b.queue), r -> {
          Thread t = new Thread(r, "semnet-admin");
          t.setDaemon(true);
          return t;
        }, (r, ex) -> {
          refused.incrementAndGet();
          throw new java.util.concurrent.RejectedExecutionException("admin server busy");
        });
    this.executor.allowCoreThreadTimeOut(true);
    this.server = HttpServer.create(b.address, 16);
    server.createContext("/", this::serve);
    server.setExecutor(executor);
  }

  /** A builder with defaults: {@code 127.0.0.1}, an ephemeral port, no token, 2 threads, queue 32. */
  public static Builder builder() {
    return new Builder();
  }

  /** Starts serving; returns this server. */
  public AdminServer start() {
    server.start();
    LOG.info("admin server on http://{}{}", address(), token == null ? "" : " (bearer token required)");
    return this;
  }

  /** The address the server is bound to (with the real port when an ephemeral one was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** Requests refused because the pool and its queue were full. */
  public long refusedBusy() {
    return refused.get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (token != null && !authorised(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
        send(exchange, AdminResponse.text(401, "bearer token required\n"));
        return;
      }
      if (!"GET".equals(exchange.getRequestMethod())) {
        exchange.getResponseHeaders().add("Allow", "GET");
        send(exchange, AdminResponse.text(405, "only GET is served\n"));
        return;
      }
      AdminEndpoint endpoint = endpoints.get(exchange.getRequestURI().getPath());
      if (endpoint == null) {
        send(exchange, AdminResponse.text(404, "no such endpoint; try one of " + endpoints.keySet() + "\n"));
        return;
      }
      AdminResponse response;
      try {
        response = endpoint.handle(query(exchange.getRequestURI().getRawQuery()));
      } catch (Exception | LinkageError e) {
        LOG.warn("admin endpoint {} failed", exchange.getRequestURI().getPath(), e);
        response = AdminResponse.text(500, "endpoint failed: " + e.getClass().getSimpleName() + "\n");
      }
      send(exchange, response);
    }
  }

  private boolean authorised(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, token);
  }

  private static void send(HttpExchange exchange, AdminResponse response) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", response.contentType());
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    byte[] body = response.body();
    exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      exchange.getResponseBody().write(body);
    }
  }

  static Map<String, String> query(String raw) {
    if (raw == null || raw.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    for (String pair : raw.split("&", 64)) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return Map.copyOf(out);
  }

  /** Collects the bind address, the optional token and the endpoints. */
  public static final class Builder {
    private InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private String bearerToken;
    private int threads = 2;
    private int queue = 32;
    private final Map<String, AdminEndpoint> endpoints = new LinkedHashMap<>();

    private Builder() {}

    /** The address to bind; default {@code 127.0.0.1} on an ephemeral port. */
    public Builder bind(InetSocketAddress address) {
      this.address = Objects.requireNonNull(address, "address");
      return this;
    }

    /** Requires {@code Authorization: Bearer token} on every request; mandatory off loopback. */
    public Builder bearerToken(String token) {
      if (token != null && token.isBlank()) {
        throw new IllegalArgumentException("bearer token is blank");
      }
      this.bearerToken = token;
      return this;
    }

    /** Threads serving requests (default 2) and the queue behind them (default 32). */
    public Builder threads(int threads, int queue) {
      if (threads < 1 || queue < 1) {
        throw new IllegalArgumentException("threads and queue must be positive");
      }
      this.threads = threads;
      this.queue = queue;
      return this;
    }

    /** Serves {@code endpoint} at exactly {@code path} (which starts with '/'); a later call replaces it. */
    public Builder endpoint(String path, AdminEndpoint endpoint) {
      if (path == null || !path.startsWith("/")) {
        throw new IllegalArgumentException("path must start with '/': " + path);
      }
      endpoints.put(path, Objects.requireNonNull(endpoint, "endpoint"));
      return this;
    }

    /** Binds the server (not yet serving; call {@link AdminServer#start()}). */
    public AdminServer build() {
      try {
        return new AdminServer(this);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot bind admin server to " + address, e);
      }
    }
  }
}
