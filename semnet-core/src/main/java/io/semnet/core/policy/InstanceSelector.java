package io.semnet.core.policy;

/**
 * Chooses the instance for each new flow to one ServiceIP. A selector holds the policy's per-ServiceIP
 * state (a rotation counter, a hash table) and is called concurrently from data-path threads: it
 * must be thread-safe, must not block and must not allocate in {@link #select} (rebuilding derived
 * state when {@link CandidateSet#generation()} changes is allowed).
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
