package io.semnet.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.control.store.PostgresCluster;
import io.semnet.control.store.PostgresRootStore;
import io.semnet.control.store.RootEvent;
import io.semnet.control.store.RootState;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.transport.InProcessTransport;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import io.semnet.testing.Privileged;
import org.junit.jupiter.api.Test;

/**
 * Issue 15 item 4: the root store on a real PostgreSQL (a cluster of its own, as the postgres user,
 * on a free port): store semantics, leadership, fencing of a deposed leader that still runs, and
 * backup with {@code pg_dump} / restore with {@code psql} into a fresh database.
 */
@Privileged
class PostgresRootStoreTest {
  private PostgresCluster pg;
  private final RootAuthority authority = RootAuthority.generate();

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(PostgresCluster.available(), "PostgreSQL 15 is not installed");
    pg = PostgresCluster.start();
    pg.createDatabase("semnet");
  }

  @AfterEach
  void stop() {
    if (pg != null) {
      pg.close();
    }
  }

  private PostgresRootStore store(String db, String holder) {
    return PostgresRootStore.connect(pg.jdbcUrl(db), pg.props(), holder);
  }

  private ServiceManager root(PostgresRootStore store, InProcessTransport t) {
    return ServiceManager.root().id("root").transport(t).authority(authority).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near")).store(store)
        .rootEpoch(store.epoch()).maintenanceInterval(Duration.ZERO).build();
  }

  private static void collect(ServiceRecord r, Set<String> granted) {
    for (ServiceIp s : r.serviceIps()) {
      assertTrue(granted.add(s.address().getHostAddress()), "ServiceIP handed out twice: " + s);
    }
    for (InstanceRecord i : r.instances()) {
      assertTrue(granted.add(i.instanceIpv4().address().getHostAddress()), "InstanceIP handed out twice: " + i);
    }
  }

  @Test
  void leadsFencesADeposedLeaderAndRestoresFromADump() throws Exception {
    Set<String> granted = new HashSet<>();
    PostgresRootStore a = store("semnet", "root-a");
    PostgresRootStore b = store("semnet", "root-b");
    try (InProcessTransport t1 = InProcessTransport.create(); InProcessTransport t2 = InProcessTransport.create()) {
      assertEquals(1, a.awaitLeadership(Duration.ofSeconds(10)));
      assertEquals(-1, b.awaitLeadership(Duration.ofMillis(400)), "a standby waits while another leads");
      ServiceManager rootA = root(a, t1);
      Orchestration oa = rootA.orchestration();
      NodeRegistration n1 = oa.registerNode("c1", ControlPlaneBehaviourTest.endpoint("n1"), null);
      granted.add(n1.subnetV4().toString());
      long maxA = 0;
      for (int i = 0; i < 10; i++) {
        ServiceRecord r = oa.deploy(ServiceDescriptor.builder(ServiceId.of("app", "a", "s" + i, "prod")).instances(2).build());
        collect(r, granted);
        maxA = Math.max(maxA, r.version());
      }
      oa.remove(ServiceId.of("app", "a", "s9", "prod"));
      RootState seen = a.load();
      assertEquals(9, seen.services().size());
      assertTrue(a.isLeader());

      // A partition cuts a's lock connection; a keeps running with its write connection.
      int killed = terminateLockHolder();
      assertEquals(1, killed, "one session held the leader lock");
      long epochB = b.awaitLeadership(Duration.ofSeconds(10));
      assertEquals(2, epochB, "the standby takes over with the next epoch");
      assertFalse(a.isLeader(), "the deposed leader can tell");
      Exception refused = assertThrows(RuntimeException.class,
          () -> oa.deploy(ServiceDescriptor.builder(ServiceId.of("app", "a", "late", "prod")).instances(1).build()));
      assertTrue(causedBy(refused, PostgresRootStore.FencedException.class), "the deposed leader's write is fenced: " + refused);
      assertThrows(PostgresRootStore.FencedException.class, () -> a.append(new RootEvent.VersionFloor(1_000_000)));

      RootState got = b.load();
      assertEquals(9, got.services().size(), "the new leader has everything the old one acknowledged, nothing it was refused");
      assertFalse(got.services().containsKey(ServiceId.of("app", "a", "late", "prod")));
      assertTrue(got.maxVersion() >= maxA && got.maxVersion() < 1_000_000, "version " + got.maxVersion());
      ServiceManager rootB = root(b, t2);
      ServiceRecord next = rootB.orchestration().deploy(ServiceDescriptor.builder(ServiceId.of("app", "a", "after", "prod")).instances(2).build());
      assertTrue(next.version() > got.maxVersion(), "versions continue upwards: " + next.version());
      collect(next, granted);
      NodeRegistration n2 = rootB.orchestration().registerNode("c1", ControlPlaneBehaviourTest.endpoint("n2"), null);
      assertTrue(granted.add(n2.subnetV4().toString()), "subnet handed out twice: " + n2.subnetV4());
      rootA.close();
      rootB.close();

      // Backup with pg_dump, restore with psql into a fresh database; a root starts on it and continues.
      Path dump = pg.dir().resolve("semnet.sql");
      pg.dump("semnet", dump);
      pg.createDatabase("restored");
      pg.restore("restored", dump);
      try (PostgresRootStore c = store("restored", "root-c"); InProcessTransport t3 = InProcessTransport.create()) {
        assertEquals(3, c.awaitLeadership(Duration.ofSeconds(10)), "the epoch continues from the dump");
        ServiceManager rootC = root(c, t3);
        assertEquals(next, rootC.record(next.service()), "restored state serves the same record");
        ServiceRecord more = rootC.orchestration().deploy(ServiceDescriptor.builder(ServiceId.of("app", "a", "restored", "prod")).instances(2).build());
        assertTrue(more.version() > next.version());
        collect(more, granted);
        rootC.close();
      }
    } finally {
      a.close();
      b.close();
    }
  }

  private int terminateLockHolder() throws Exception {
    try (Connection admin = DriverManager.getConnection(pg.jdbcUrl("postgres"), pg.props());
         Statement s = admin.createStatement();
         ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static boolean causedBy(Throwable t, Class<? extends Throwable> c) {
    for (Throwable x = t; x != null; x = x.getCause()) {
      if (c.isInstance(x)) {
        return true;
      }
    }
    return false;
  }
}
