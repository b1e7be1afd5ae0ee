package io.semnet.resolver.protocol;

/**
 * One message of the control protocol. Requests ({@link Hello}, {@link Query}, {@link Renew},
 * {@link Drop}) go from a client (worker or cluster manager) to its manager and get exactly one
 * reply ({@link HelloReply}, {@link QueryReply}, {@link RenewReply}, {@link Ack} or {@link ErrorReply}).
 * Pushes ({@link RecordPush}, {@link RemovalPush}, {@link RulesPush}, {@link RevocationsPush}, {@link HeartbeatPush}) go from a manager to a client
 * that registered interest, unsolicited; {@link AvailabilityPush} goes to every client. All implementations are immutable.
 */
public sealed interface ControlMessage
    permits Hello, HelloReply, Query, QueryReply, Renew, RenewReply, Drop, Ack, ErrorReply,
        RecordPush, RemovalPush, RulesPush, RevocationsPush, HeartbeatPush, AvailabilityPush, EnrolRequest, RenewRegistration, EnrolReply, OrchestrationCall,
        OrchestrationResult {

  /** The schema version this code writes; see {@link #MIN_ACCEPTED_SCHEMA_VERSION}. */
  int SCHEMA_VERSION = 1;

  /**
   * The oldest schema version this code still reads: the current one minus one, so that a rolling
   * upgrade (managers first, then workers, or the reverse) never has two adjacent versions that
   * cannot talk.
   */
  int MIN_ACCEPTED_SCHEMA_VERSION = Math.max(1, SCHEMA_VERSION - 1);

  /** Stable wire name of the message type (the JSON {@code type} field). */
  String type();
}
