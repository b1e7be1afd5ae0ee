package io.semnet.resolver.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.Addresses;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.plan.AddressPlan;
import io.semnet.core.record.GeoPoint;
import io.semnet.core.record.InstanceMetadata;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.Locator;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The public wire forms of the value types a remote node or orchestrator exchanges ({@link WireCodec}'s
 * {@code toJson}/read pairs): each round-trips through JSON <em>text</em> (as a process would send it),
 * signatures still verify after the trip, and malformed values fail with {@link MalformedMessageException}.
 */
class WireFormTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final RootAuthority root = RootAuthority.generate();
  private final ServiceId service = ServiceId.of("shop", "prod", "cart", "v1");
  private final byte[] tunnelKey = new byte[32];

  {
    for (int i = 0; i < tunnelKey.length; i++) {
      tunnelKey[i] = (byte) (i * 7 + 1);
    }
  }

  private WorkerEndpoint endpoint(String node) {
    return WorkerEndpoint.of(node, new InetSocketAddress(Addresses.parseLiteral("198.51.100.7"), 51820), tunnelKey);
  }

  private NodeRegistration registration;

  /** One registration per test: every certify call makes a certificate with a new serial. */
  private NodeRegistration registration() {
    if (registration == null) {
      registration = newRegistration();
    }
    return registration;
  }

  private NodeRegistration newRegistration() {
    return new NodeRegistration("edge-1", "cluster-a", endpoint("edge-1"), GeoPoint.of(48.14, 11.58),
        IpPrefix.parse("172.16.4.0/26"), IpPrefix.parse("fdec:5e00:0:4::/64"),
        root.certify("edge-1", tunnelKey, Instant.parse("2030-01-01T00:00:00Z")));
  }

  private InstanceRecord instance() {
    return InstanceRecord.of(service, 3, Addresses.parseLiteral("172.30.0.9"), Addresses.parseLiteral("fdec:5e00:ffff::9"),
        Locator.of(Addresses.parseLiteral("172.16.4.2"), null, endpoint("edge-1"), 5),
        InstanceMetadata.of(GeoPoint.of(48.1, 11.6), 2.5, "eu"));
  }

  private ServiceRecord serviceRecord() {
    return ServiceRecord.of(service, 9, List.of(ServiceIp.of(service, "rr", Addresses.parseLiteral("172.30.0.1"))),
        List.of(instance()));
  }

  /** Encodes to JSON text and parses it back, as between two processes. */
  private static <T> T overTheWire(ObjectNode json, Function<JsonNode, T> read) throws Exception {
    return read.apply(MAPPER.readTree(MAPPER.writeValueAsString(json)));
  }

  @Test
  void nodeRegistrationRoundTripsWithAndWithoutItsOptionalParts() throws Exception {
    NodeRegistration full = registration();
    NodeRegistration back = overTheWire(WireCodec.toJson(full), WireCodec::nodeRegistration);
    assertEquals(full, back);
    assertTrue(root.trust().verify(back.certificate(), Instant.now()), "the tunnel-key certificate still verifies");

    NodeRegistration bare = new NodeRegistration("edge-2", "cluster-a", endpoint("edge-2"), null, null, null, null);
    assertEquals(bare, overTheWire(WireCodec.toJson(bare), WireCodec::nodeRegistration));
    assertFalse(WireCodec.toJson(bare).has("certificate"), "absent parts are left out, not null");
  }

  @Test
  void signedRegistrationStillVerifiesAfterTheWireAndATamperedOneDoesNot() throws Exception {
    Instant now = Instant.now();
    SignedRegistration signed = SignedRegistration.sign(root, 42, now, now.plus(Duration.ofHours(24)), registration(),
        AddressPlan.defaults());
    SignedRegistration back = overTheWire(WireCodec.toJson(signed), WireCodec::signedRegistration);
    assertTrue(back.verify(root.trust()));
    assertEquals(42, back.serial());
    assertEquals(registration(), back.registration());
    assertEquals("cluster-a", back.managerId());
    assertEquals(WireCodec.toJson(AddressPlan.defaults()), WireCodec.toJson(back.plan()));

    ObjectNode tampered = WireCodec.toJson(signed);
    tampered.put("body", signed.body().replace("\"serial\":42", "\"serial\":43"));
    assertFalse(WireCodec.signedRegistration(tampered).verify(root.trust()), "a changed body fails verification");
    assertFalse(back.verify(RootAuthority.generate().trust()), "another root's key does not verify it");
  }

  @Test
  void recordsInstancesLocatorsEndpointsAndPlansRoundTrip() throws Exception {
    assertEquals(serviceRecord(), overTheWire(WireCodec.toJson(serviceRecord()), WireCodec::serviceRecord));
    InstanceRecord i = instance();
    assertEquals(i, overTheWire(WireCodec.toJson(i), WireCodec::instanceRecord));
    InstanceRecord unplaced = InstanceRecord.of(service, 4, Addresses.parseLiteral("172.30.0.10"), null, null,
        InstanceMetadata.NONE);
    InstanceRecord unplacedBack = overTheWire(WireCodec.toJson(unplaced), WireCodec::instanceRecord);
    assertEquals(unplaced, unplacedBack);
    assertNull(unplacedBack.locator());
    assertEquals(i.locator(), overTheWire(WireCodec.toJson(i.locator()), WireCodec::locator));
    assertEquals(endpoint("edge-1"), overTheWire(WireCodec.toJson(endpoint("edge-1")), WireCodec::workerEndpoint));

    AddressPlan plan = AddressPlan.builder().ipv6(null).quarantine(Duration.ofMinutes(3)).build();
    AddressPlan planBack = overTheWire(WireCodec.toJson(plan), WireCodec::addressPlan);
    assertNull(planBack.ipv6());
    assertEquals(plan.ipv4().platformRange(), planBack.ipv4().platformRange());
    assertEquals(plan.ipv4().nodeSubnetLength(), planBack.ipv4().nodeSubnetLength());
    assertEquals(plan.ipv4().clusterPoolLength(), planBack.ipv4().clusterPoolLength());
    assertEquals(plan.ipv4().virtualRange(), planBack.ipv4().virtualRange());
    assertEquals(Duration.ofMinutes(3), planBack.quarantine());
  }

  @Test
  void signedRecordKeepsItsSignatureOverTheWire() throws Exception {
    SignedRecord signed = SignedRecord.sign(serviceRecord(), root);
    SignedRecord back = overTheWire(WireCodec.toJson(signed), WireCodec::signedRecord);
    assertEquals(signed, back);
    assertTrue(back.verify(root.trust()));
  }

  @Test
  void malformedValuesFailWithAMalformedMessageExceptionNamingTheProblem() throws Exception {
    ObjectNode reg = WireCodec.toJson(registration());
    reg.put("node", "someone-else");
    MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> WireCodec.nodeRegistration(reg));
    assertTrue(e.getMessage().contains("registered as"), e.getMessage());

    ObjectNode noService = WireCodec.toJson(instance());
    noService.remove("service");
    e = assertThrows(MalformedMessageException.class, () -> WireCodec.instanceRecord(noService));
    assertTrue(e.getMessage().contains("service"), e.getMessage());

    ObjectNode badPrefix = WireCodec.toJson(registration());
    badPrefix.put("subnet4", "172.16.4.0/99");
    assertThrows(MalformedMessageException.class, () -> WireCodec.nodeRegistration(badPrefix));
    assertThrows(MalformedMessageException.class, () -> WireCodec.addressPlan(MAPPER.readTree("{\"ipv4\": 1}")));
    assertThrows(MalformedMessageException.class,
        () -> WireCodec.signedRegistration(MAPPER.readTree("{\"body\": \"{}\", \"sig\": \"AAAA\"}")));
  }
}
