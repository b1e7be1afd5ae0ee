/**
 * The packet translator of a SemNet node ({@link io.semnet.proxy.SemnetTranslator}): rewrites
 * packets between virtual addresses (ServiceIP, InstanceIP) and namespace IPs, keeps the
 * conversion table of flows, parks first packets while routes resolve, answers with ICMP where a
 * router would, and counts everything it drops ({@link io.semnet.proxy.Counter}).
 */
package io.semnet.proxy;
