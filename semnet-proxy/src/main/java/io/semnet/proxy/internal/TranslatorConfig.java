package io.semnet.proxy.internal;

/**
 * The translator's settings as {@link io.semnet.proxy.TranslatorBuilder} validated them: an
 * immutable value, read by the parts at construction and start. Durations are already in the unit
 * the parts compare against (coarse milliseconds, or nanoseconds for the migration linger).
 *
 * @param maxFlows most flows kept before the least recently used of a sample is evicted
 * @param parkedPerFlow packets parked per new flow while its route resolves
 * @param maxParked packets parked over all flows
 * @param parkTimeoutMs how long parked packets wait for a resolution
 * @param tcpEstablishedMs idle timeout of a TCP flow that saw its SYN-ACK
 * @param tcpTransitoryMs idle timeout of a TCP flow whose handshake has not completed
 * @param tcpClosingMs idle timeout after a RST or FINs both ways
 * @param udpMs idle timeout of a UDP flow
 * @param icmpMs idle timeout of an ICMP flow
 * @param fragmentMs how long a first fragment's identification maps later fragments
 * @param sweepMs interval of the sweep that expires flows, fragments, parked packets and holds
 * @param underlayMtu MTU of the underlay the tunnel runs over
 * @param tunnelOverhead bytes the tunnel adds, or -1 to ask the tunnel at start
 * @param ipv6Underlay whether the underlay is IPv6
 * @param clampMss whether the MSS of SYNs sent through the tunnel is clamped
 * @param holdPackets packet cap of a frozen instance's FIFO
 * @param holdBytes byte cap (buffer size) of a frozen instance's FIFO
 * @param holdBuffering whether a frozen instance's packets are held by default
 * @param holdLingerNanos how long a released hold forwards late packets after the last one (also
 *     how long a migrated instance's previous place may forward and relay for it)
 * @param maxFragments fragmented datagrams tracked at once
 * @param fragmentsPerFlow fragmented datagrams tracked at once per flow
 * @param icmpErrorsPerSecond ICMP errors the node generates per second (and burst)
 * @param health passive health checks and ejection
 */
public record TranslatorConfig(
    int maxFlows, int parkedPerFlow, int maxParked, long parkTimeoutMs,
    long tcpEstablishedMs, long tcpTransitoryMs, long tcpClosingMs, long udpMs, long icmpMs, long fragmentMs,
    long sweepMs, int underlayMtu, int tunnelOverhead, boolean ipv6Underlay, boolean clampMss,
    int holdPackets, int holdBytes, boolean holdBuffering, long holdLingerNanos, int maxFragments,
    int fragmentsPerFlow, int icmpErrorsPerSecond, HealthConfig health) {}
