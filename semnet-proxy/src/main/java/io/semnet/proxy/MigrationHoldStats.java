package io.semnet.proxy;

import io.semnet.core.record.InstanceKey;
import io.semnet.core.record.Locator;

/**
 * What the source node did with the packets of one instance migrating away (see
 * {@link SemnetTranslator#freeze}): an immutable snapshot, for migration KPIs and tests.
 *
 * @param instance the migrating instance
 * @param from its locator when it was frozen
 * @param to the locator it was released to, or null while still frozen
 * @param phase "frozen", "draining" (held packets being replayed) or "forwarding"
 * @param buffered packets held while frozen (and while the FIFO drained)
 * @param replayed held packets sent on, in order, to the new place
 * @param overflowed packets dropped because the FIFO was full (packet or byte cap)
 * @param droppedFrozen packets dropped during the freeze because buffering is off
 * @param forwardedLate packets that reached this node after the release and were forwarded to the
 *     new place (senders that had not yet applied the new locator)
 * @param relayed replies of the moved instance relayed back to the sender of a flow that still
 *     reached it through this node
 * @param frozenAtNanos {@link System#nanoTime()} of the freeze
 * @param releasedAtNanos when the new locator was learned, 0 before
 * @param drainedAtNanos when the last held packet was replayed, 0 before
 */
public record MigrationHoldStats(
    InstanceKey instance, Locator from, Locator to, String phase,
    long buffered, long replayed, long overflowed, long droppedFrozen, long forwardedLate, long relayed,
    long frozenAtNanos, long releasedAtNanos, long drainedAtNanos) {

  /** Packets of the migration that never reached the new place (overflow plus drops while frozen). */
  public long lost() {
    return overflowed + droppedFrozen;
  }
}
