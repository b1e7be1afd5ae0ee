package io.semnet.bench.resolver.mqtt;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.protocol.ControlMessage;
import io.semnet.resolver.protocol.Query;
import io.semnet.resolver.protocol.QueryKey;
import io.semnet.resolver.protocol.QueryReply;
import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.transport.ClientChannel;
import io.semnet.resolver.transport.ControlTransport;
import io.semnet.resolver.transport.InProcessTransport;
import io.semnet.mqtt.MqttTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Round trip of one table query (worker to cluster manager and back, the answer carrying a signed
 * record of 3 instances) over a real mosquitto on loopback, compared with the in-process transport.
 * Sample-time mode reports the p50/p99 of single sequential requests.
 *
 * <p>Run: {@code java -jar semnet-bench/target/benchmarks.jar MqttQueryLatency -prof gc -f 1}
 * (needs /usr/sbin/mosquitto; the broker is started on a free loopback port and stopped after).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MqttQueryLatencyBenchmark {
  @Param({"mqtt", "inprocess"})
  public String transport;

  private Path dir;
  private Process broker;
  private ControlTransport server;
  private ControlTransport client;
  private ClientChannel channel;
  private Query query;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    ServiceId s = ServiceId.parse("shop.prod.cart.prod");
    List<InstanceRecord> is = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      WorkerEndpoint w = WorkerEndpoint.of("worker-" + i, new InetSocketAddress(Addresses.parseLiteral("192.0.2." + (i + 1)), 51820), new byte[32]);
      is.add(InstanceRecord.of(s, i, Addresses.parseLiteral("100.64.0." + (10 + i)), null,
          Locator.of(Addresses.parseLiteral("10.1.0." + (5 + i)), null, w, 1), InstanceMetadata.NONE));
    }
    ServiceRecord r = ServiceRecord.of(s, 1, List.of(ServiceIp.of(s, "rr", Addresses.parseLiteral("100.65.0.1"))), is);
    QueryReply reply = QueryReply.found(SignedRecord.sign(r, RootAuthority.generate()));
    query = new Query(QueryKey.of(Addresses.parseLiteral("100.65.0.1")), true);

    if (transport.equals("mqtt")) {
      int port = startBroker();
      String uri = "tcp://127.0.0.1:" + port;
      MqttTransport srv = MqttTransport.builder().brokerUri(uri).clientId("cluster-1").build();
      MqttTransport cli = MqttTransport.builder().brokerUri(uri).clientId("worker-1").build();
      if (!srv.awaitConnected(Duration.ofSeconds(10)) || !cli.awaitConnected(Duration.ofSeconds(10))) {
        throw new IllegalStateException("no broker connection");
      }
      server = srv;
      client = cli;
    } else {
      InProcessTransport t = InProcessTransport.create();
      server = t;
      client = t;
    }
    server.bind("cluster-1", (c, m) -> CompletableFuture.completedFuture(reply));
    channel = client.connect("cluster-1", "worker-1", p -> {});
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) { // until the manager's presence has propagated
      try {
        roundTrip();
        break;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
  }

  @Benchmark
  public ControlMessage roundTrip() {
    return channel.request(query, Duration.ofSeconds(5)).toCompletableFuture().join();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    channel.close();
    client.close();
    if (server != client) {
      server.close();
    }
    if (broker != null) {
      broker.destroyForcibly();
      broker.waitFor(5, TimeUnit.SECONDS);
    }
    if (dir != null) {
      try (Stream<Path> w = Files.walk(dir)) {
        w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private int startBroker() throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    dir = Files.createTempDirectory("semnet-bench-mosquitto-");
    Path conf = dir.resolve("mosquitto.conf");
    Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nset_tcp_nodelay true\n");
    broker = new ProcessBuilder("/usr/sbin/mosquitto", "-c", conf.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
        return port;
      } catch (IOException e) {
        Thread.sleep(20);
      }
    }
    throw new IOException("mosquitto did not start");
  }
}
