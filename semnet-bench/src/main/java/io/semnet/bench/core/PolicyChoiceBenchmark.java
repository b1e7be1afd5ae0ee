package io.semnet.bench.core;

import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.InstanceSelector;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.policy.RoutingPolicyRegistry;
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
 * Cost of one policy choice for a new flow, per built-in policy and candidate count, while the
 * measurements stand still (the policies then answer from state derived at the last change; what a
 * change costs is {@link PolicyUpdateBenchmark}). Run with {@code -prof gc} to see allocation
 * (expected 0 B/op).
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
    PolicyFixture f = new PolicyFixture(candidates);
    view = f.view;
    set = f.set;
    selector = RoutingPolicyRegistry.getDefaultRegistry().policy(policy).newSelector();
  }

  @Benchmark
  public int choose() {
    return selector.select(set, client++, view);
  }
}
