package io.semnet.samples.bench;

import io.semnet.control.ServiceDescriptor;
import io.semnet.core.address.Addresses;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.samples.cluster.ProcessCluster;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * The SemNet side of {@code semnet-bench/e2e/run.sh}: mosquitto with TLS, a controller process and
 * two agent processes (the shaded jars, default JVM options, as {@code java -jar} runs them), each
 * node in its own namespace on a veth underlay, enrolled with join tokens; a server instance on w2
 * and a client instance on w1 attached with {@code agent attach}. Then prints {@code READY
 * <client-ns> <server-ns> <service-ip> <agent-pid>,<agent-pid>} and keeps running until killed
 * (the shutdown hook stops the agents with SIGTERM and tears everything down).
 *
 * <pre>--tunnel aead|plaintext [--busy-poll-us N]</pre>
 */
public final class TwoNodeBenchTopology {
  private TwoNodeBenchTopology() {}

  public static void main(String[] args) throws Exception {
    boolean plaintext = false;
    long busyPollMicros = 0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--tunnel")) {
        plaintext = args[++i].equals("plaintext");
      } else if (args[i].equals("--busy-poll-us")) {
        busyPollMicros = Long.parseLong(args[++i]);
      }
    }
    ProcessCluster cluster = new ProcessCluster(ProcessCluster.jar("agent"), ProcessCluster.jar("controller"), "")
        .plaintextTunnels(plaintext);
    if (busyPollMicros > 0) {
      // Both data-path threads of each agent (TUN reader and tunnel event loop), see BusyPoll.
      cluster.jvmOptions("-Dsemnet.busyPollMicros=" + busyPollMicros);
    }
    cluster.startControlPlane();
    cluster.addWorker("w1", ProcessCluster.Link.DIRECT, GeoPoint.of(48.14, 11.58));
    cluster.addWorker("w2", ProcessCluster.Link.DIRECT, GeoPoint.of(48.14, 11.58));
    ServiceId server = ServiceId.of("bench", "perf", "server", "prod");
    ServiceId client = ServiceId.of("bench", "perf", "client", "prod");
    ServiceRecord r = ProcessCluster.retry(() -> cluster.orchestration().deploy(ServiceDescriptor.builder(server).instances(1).build()));
    ProcessCluster.retry(() -> cluster.orchestration().deploy(ServiceDescriptor.builder(client).instances(1).build()));
    ProcessCluster.Instance s = cluster.startInstance("w2", server, 0);
    ProcessCluster.Instance c = cluster.startInstance("w1", client, 0);
    System.out.println("READY " + c.namespace() + " " + s.namespace() + " " + Addresses.format(r.serviceIp("rr", true).address())
        + " " + cluster.agentPids().stream().map(String::valueOf).collect(Collectors.joining(",")));
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
