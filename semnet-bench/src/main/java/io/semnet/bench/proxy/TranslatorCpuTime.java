package io.semnet.bench.proxy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * {@link TranslatorBenchmark}'s operations timed by the calling thread's CPU time instead of the
 * wall clock, for a loaded machine: on a shared VM at load 10-60 the wall-clock figures JMH reports
 * mostly measure the run queue, while CPU time counts only the time the thread ran. Each operation
 * runs {@code rounds} rounds of {@code ops} calls after a warm-up; the report gives the median and
 * the spread (min, max) of the rounds' CPU nanoseconds per call, and the allocated bytes per call.
 * Caches and a sibling hyperthread are still shared, so this complements JMH, it does not replace it.
 *
 * <pre>
 * java -cp semnet-bench/target/benchmarks.jar io.semnet.bench.proxy.TranslatorCpuTime [rounds] [ops] [operation]
 * </pre>
 */
public final class TranslatorCpuTime {
  private TranslatorCpuTime() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.ThreadMXBean alloc = (com.sun.management.ThreadMXBean) mx;
    long tid = Thread.currentThread().getId();
    String[] names = {"newFlowUdp4", "establishedTcp4", "establishedUdp6", "reverseTcp4"};
    long sink = 0;
    for (int k = 0; k < names.length; k++) {
      if (args.length > 2 && !names[k].equals(args[2])) {
        continue;
      }
      TranslatorBenchmark b = new TranslatorBenchmark(); // a fresh node per operation, as JMH forks
      b.setUp();
      LongSupplier[] calls = {b::newFlowUdp4, b::establishedTcp4, b::establishedUdp6, b::reverseTcp4};
      LongSupplier op = calls[k];
      for (int i = 0; i < 5 * ops; i++) {
        sink += op.getAsLong();
      }
      double[] ns = new double[rounds];
      long bytes0 = alloc.getThreadAllocatedBytes(tid);
      for (int r = 0; r < rounds; r++) {
        long t0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < ops; i++) {
          sink += op.getAsLong();
        }
        ns[r] = (double) (mx.getCurrentThreadCpuTime() - t0) / ops;
      }
      double bytes = (double) (alloc.getThreadAllocatedBytes(tid) - bytes0) / ((long) rounds * ops);
      Arrays.sort(ns);
      System.out.printf("%-16s cpu %8.1f ns/op (min %.1f, max %.1f; %d rounds of %d)  %.2f B/op%n", names[k],
          ns[rounds / 2], ns[0], ns[rounds - 1], rounds, ops, bytes);
      b.tearDown();
    }
    System.out.println(sink == 42 ? "" : "load " + Files.loadAverage());
  }

  /** Reads the load average (Linux), for the report. */
  private static final class Files {
    static String loadAverage() {
      try {
        return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
      } catch (java.io.IOException e) {
        return "?";
      }
    }
  }
}
