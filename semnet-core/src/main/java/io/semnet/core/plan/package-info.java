/**
 * The address plan and its allocators: node subnets out of the platform range (in cluster pools),
 * ServiceIPs and InstanceIPs out of the virtual range, all with quarantine before reuse.
 */
package io.semnet.core.plan;
