package io.semnet.bench.core;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
import io.semnet.core.record.InstanceRecord;
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
 * What a measurement change costs now that policies derive their choice once per change
 * ({@link PolicyChoiceBenchmark} measures choices between changes). Each operation makes one change
 * and then one choice, so it counts the update, the lazy rebuild the choice triggers and the choice
 * itself:
 *
 * <ul>
 *   <li>{@code rttChange}: the keepalive thread records an RTT sample that moves one peer's smoothed
 *       RTT (peers in turn);
 *   <li>{@code peerDownOrUp}: one peer goes down or comes back (peers in turn);
 *   <li>{@code capacityChange}: a new record changes one instance's capacity (a new candidate set
 *       generation, as the translator makes when a record arrives);
 *   <li>{@code sampleOnly}: the RTT sample alone, the cost on the keepalive thread (the same for
 *       every policy: run it with one).
 * </ul>
 *
 * <p>Allocation per operation is the rebuild's (the new snapshot), paid once per change.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class PolicyUpdateBenchmark {
  @Param({"rr", "closest", "hc", "closesthc", "fastest", "sticky"})
  public String policy;

  @Param({"100"})
  public int candidates;

  private LocalNodeView view;
  private String[] peers;
  private CandidateSet set;
  private CandidateSet[] alternate;
  private InstanceSelector selector;
  private int turn;
  private long client;

  @Setup
  public void setup() {
    PolicyFixture f = new PolicyFixture(candidates);
    view = f.view;
    peers = f.peers;
    set = f.set;
    // Two sets differing in one instance's capacity: used in turn, each is a new set to the
    // selector, as the translator's set for a newly arrived record is.
    InstanceRecord[] changed = f.records.clone();
    changed[candidates / 2] = PolicyFixture.record(f.records[0].service(), candidates / 2, 95.5);
    alternate = new CandidateSet[] {CandidateSet.of(2, f.records), CandidateSet.of(3, changed)};
    selector = RoutingPolicyRegistry.getDefaultRegistry().policy(policy).newSelector();
    selector.select(set, 0, view);
  }

  @Benchmark
  public int rttChange() {
    int t = turn++;
    // Each peer's samples alternate between far-apart values, so every sample moves its smoothed RTT.
    view.recordPeerRtt(peers[t % peers.length], ((t / peers.length) & 1) == 0 ? 900_000L : 9_000_000L);
    return selector.select(set, client++, view);
  }

  @Benchmark
  public int peerDownOrUp() {
    int t = turn++;
    view.setPeerUp(peers[t % peers.length], ((t / peers.length) & 1) != 0);
    return selector.select(set, client++, view);
  }

  @Benchmark
  public int capacityChange() {
    return selector.select(alternate[turn++ & 1], client++, view);
  }

  @Benchmark
  public long sampleOnly() {
    int t = turn++;
    view.recordPeerRtt(peers[t % peers.length], ((t / peers.length) & 1) == 0 ? 900_000L : 9_000_000L);
    return view.version();
  }
}
