package io.semnet.control;

import io.semnet.resolver.protocol.SignedRecord;
import io.semnet.resolver.protocol.SignedRemoval;
import io.semnet.resolver.protocol.SignedRules;

/**
 * Where {@link Orchestration} publishes what it has committed: signed records, removals and
 * isolation rules, in the order it commits them. The root {@link ServiceManager} implements it and
 * pushes each change to the interested managers and workers; Orchestration knows nothing else of
 * the manager. Calls are made on the committing thread with Orchestration's lock held (it is
 * reentrant, so the manager may still read Orchestration's placement while publishing).
 */
interface RecordPublisher {
  /** @return the id of the publishing (root) manager, which no cluster may take */
  String id();

  /** Publishes a new or updated record. */
  void applyRecord(SignedRecord record);

  /** Publishes the removal of a service. */
  void applyRemoval(SignedRemoval removal);

  /** Publishes new isolation rules. */
  void applyRules(SignedRules rules);

  /** Publishes a new certificate revocation list. */
  void applyRevocations(io.semnet.resolver.protocol.SignedRevocations revocations);
}
