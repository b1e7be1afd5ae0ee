/**
 * The root of trust: the root's Ed25519 signing identity, the public key nodes verify with, and the
 * certificates binding a node id to its tunnel key. One place for every root signature (node keys
 * here, service records in the resolver).
 */
package io.semnet.core.trust;
