package io.semnet.metrics.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.node.admin.AdminResponse;
import io.semnet.node.admin.AdminServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** semnet-inspect against a stub admin server: tables, --watch repeats, errors and usage mistakes. */
class SemnetInspectTest {
  private static final String FLOWS = "{\"node\":\"w1\",\"total\":3,\"shown\":1,\"truncated\":true,\"flows\":[{\"protocol\":\"tcp\","
      + "\"direction\":\"client\",\"source\":\"10.1.0.2\",\"sourcePort\":40000,\"destination\":\"172.30.0.10\",\"destinationPort\":80,"
      + "\"translatedSource\":\"172.30.1.1\",\"translatedDestination\":\"10.2.0.2\",\"instance\":\"web#0\",\"peer\":null,"
      + "\"ageMillis\":5,\"idleMillis\":1,\"bytesOut\":100,\"bytesIn\":60}]}";

  @Test
  void printsTablesWatchesAndReportsErrors() throws Exception {
    AtomicInteger served = new AtomicInteger();
    try (AdminServer server = AdminServer.builder().endpoint("/flows", q -> {
      served.incrementAndGet();
      return "2".equals(q.get("limit")) ? AdminResponse.json(FLOWS) : AdminResponse.text(400, "limit\n");
    }).build().start()) {
      String url = "http://127.0.0.1:" + server.address().getPort();
      StringWriter out = new StringWriter();
      Thread watcher = new Thread(() -> SemnetInspect.run(new PrintWriter(out, true), "--url", url, "--limit", "2", "--watch", "1", "flows"));
      watcher.start();
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (served.get() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      watcher.interrupt();
      watcher.join(5_000);
      assertTrue(served.get() >= 2, "--watch asked again");
      String text = out.toString();
      String flat = text.replaceAll(" +", " ");
      assertTrue(flat.startsWith("PROTO DIR SOURCE DESTINATION TRANSLATED TO INSTANCE PEER AGE_MS IDLE_MS BYTES_OUT BYTES_IN\n"), text);
      assertTrue(flat.contains("\ntcp client 10.1.0.2:40000 172.30.0.10:80 172.30.1.1 10.2.0.2 web#0 - 5 1 100 60\n"), text);
      assertTrue(text.contains("SOURCE          DESTINATION"), "columns as wide as their widest cell:\n" + text);
      assertTrue(text.contains("1 of 3 flows on w1 (truncated; raise --limit)"), text);

      StringWriter err = new StringWriter();
      assertEquals(1, SemnetInspect.run(new PrintWriter(err, true), "--url", url, "--limit", "5", "flows"));
      assertTrue(err.toString().contains("answered 400"), err.toString());
      assertEquals(1, SemnetInspect.run(new PrintWriter(new StringWriter(), true), "--url", "http://127.0.0.1:1", "links"));
      assertEquals(2, SemnetInspect.run(new PrintWriter(new StringWriter(), true), "--url", url, "nonsense"));
      assertEquals(2, SemnetInspect.run(new PrintWriter(new StringWriter(), true), "--url", url, "--watch", "0", "flows"));
    }
  }
}
