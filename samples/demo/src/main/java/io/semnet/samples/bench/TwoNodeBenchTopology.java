package io.semnet.samples.bench;

import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.control.ServiceDescriptor;
import io.semnet.samples.cluster.LocalCluster;
import java.util.concurrent.CountDownLatch;

/**
 * The SemNet side of {@code semnet-bench/e2e/run.sh}: two workers on a veth underlay, a server
 * instance on w2 and a client instance on w1, then prints {@code READY <client-ns> <server-ns>
 * <service-ip>} and keeps running until killed (the shutdown hook tears everything down).
 *
 * <pre>--tunnel aead|plaintext</pre>
 */
public final class TwoNodeBenchTopology {
  private TwoNodeBenchTopology() {}

  private static String nonZero(java.util.Map<?, Long> counters) {
    StringBuilder sb = new StringBuilder();
    counters.forEach((k, v) -> {
      if (v != 0) {
        sb.append(k).append('=').append(v).append(' ');
      }
    });
    return sb.toString();
  }

  public static void main(String[] args) throws Exception {
    boolean plaintext = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--tunnel")) {
        plaintext = args[++i].equals("plaintext");
      }
    }
    LocalCluster cluster = new LocalCluster(plaintext);
    cluster.addWorker("w1", GeoPoint.of(48.14, 11.58));
    cluster.addWorker("w2", GeoPoint.of(48.14, 11.58));
    ServiceId server = ServiceId.of("bench", "perf", "server", "prod");
    ServiceId client = ServiceId.of("bench", "perf", "client", "prod");
    ServiceRecord r = cluster.deploy(ServiceDescriptor.builder(server).instances(1).build());
    cluster.deploy(ServiceDescriptor.builder(client).instances(1).build());
    LocalCluster.Instance s = cluster.startInstance("w2", server, 0);
    LocalCluster.Instance c = cluster.startInstance("w1", client, 0);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (var w : cluster.workers()) {
        System.err.println(w.nodeId() + " translator: " + nonZero(w.translator().counters()));
        System.err.println(w.nodeId() + " tunnel: " + w.tunnel().stats());
      }
    }));
    System.out.println("READY " + c.namespace() + " " + s.namespace() + " " + Addresses.format(r.serviceIp("rr", true).address()));
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
