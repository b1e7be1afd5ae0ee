package io.semnet.core.stats;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The description of one statistic a {@link StatsSource} reports: its name, kind, help text and
 * label names. Immutable; components keep their stats in {@code static final} fields, so reporting a
 * value allocates nothing.
 *
 * <p>Names are dot-separated lower-case words in Micrometer style ({@code semnet.translator.drops});
 * a Prometheus binding renders them with underscores and, for counters, the {@code _total} suffix
 * ({@code semnet_translator_drops_total}). A stat has at most two labels, and every label's values
 * must come from a bounded set (enum reasons, peers within the tunnel's link limit, ServiceIPs within
 * the translator's cap): the source guarantees that bound, documented where the stat is defined.
 */
public final class Stat {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*");
  private static final Pattern LABEL = Pattern.compile("[a-z][a-z0-9_]*");

  /** How a value behaves over time. */
  public enum Kind {
    /** Only grows (until the process restarts). */
    COUNTER,
    /** Goes up and down: a current size, state or last measurement. */
    GAUGE
  }

  private final String name;
  private final Kind kind;
  private final String help;
  private final List<String> labels;

  private Stat(String name, Kind kind, String help, List<String> labels) {
    if (!NAME.matcher(Objects.requireNonNull(name, "name")).matches()) {
      throw new IllegalArgumentException("stat name must be dot-separated lower-case words: " + name);
    }
    if (labels.size() > 2) {
      throw new IllegalArgumentException("a stat has at most two labels: " + labels);
    }
    for (String l : labels) {
      if (!LABEL.matcher(l).matches()) {
        throw new IllegalArgumentException("label name must be lower-case snake case: " + l);
      }
    }
    this.name = name;
    this.kind = kind;
    this.help = Objects.requireNonNull(help, "help");
    this.labels = List.copyOf(labels);
  }

  /** A counter with the given label names (zero to two). */
  public static Stat counter(String name, String help, String... labels) {
    return new Stat(name, Kind.COUNTER, help, List.of(labels));
  }

  /** A gauge with the given label names (zero to two). */
  public static Stat gauge(String name, String help, String... labels) {
    return new Stat(name, Kind.GAUGE, help, List.of(labels));
  }

  public String name() {
    return name;
  }

  public Kind kind() {
    return kind;
  }

  public String help() {
    return help;
  }

  /** The label names, in the order values are reported. */
  public List<String> labels() {
    return labels;
  }

  @Override
  public String toString() {
    return name + labels;
  }
}
