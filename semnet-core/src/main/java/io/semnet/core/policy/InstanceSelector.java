package io.semnet.core.policy;

/**
 * Chooses the instance for each new flow to one ServiceIP. A selector holds the policy's per-ServiceIP
 * state (a rotation counter, a hash table) and is called concurrently from data-path threads: it
 * must be thread-safe, must not block and must not allocate in {@link #select} (rebuilding derived
 * state when {@link CandidateSet#generation()} or {@link NodeView#version()} changes is allowed).
 * It should skip candidates for which {@link NodeView#isAvailable(io.semnet.core.record.InstanceRecord)}
 * is false: their node is down or the translator ejected them after failures (see {@link NodeView}).
 *
 * <p>A selector whose choice depends on rarely changing measurements (RTT, peer liveness) and on
 * records should not rescan its candidates per flow. The built-ins keep one immutable snapshot per
 * selector, tagged with (candidate set, its generation, view, view version): a choice compares the
 * tag with the current values and answers from the snapshot; the first choice after a change
 * rebuilds it (reading {@code version()} before the measurements, so the tag is never newer than
 * the data), one thread at a time, while the others compute that one choice directly. Measurements
 * that change per flow (active flows, set-up latency) are read live, through
 * {@link NodeView#instanceStats} handles kept in the snapshot.
 */
public interface InstanceSelector {
  /** Returned when no candidate is available. */
  int NONE = -1;

  /**
   * Chooses one candidate.
   *
   * @param candidates the instances reachable over the flow's family, never null
   * @param affinityKey a stable hash of the client (its address), for policies that keep a client
   *     on one instance
   * @param view what the node measures locally
   * @return the index of the chosen candidate, or {@link #NONE} if no candidate is available
   */
  int select(CandidateSet candidates, long affinityKey, NodeView view);
}
