package io.semnet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.NodeEvent;
import io.semnet.control.RemoteOrchestration;
import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.mqtt.MqttTransport;
import io.semnet.testing.Privileged;
import io.semnet.testing.TestNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16's must-show: a worker killed with SIGKILL stops being chosen within seconds. Mosquitto
 * with TLS, the controller and three agents as separate JVMs in their own namespaces (as
 * {@link MultiProcessDeploymentTest}); service {@code web} has #0 on w1 and #1 on w3, a client
 * instance on w2 opens new TCP connections to the {@code rr} ServiceIP at 10 per second, each with a
 * 1 s connect timeout (a Python loop in the client's namespace). Agent w3 is killed with SIGKILL;
 * the span from the kill to the start of the last failed attempt is printed and asserted at most
 * 3 s, and the orchestrator, subscribed to the root's node events through the remote API, gets
 * w3's node-down event (and web#1's instance-unreachable).
 */
@Privileged
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class PeerKillTest {
  private static final int PORT = 8080;
  private final ServiceId web = ServiceId.of("web", "tum", "kill", "prod");
  private final ServiceId shop = ServiceId.of("shop", "tum", "client", "prod");

  /** New connections at a rate, each in its own thread with a timeout; one line per attempt: start millis, OK or FAIL. */
  private static final String LOOP = String.join("\n",
      "import socket, sys, threading, time",
      "host, port, rate, timeout, secs, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]",
      "f = open(out, 'a', buffering=1)",
      "lock = threading.Lock()",
      "def attempt(start):",
      "    try:",
      "        s = socket.create_connection((host, port), timeout=timeout)",
      "        s.close()",
      "        r = 'OK'",
      "    except Exception as e:",
      "        r = 'FAIL ' + type(e).__name__",
      "    with lock:",
      "        f.write('%d %s\\n' % (start, r))",
      "end = time.time() + secs",
      "nxt = time.time()",
      "while time.time() < end:",
      "    threading.Thread(target=attempt, args=(int(time.time() * 1000),), daemon=True).start()",
      "    nxt += 1.0 / rate",
      "    time.sleep(max(0.0, nxt - time.time()))",
      "time.sleep(timeout + 1)",
      "f.write('DONE\\n')",
      "");

  @Test
  void aKilledWorkerStopsBeingChosenWithinThreeSeconds(@TempDir Path tmp) throws Exception {
    long t0 = System.nanoTime();
    try (TestNetwork net = new TestNetwork(); Launcher procs = new Launcher(tmp)) {
      String under = net.namespace("pku");
      net.exec(under, "ip", "link", "add", "br0", "type", "bridge");
      net.exec(under, "ip", "link", "set", "br0", "up");
      String[] ns = new String[4];
      for (int i = 1; i <= 3; i++) {
        ns[i] = net.namespace("pk" + i);
        net.veth(under, net.name("ku" + i), null, ns[i], net.name("kn" + i), "10.96.0." + i + "/24");
        net.exec(under, "ip", "link", "set", net.name("ku" + i), "master", "br0");
      }
      String srv1 = net.namespace("pk1a");
      String srv3 = net.namespace("pk3a");
      String cli = net.namespace("pk2a");
      ControlPlane cp = ControlPlane.start(tmp, net, procs, "", "");

      try (MqttTransport opNet = cp.operatorTransport(); RemoteOrchestration o = cp.operator(opNet)) {
        Launcher.Result created = procs.run("token-create", ControllerMain.class, "token", "create", "--config",
            cp.controllerYaml.toString());
        assertEquals(0, created.code(), created.output());
        String hash = MultiProcessDeploymentTest.line(created.output(), "root-key-hash: ");
        Process[] agents = new Process[4];
        Path[] yaml = new Path[4];
        for (int i = 1; i <= 3; i++) {
          String token = ControlPlane.retry(() -> o.issueJoinToken("c1", Duration.ofMinutes(10), true)).token();
          int admin = Launcher.freePort();
          yaml[i] = cp.agentYaml("w" + i, ns[i], "10.96.0." + i, admin, token, hash);
          agents[i] = procs.start("agent-w" + i, AgentMain.class, "--config", yaml[i].toString());
          String name = "agent-w" + i;
          long started = System.nanoTime();
          Launcher.waitFor(() -> MultiProcessDeploymentTest.health(admin).code() == 200, 60, () -> name + " healthy: " + procs.read(name));
          System.out.printf("PeerKillTest: %s healthy %d ms after its start%n", name, (System.nanoTime() - started) / 1_000_000);
        }
        System.out.printf("PeerKillTest: controller and three agents up after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        ServiceRecord webRecord = o.deploy(ServiceDescriptor.builder(web).instances(2).build());
        o.deploy(ServiceDescriptor.builder(shop).instances(1).build());
        MultiProcessDeploymentTest.attach(procs, yaml[1], srv1, web, 0);
        MultiProcessDeploymentTest.attach(procs, yaml[3], srv3, web, 1);
        MultiProcessDeploymentTest.attach(procs, yaml[2], cli, shop, 0);
        for (String s : List.of(srv1, srv3)) {
          Path site = Files.createDirectories(tmp.resolve("site-" + s));
          Files.writeString(site.resolve("index.html"), (s.equals(srv1) ? "w1" : "w3") + "\n");
          net.start(s, "/usr/bin/python3", "-m", "http.server", Integer.toString(PORT), "--bind", "0.0.0.0", "--directory", site.toString());
          Launcher.waitFor(() -> net.tryExec(s, 5, "curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:" + PORT + "/").exitCode == 0, 20,
              () -> "web server in " + s);
        }
        ServiceIp rr = webRecord.serviceIps().stream().filter(s -> s.policy().equals("rr") && s.address().getAddress().length == 4)
            .findFirst().orElseThrow(() -> new AssertionError("no IPv4 rr ServiceIP: " + webRecord.serviceIps()));
        String sip = Addresses.format(rr.address());
        // both instances answer through the ServiceIP before the kill (rr alternates)
        java.util.Set<String> served = new java.util.TreeSet<>();
        for (int i = 0; i < 20 && served.size() < 2; i++) {
          TestNetwork.Result r = net.tryExec(cli, 10, "curl", "-sf", "--max-time", "2", "http://" + sip + ":" + PORT + "/");
          if (r.exitCode == 0) {
            served.add(r.output.trim());
          } else {
            Thread.sleep(250);
          }
        }
        assertEquals(java.util.Set.of("w1", "w3"), served, "rr spreads new connections over both instances before the kill");

        LinkedBlockingQueue<NodeEvent> events = new LinkedBlockingQueue<>();
        AutoCloseable sub = o.subscribeNodeEvents(0, events::add);

        Path script = tmp.resolve("loop.py");
        Files.writeString(script, LOOP);
        Path out = tmp.resolve("attempts.txt");
        net.start(cli, "/usr/bin/python3", script.toString(), sip, Integer.toString(PORT), "10", "1.0", "12", out.toString());
        Thread.sleep(3000);
        long killed = System.currentTimeMillis();
        agents[3].destroyForcibly(); // SIGKILL
        agents[3].waitFor(10, TimeUnit.SECONDS);
        Launcher.waitFor(() -> read(out).contains("DONE"), 30, () -> "the connection loop ends: " + read(out));

        List<long[]> attempts = new ArrayList<>();
        for (String line : read(out).split("\n")) {
          if (!line.isBlank() && !line.equals("DONE")) {
            String[] f = line.split(" ");
            attempts.add(new long[] {Long.parseLong(f[0]), f[1].equals("OK") ? 1 : 0});
          }
        }
        long failedBefore = attempts.stream().filter(a -> a[1] == 0 && a[0] < killed).count();
        long failedAfter = attempts.stream().filter(a -> a[1] == 0 && a[0] >= killed).count();
        long okAfter = attempts.stream().filter(a -> a[1] == 1 && a[0] >= killed).count();
        long lastFailed = attempts.stream().filter(a -> a[1] == 0 && a[0] >= killed).mapToLong(a -> a[0]).max().orElse(killed);
        long span = lastFailed - killed;
        System.out.printf("PeerKillTest: %d attempts at 10/s (%d failed before the kill); after the SIGKILL %d failed, %d succeeded; "
            + "span from the kill to the start of the last failed attempt: %d ms%n", attempts.size(), failedBefore, failedAfter, okAfter, span);
        assertEquals(0, failedBefore, "no failures before the kill: " + read(out));
        assertTrue(span <= 3000, "the dead worker was still chosen " + span + " ms after the kill: " + read(out));
        assertTrue(okAfter >= 50, "new connections after the kill succeed on the live instance: " + okAfter);

        NodeEvent down = null;
        NodeEvent unreachable = null;
        List<NodeEvent> seen = new ArrayList<>();
        long end = System.currentTimeMillis() + 20_000;
        while ((down == null || unreachable == null) && System.currentTimeMillis() < end) {
          NodeEvent e = events.poll(500, TimeUnit.MILLISECONDS);
          if (e != null) {
            seen.add(e);
            if (e.kind() == NodeEvent.Kind.NODE_DOWN && e.nodeId().equals("w3")) {
              down = e;
            } else if (e.kind() == NodeEvent.Kind.INSTANCE_UNREACHABLE && web.equals(e.service()) && e.ordinal() == 1) {
              unreachable = e;
            }
          }
        }
        assertNotNull(down, "the orchestrator's node-down event for w3: " + seen);
        assertNotNull(unreachable, "the orchestrator's instance-unreachable event for web#1: " + seen);
        assertTrue(unreachable.sequence() > down.sequence());
        System.out.printf("PeerKillTest: node-down event #%d for w3 stamped %d ms after the kill; events %s%n", down.sequence(),
            down.atMillis() - killed, seen);
        sub.close();
      }
    } finally {
      System.out.printf("PeerKillTest took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
