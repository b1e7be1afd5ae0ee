/**
 * Per-peer link state: {@link io.semnet.tunnel.internal.link.Link} and its sessions, the link
 * table (LRU pool, index by peer address) and the drop counters. Not API.
 */
package io.semnet.tunnel.internal.link;
