package io.semnet.metrics.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.semnet.testing.TestNetwork;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real Prometheus server (Debian's {@code prometheus}) for a test: a free loopback port, a
 * temporary data directory, one job scraping {@code target} every second. Stopped and its
 * directory removed when the test network closes.
 */
public final class PrometheusServer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final int port;
  private final Path dir;
  private final Process process;

  public PrometheusServer(TestNetwork net, String target) throws Exception {
    dir = Files.createTempDirectory(net.tag() + "-prom");
    net.onClose(() -> deleteTree(dir));
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        + "scrape_configs:\n  - job_name: semnet\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n"
        + "    static_configs:\n      - targets: ['" + target + "']\n");
    port = freePort();
    process = net.start(null, "prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port, "--log.level=warn");
  }

  /** Waits until Prometheus answers and has scraped the target successfully. */
  public void awaitTargetUp(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("prometheus exited with " + process.exitValue());
      }
      try {
        if (value("up{job=\"semnet\"}") == 1) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("prometheus did not scrape its target within " + timeout);
  }

  /** The value of an instant query returning one sample, or NaN if it returns none. */
  public double value(String query) throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
        + URLEncoder.encode(query, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError("query " + query + ": " + r.statusCode() + " " + r.body());
    }
    JsonNode result = JSON.readTree(r.body()).path("data").path("result");
    if (result.size() == 0) {
      return Double.NaN;
    }
    if (result.size() > 1) {
      throw new AssertionError("query " + query + " returned " + result.size() + " series: " + result);
    }
    return Double.parseDouble(result.get(0).path("value").get(1).asText());
  }

  /** Waits until {@code query} returns exactly {@code expected}; returns the time it took. */
  public Duration awaitValue(String query, double expected, Duration timeout) throws Exception {
    long start = System.nanoTime();
    double last = Double.NaN;
    while (System.nanoTime() - start < timeout.toNanos()) {
      last = value(query);
      if (last == expected) {
        return Duration.ofNanos(System.nanoTime() - start);
      }
      Thread.sleep(250);
    }
    throw new AssertionError(query + " stayed at " + last + ", expected " + expected);
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path p) {
    try (var s = Files.walk(p)) {
      s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(x -> x.toFile().delete());
    } catch (java.io.IOException ignored) {
      // best effort
    }
  }
}
