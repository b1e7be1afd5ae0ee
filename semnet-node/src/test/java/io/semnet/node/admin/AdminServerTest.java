package io.semnet.node.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AdminServerTest {

  private final HttpClient client = HttpClient.newHttpClient();

  private HttpResponse<String> get(AdminServer server, String pathAndQuery, String token) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.address().getPort() + pathAndQuery));
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    return client.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesEndpointsAndAnswersErrorsClearly() throws Exception {
    AtomicReference<Map<String, String>> seen = new AtomicReference<>();
    try (AdminServer server = AdminServer.builder()
        .endpoint("/health", q -> {
          seen.set(q);
          return AdminResponse.json("{\"online\":true}");
        })
        .endpoint("/boom", q -> {
          throw new IllegalStateException("secret detail");
        })
        .build().start()) {
      assertTrue(server.address().getAddress().isLoopbackAddress());

      HttpResponse<String> ok = get(server, "/health?watch=1&peer=w%202", null);
      assertEquals(200, ok.statusCode());
      assertEquals("{\"online\":true}", ok.body());
      assertEquals("application/json", ok.headers().firstValue("Content-Type").orElseThrow());
      assertEquals(Map.of("watch", "1", "peer", "w 2"), seen.get());

      assertEquals(404, get(server, "/nothing", null).statusCode());
      HttpResponse<String> failed = get(server, "/boom", null);
      assertEquals(500, failed.statusCode());
      assertTrue(!failed.body().contains("secret detail"), failed.body());

      HttpResponse<String> post = client.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.address().getPort() + "/health"))
          .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(405, post.statusCode());
    }
  }

  @Test
  void aTokenIsRequiredWhenSetAndMandatoryOffLoopback() throws Exception {
    try (AdminServer server = AdminServer.builder().bearerToken("s3cret")
        .endpoint("/metrics", q -> AdminResponse.text(200, "x 1\n")).build().start()) {
      assertEquals(401, get(server, "/metrics", null).statusCode());
      assertEquals(401, get(server, "/metrics", "s3cre").statusCode());
      assertEquals(401, get(server, "/metrics", "s3cret-and-more").statusCode());
      assertEquals(200, get(server, "/metrics", "s3cret").statusCode());
    }
    IllegalStateException refused = assertThrows(IllegalStateException.class,
        () -> AdminServer.builder().bind(new InetSocketAddress("0.0.0.0", 0)).build());
    assertTrue(refused.getMessage().contains("bearer token"), refused.getMessage());
  }
}
