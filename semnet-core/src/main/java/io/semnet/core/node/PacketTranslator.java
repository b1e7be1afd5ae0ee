package io.semnet.core.node;

/**
 * The translator between instances and the overlay: consumes packets from the {@link PacketIo}
 * (as its {@link PacketHandler}) and from the {@link Tunnel} (as its {@link TunnelReceiver}),
 * rewrites addresses and sends them on.
 */
public interface PacketTranslator extends NodeComponent, PacketHandler, TunnelReceiver {}
