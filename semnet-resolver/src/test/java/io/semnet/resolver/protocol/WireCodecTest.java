package io.semnet.resolver.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.Addresses;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.Grant;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.isolation.ServiceSelector;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.SemanticName;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON wire form: every message round-trips (signatures still verify), bad input is rejected with a reason. */
class WireCodecTest {
  private final RootAuthority root = RootAuthority.generate();
  private final ServiceId s = ServiceId.of("app", "ns", "svc", "prod");

  private ServiceRecord record() {
    WorkerEndpoint w = WorkerEndpoint.of("n1", new InetSocketAddress(Addresses.parseLiteral("192.0.2.1"), 51820), new byte[32]);
    InstanceRecord i = InstanceRecord.of(s, 0, Addresses.parseLiteral("172.30.0.9"), Addresses.parseLiteral("fdec:5e00:ffff::9"),
        Locator.of(Addresses.parseLiteral("172.16.0.2"), Addresses.parseLiteral("fdec:5e00::2"), w, 7),
        InstanceMetadata.of(GeoPoint.of(48.1, 11.6), 2.5, "eu"));
    InstanceRecord j = InstanceRecord.of(s, 1, Addresses.parseLiteral("172.30.0.10"), null, null, InstanceMetadata.NONE);
    return ServiceRecord.of(s, 7, List.of(ServiceIp.of(s, "rr", Addresses.parseLiteral("172.30.0.1"))), List.of(i, j));
  }

  private static ControlMessage roundTrip(ControlMessage m) {
    return WireCodec.decode(WireCodec.encode(m));
  }

  @Test
  void everyMessageRoundTripsAndSignaturesStillVerify() {
    SignedRecord sr = SignedRecord.sign(record(), root);
    SignedRules rules = SignedRules.sign(3, IsolationRules.DEFAULT.withGrant(
        Grant.of(ServiceSelector.appNamespace("a"), ServiceSelector.parse("b/x"))), root);
    SignedRemoval removal = SignedRemoval.sign(s, 9, root);
    List<ControlMessage> all = List.of(
        new Hello("n1", Role.WORKER, GeoPoint.of(1, 2)), new Hello("c1", Role.CLUSTER, null), new HelloReply(rules),
        new Query(QueryKey.of(Addresses.parseLiteral("172.30.0.1")), true),
        new Query(QueryKey.of(SemanticName.ofPolicy(s, "rr")), false), new Query(QueryKey.of(s), true),
        QueryReply.found(sr), QueryReply.found(sr.pruned(List.of(sr.record().instance(1)))), QueryReply.notFound("no"),
        QueryReply.unavailable("down"), new Renew(List.of(new ServiceVersion(s, 4))),
        new RenewReply(List.of(sr), List.of(removal, SignedRemoval.withdrawn(s, 2))), new Drop(List.of(s)), new Ack(),
        new ErrorReply("bad"), new RecordPush(sr), new RemovalPush(removal), new RulesPush(rules));
    for (ControlMessage m : all) {
      assertEquals(m, roundTrip(m), m.type());
    }
    SignedRecord back = ((RecordPush) roundTrip(new RecordPush(sr.pruned(List.of(sr.record().instance(0)))))).record();
    assertTrue(back.verify(root.trust()), "a pruned record still verifies after the wire");
    assertTrue(((RulesPush) roundTrip(new RulesPush(rules))).rules().verify(root.trust()));
    assertTrue(((RemovalPush) roundTrip(new RemovalPush(removal))).removal().verify(root.trust()));
  }

  @Test
  void unknownFieldsAreIgnored() {
    ControlMessage m = WireCodec.decode("{\"v\":1,\"type\":\"ack\",\"future\":{\"x\":1}}".getBytes(StandardCharsets.UTF_8));
    assertEquals(new Ack(), m);
  }

  @Test
  void badInputIsRejectedWithAReason() {
    String[][] cases = {
        {"", "empty"},
        {"nope", "not JSON"},
        {"[1]", "not a JSON object"},
        {"{\"type\":\"ack\"}", "'v'"},
        {"{\"v\":0,\"type\":\"ack\"}", "schema version 0"},
        {"{\"v\":2,\"type\":\"ack\"}", "schema version 2"},
        {"{\"v\":1,\"type\":\"teleport\"}", "unknown message type"},
        {"{\"v\":1,\"type\":\"query\",\"key\":{\"address\":\"1.2.3\"},\"register\":true}", "malformed"},
        {"{\"v\":1,\"type\":\"query\",\"key\":{\"name\":\"a.b.c\"},\"register\":true}", "malformed"},
        {"{\"v\":1,\"type\":\"query\",\"key\":{\"address\":\"172.30.0.1\"},\"register\":\"yes\"}", "boolean"},
        {"{\"v\":1,\"type\":\"query-reply\",\"status\":\"found\"}", "malformed"},
        {"{\"v\":1,\"type\":\"query-reply\",\"status\":\"maybe\"}", "unknown query status"},
        {"{\"v\":1,\"type\":\"record\",\"record\":{\"record\":{\"service\":\"a.b.c.d\",\"version\":1,\"serviceIps\":[],"
            + "\"instances\":[]},\"digests\":[\"AAAA\"]}}", "32 bytes"},
        {"{\"v\":1,\"type\":\"drop\",\"services\":[1]}", "strings"},
        {"{\"v\":1,\"type\":\"hello\",\"node\":\"n\",\"role\":\"king\"}", "unknown role"},
    };
    for (String[] c : cases) {
      MalformedMessageException e = assertThrows(MalformedMessageException.class,
          () -> WireCodec.decode(c[0].getBytes(StandardCharsets.UTF_8)), c[0]);
      assertTrue(e.getMessage().contains(c[1]), "'" + e.getMessage() + "' should mention '" + c[1] + "' for " + c[0]);
    }
    assertThrows(MalformedMessageException.class, () -> WireCodec.decode(new byte[WireCodec.MAX_MESSAGE_BYTES + 1]));
  }
}
