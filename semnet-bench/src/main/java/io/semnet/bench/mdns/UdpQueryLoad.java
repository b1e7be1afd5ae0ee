package io.semnet.bench.mdns;

import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.RoutingPolicy;
import io.semnet.core.policy.RoutingPolicyProvider;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.mdns.ResponderCounters.Counter;
import io.semnet.mdns.SemanticNameResponder;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;

/**
 * A bounded UDP load run against a real responder on loopback: each client thread keeps a fixed
 * window of queries in flight for a fixed time, over a mix of cached instance and ServiceIP names,
 * and the run reports answered queries per second.
 *
 * <pre>java -cp semnet-bench/target/benchmarks.jar io.semnet.bench.mdns.UdpQueryLoad [seconds] [clients] [window]</pre>
 */
public final class UdpQueryLoad {
  private UdpQueryLoad() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int window = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    RoutingPolicyRegistry policies = new RoutingPolicyRegistry();
    policies.register(new RoutingPolicyProvider() {
      @Override
      public String policyName() {
        return "rr";
      }

      @Override
      public RoutingPolicy newPolicy() {
        return new RoutingPolicy() {
          @Override
          public String name() {
            return "rr";
          }

          @Override
          public InstanceSelector newSelector() {
            throw new UnsupportedOperationException();
          }
        };
      }
    });
    SemanticNameResponder responder = SemanticNameResponder.builder()
        .bridgeAddresses("127.0.0.1/8")
        .mdns(false)
        .dnsPort(0)
        .resolver(new StaticResolver())
        .policies(policies)
        .build();
    responder.start(null);
    try {
      InetSocketAddress server = responder.boundAddresses().get(0);
      byte[][] queries = {
          CachedQueryBenchmark.query(1, "shop.prod.api.backend.0.none.local", 1, 1),
          CachedQueryBenchmark.query(2, "shop.prod.api.backend.1.none.local", 28, 1),
          CachedQueryBenchmark.query(3, "shop.prod.api.backend.any.rr.local", 1, 1),
          CachedQueryBenchmark.query(4, "shop.prod.api.backend.any.rr.local", 28, 1)};
      // Warm the name store.
      try (DatagramSocket s = new DatagramSocket()) {
        s.setSoTimeout(1000);
        for (byte[] q : queries) {
          s.send(new DatagramPacket(q, q.length, server));
          s.receive(new DatagramPacket(new byte[512], 512));
        }
      }
      long[] answered = new long[clients];
      long[] lost = new long[clients];
      Thread[] threads = new Thread[clients];
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      long start = System.nanoTime();
      for (int c = 0; c < clients; c++) {
        final int id = c;
        threads[c] = new Thread(() -> run(server, queries, window, end, answered, lost, id), "load-" + c);
        threads[c].start();
      }
      for (Thread t : threads) {
        t.join();
      }
      double elapsed = (System.nanoTime() - start) / 1e9;
      long total = 0;
      long totalLost = 0;
      for (int c = 0; c < clients; c++) {
        total += answered[c];
        totalLost += lost[c];
      }
      System.out.printf("UDP load: %d clients, window %d, %.1f s: %d answers, %.0f queries/s, %d lost windows; "
              + "responder answered=%d cache_hits=%d resolves=%d%n",
          clients, window, elapsed, total, total / elapsed, totalLost,
          responder.counters().get(Counter.ANSWERED), responder.counters().get(Counter.CACHE_HITS),
          responder.counters().get(Counter.RESOLVES_STARTED));
    } finally {
      responder.close();
    }
  }

  private static void run(InetSocketAddress server, byte[][] queries, int window, long end, long[] answered,
      long[] lost, int id) {
    try (DatagramSocket s = new DatagramSocket()) {
      s.connect(server);
      s.setSoTimeout(200);
      DatagramPacket in = new DatagramPacket(new byte[512], 512);
      int next = 0;
      for (int i = 0; i < window; i++) {
        byte[] q = queries[next++ & 3];
        s.send(new DatagramPacket(q, q.length));
      }
      long n = 0;
      while (System.nanoTime() < end) {
        try {
          s.receive(in);
          n++;
          byte[] q = queries[next++ & 3];
          s.send(new DatagramPacket(q, q.length));
        } catch (SocketTimeoutException e) {
          lost[id]++;
          for (int i = 0; i < window; i++) { // refill the window after drops
            byte[] q = queries[next++ & 3];
            s.send(new DatagramPacket(q, q.length));
          }
        }
      }
      answered[id] = n;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
