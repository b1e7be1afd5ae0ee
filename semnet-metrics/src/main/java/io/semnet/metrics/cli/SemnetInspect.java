package io.semnet.metrics.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code semnet-inspect}: prints a node's flows, links or routes (its admin server's JSON
 * endpoints) as tables, or its metrics as they are served.
 *
 * <pre>
 * semnet-inspect --url http://127.0.0.1:9180 flows --limit 50 --watch 2
 * semnet-inspect links
 * semnet-inspect --token-file /etc/semnet/admin.token routes
 * </pre>
 *
 * Exit codes: 0 done, 1 the server answered an error or could not be reached, 2 bad usage.
 */
@Command(name = "semnet-inspect", mixinStandardHelpOptions = true,
    description = "Prints a SemNet node's flows, links, routes or metrics from its admin server.")
public final class SemnetInspect implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", description = "what to show: flows, links, routes or metrics")
  String what;

  @Option(names = "--url", defaultValue = "http://127.0.0.1:9180", description = "the admin server (default: ${DEFAULT-VALUE})")
  String url;

  @Option(names = "--token-file", description = "file holding the bearer token (needed when the server is not on loopback)")
  Path tokenFile;

  @Option(names = "--limit", defaultValue = "1000", description = "most rows to fetch (default: ${DEFAULT-VALUE})")
  int limit;

  @Option(names = "--watch", description = "refresh every N seconds until interrupted (flows)")
  Integer watchSeconds;

  @Option(names = "--json", description = "print the server's JSON as it is")
  boolean raw;

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true, StandardCharsets.UTF_8), args));
  }

  /** Runs the command line, printing to {@code out}; returns the exit code. */
  public static int run(PrintWriter out, String... args) {
    SemnetInspect cmd = new SemnetInspect();
    cmd.out = out;
    return new CommandLine(cmd).setOut(out).execute(args);
  }

  @Override
  public Integer call() throws Exception {
    if (watchSeconds != null && watchSeconds < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--watch needs a period of at least 1 second");
    }
    while (true) {
      int rc = once();
      if (rc != 0 || watchSeconds == null) {
        return rc;
      }
      try {
        Thread.sleep(watchSeconds * 1000L);
      } catch (InterruptedException e) {
        return 0; // watching ends when interrupted
      }
      out.println();
    }
  }

  private int once() throws Exception {
    String path = switch (what) {
      case "flows", "links", "routes" -> "/" + what + "?limit=" + limit;
      case "metrics" -> "/metrics";
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown view: " + what);
    };
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10));
    if (tokenFile != null) {
      req.header("Authorization", "Bearer " + Files.readString(tokenFile).trim());
    }
    HttpResponse<String> res;
    try {
      res = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      out.println("cannot reach " + url + ": " + e.getMessage());
      return 1;
    }
    if (res.statusCode() != 200) {
      out.println(url + path + " answered " + res.statusCode() + ": " + res.body().strip());
      return 1;
    }
    if (raw || "metrics".equals(what)) {
      out.println(res.body().strip());
      return 0;
    }
    JsonNode doc = JSON.readTree(res.body());
    table(doc).print(out);
    out.println(doc.path("shown").asInt() + " of " + doc.path("total").asInt() + " " + what + " on " + doc.path("node").asText()
        + (doc.path("truncated").asBoolean() ? " (truncated; raise --limit)" : ""));
    return 0;
  }

  private Table table(JsonNode doc) {
    switch (what) {
      case "flows":
        return new Table("PROTO=protocol", "DIR=direction", "SOURCE=source+sourcePort", "DESTINATION=destination+destinationPort",
            "TRANSLATED=translatedSource", "TO=translatedDestination", "INSTANCE=instance", "PEER=peer", "AGE_MS=ageMillis",
            "IDLE_MS=idleMillis", "BYTES_OUT=bytesOut", "BYTES_IN=bytesIn").rows(doc.path("flows"));
      case "links":
        return new Table("PEER=peer", "ENDPOINT=endpoint", "UP=up", "KEY=keyId", "KEY_AGE_S=keyAgeSeconds", "RTT_MS=rttMillis",
            "TX_PKTS=txPackets", "TX_BYTES=txBytes", "RX_PKTS=rxPackets", "RX_BYTES=rxBytes", "DROPS=drops").rows(doc.path("links"));
      default:
        return new Table("SERVICE=service", "VERSION=version", "INSTANCES=instances", "EJECTED=ejected").rows(doc.path("routes"));
    }
  }
}
