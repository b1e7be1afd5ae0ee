package io.semnet.core.policy;

import io.semnet.core.record.InstanceRecord;

/**
 * The instances a policy may choose from for one new flow: only instances reachable over the
 * flow's address family. Indexed, so choosing allocates nothing. The {@link #generation()} changes
 * whenever the members or their records change (a new record with another capacity or location
 * counts), so a selector can cache work derived from the set (a Maglev table, an ordering, a
 * choice) and rebuild it only then; together with {@link NodeView#version()} this covers
 * everything a policy's derived state can depend on.
 */
public interface CandidateSet {
  int size();

  InstanceRecord get(int index);

  /** Changes (to a value not used before for this set) whenever the members or their records change. */
  long generation();

  /** A candidate set over a fixed array; the generation is given by the caller. */
  static CandidateSet of(long generation, InstanceRecord... records) {
    InstanceRecord[] copy = records.clone();
    return new CandidateSet() {
      @Override
      public int size() {
        return copy.length;
      }

      @Override
      public InstanceRecord get(int index) {
        return copy[index];
      }

      @Override
      public long generation() {
        return generation;
      }
    };
  }
}
