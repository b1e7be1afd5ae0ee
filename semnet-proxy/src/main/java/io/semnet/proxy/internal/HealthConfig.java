package io.semnet.proxy.internal;

/**
 * Settings of the translator's passive health checks and ejection ({@link Health}), as
 * {@link io.semnet.proxy.TranslatorBuilder} validated them; durations in coarse milliseconds.
 *
 * @param synTimeoutMs a TCP SYN to an instance without SYN-ACK for this long is a failure
 * @param udpSilenceMs a UDP flow that had replies and kept sending without one for this long is a failure
 * @param failuresToEject failures in a row (no success between) that eject an instance
 * @param baseEjectionMs the first ejection's length; each further one in a row doubles it
 * @param maxEjectionMs the longest ejection
 * @param maxEjectedPercent most of a service's instances ejected at once, in percent (0: never eject)
 */
public record HealthConfig(long synTimeoutMs, long udpSilenceMs, int failuresToEject, long baseEjectionMs,
    long maxEjectionMs, int maxEjectedPercent) {}
