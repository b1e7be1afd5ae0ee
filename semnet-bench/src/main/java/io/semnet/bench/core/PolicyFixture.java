package io.semnet.bench.core;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.policy.CandidateSet;
import io.semnet.core.policy.LocalNodeView;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.service.ServiceId;
import java.net.InetSocketAddress;

/**
 * The candidates and node view the policy benchmarks share: instance {@code i} on its own peer
 * {@code node<i>}, with an RTT, a set-up latency, a location and a capacity that all differ.
 */
final class PolicyFixture {
  final InstanceRecord[] records;
  final String[] peers;
  final LocalNodeView view;
  final CandidateSet set;

  PolicyFixture(int candidates) {
    ServiceId svc = ServiceId.of("bench", "ns", "svc", "prod");
    view = new LocalNodeView("self", GeoPoint.of(48.1, 11.6));
    records = new InstanceRecord[candidates];
    peers = new String[candidates];
    for (int i = 0; i < candidates; i++) {
      peers[i] = "node" + i;
      records[i] = record(svc, i, 10 + (i * 37) % 90);
      view.recordPeerRtt(peers[i], 1_000_000L + (i * 7919L) % 5_000_000L);
      view.recordSetupLatency(records[i].key(), 2_000_000L + (i * 104729L) % 3_000_000L);
    }
    set = CandidateSet.of(1, records);
  }

  /** Instance {@code i} of {@code svc} on {@code node<i>} with the given capacity. */
  static InstanceRecord record(ServiceId svc, int i, double capacity) {
    WorkerEndpoint w = WorkerEndpoint.of("node" + i,
        new InetSocketAddress(Addresses.parseLiteral("192.0.2." + (1 + i % 250)), 50000 + i), new byte[32]);
    Locator loc = Locator.of(Addresses.parseLiteral("172.16." + (i / 60) + "." + (2 + i % 60)), null, w, 1);
    return InstanceRecord.of(svc, i, Addresses.parseLiteral("172.30.0." + (1 + i)), null, loc,
        InstanceMetadata.of(GeoPoint.of(45 + i % 10, 10 + i % 7), capacity, ""));
  }
}
