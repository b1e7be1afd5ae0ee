/**
 * The built-in routing policies: {@code rr}, {@code closest}, {@code hc}, {@code closesthc} (from the
 * thesis), {@code fastest} (power of two choices over set-up latency) and {@code sticky} (Maglev
 * consistent hashing). All choose without allocating, from state they derive once per change of the
 * candidate set or of the node view's version ({@code DerivingSelector}).
 */
package io.semnet.core.policy.internal;
