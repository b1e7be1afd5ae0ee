package io.semnet.bench.core;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.service.ServiceId;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one policy choice for a new flow, per built-in policy and candidate count. Run with
 * {@code -prof gc} to see allocation (expected 0 B/op).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class PolicyChoiceBenchmark {
  @Param({"rr", "closest", "hc", "closesthc", "fastest", "sticky"})
  public String policy;

  @Param({"1", "10", "100"})
  public int candidates;

  private CandidateSet set;
  private InstanceSelector selector;
  private LocalNodeView view;
  private long client;

  @Setup
  public void setup() {
    ServiceId svc = ServiceId.of("bench", "ns", "svc", "prod");
    view = new LocalNodeView("self", GeoPoint.of(48.1, 11.6));
    InstanceRecord[] recs = new InstanceRecord[candidates];
    for (int i = 0; i < candidates; i++) {
      String node = "node" + i;
      WorkerEndpoint w = WorkerEndpoint.of(node,
          new InetSocketAddress(Addresses.parseLiteral("192.0.2." + (1 + i % 250)), 50000 + i), new byte[32]);
      Locator loc = Locator.of(Addresses.parseLiteral("172.16." + (i / 60) + "." + (2 + i % 60)), null, w, 1);
      recs[i] = InstanceRecord.of(svc, i, Addresses.parseLiteral("172.30.0." + (1 + i)), null, loc,
          InstanceMetadata.of(GeoPoint.of(45 + i % 10, 10 + i % 7), 10 + (i * 37) % 90, ""));
      view.recordPeerRtt(node, 1_000_000L + (i * 7919L) % 5_000_000L);
      view.recordSetupLatency(recs[i].key(), 2_000_000L + (i * 104729L) % 3_000_000L);
    }
    set = CandidateSet.of(1, recs);
    selector = RoutingPolicyRegistry.getDefaultRegistry().policy(policy).newSelector();
  }

  @Benchmark
  public int choose() {
    return selector.select(set, client++, view);
  }
}
