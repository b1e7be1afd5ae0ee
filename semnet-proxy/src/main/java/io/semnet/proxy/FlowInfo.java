package io.semnet.proxy;

import io.semnet.core.record.InstanceKey;
import java.net.InetAddress;

/**
 * A snapshot of one flow in the translator's table, for inspection. Immutable. Addresses and ports
 * are those of the flow's outbound direction (packets from the local instance): as the instance
 * sent them, and as the translator rewrote them.
 *
 * @param protocol the IP protocol number (6 TCP, 17 UDP, 1/58 ICMP)
 * @param client true for a flow a local client opened (an instance was chosen), false for one
 *     learned from a peer's first packet to a local instance
 * @param source the local instance's namespace address
 * @param sourcePort its port (the ICMP identifier for echo)
 * @param destination the address the instance sent to (a ServiceIP or InstanceIP for a client flow)
 * @param destinationPort the destination port
 * @param translatedSource the source after translation (the sender's InstanceIP, or the local instance's)
 * @param translatedDestination the destination after translation (the chosen instance's namespace address)
 * @param instance the chosen instance of a client flow, else null
 * @param peer the node id packets go to, or null when the other end is on this node
 * @param ageMillis time since the flow was created
 * @param idleMillis time since its last packet
 * @param bytesOut IP bytes translated outbound (approximate: counted without synchronisation)
 * @param bytesIn IP bytes translated inbound (approximate likewise)
 */
public record FlowInfo(
    int protocol,
    boolean client,
    InetAddress source,
    int sourcePort,
    InetAddress destination,
    int destinationPort,
    InetAddress translatedSource,
    InetAddress translatedDestination,
    InstanceKey instance,
    String peer,
    long ageMillis,
    long idleMillis,
    long bytesOut,
    long bytesIn) {}
