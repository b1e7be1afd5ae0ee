package io.semnet.tunnel;

import io.semnet.core.address.WorkerEndpoint;

/**
 * A snapshot of one link's counters (per peer node). Immutable.
 *
 * @param peer the peer as last seen (observed address for inbound links)
 * @param established whether a session key is in place
 * @param keyId the current session's key id, or -1
 * @param txPackets datagrams sent (data, notices, probes, handshakes)
 * @param txBytes inner bytes sent in data datagrams
 * @param rxPackets authenticated datagrams received
 * @param rxBytes inner bytes received in data datagrams
 * @param drops packets to or from this peer dropped (queue full, authentication or replay failure)
 * @param lastRttNanos last probe round trip, or -1
 * @param up false while the peer's probes go unanswered
 * @param keyAgeNanos age of the current session key, or -1 without one
 */
public record LinkStats(
    WorkerEndpoint peer,
    boolean established,
    int keyId,
    long txPackets,
    long txBytes,
    long rxPackets,
    long rxBytes,
    long drops,
    long lastRttNanos,
    boolean up,
    long keyAgeNanos) {}
