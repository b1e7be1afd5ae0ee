package io.semnet.control;

import io.semnet.control.store.RootStore;
import io.semnet.core.address.ServiceIp;
import io.semnet.core.record.InstanceRecord;
import io.semnet.core.record.ServiceRecord;
import io.semnet.core.service.ServiceId;
import io.semnet.core.trust.RootAuthority;
import io.semnet.resolver.NodeRegistration;
import io.semnet.resolver.transport.InProcessTransport;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * The process {@link RootStoreCrashTest} kills: a root on a journal that registers nodes and deploys
 * services as fast as it can, and prints every subnet and address it was handed and every version
 * it published, each only after the call returned (the store acknowledged it). A line counts only
 * when it ends with {@code ;} (the process may die in the middle of one).
 *
 * <p>Arguments: the journal path and this incarnation's number (keeps names unique).
 */
public final class CrashWriter {
  private CrashWriter() {}

  public static void main(String[] args) {
    PrintStream out = System.out;
    Path journal = Path.of(args[0]);
    String inc = args[1];
    out.println("OPENING;");
    out.flush();
    RootStore store = RootStore.journal(journal);
    ServiceManager root = ServiceManager.root().id("root").transport(InProcessTransport.create())
        .authority(RootAuthority.generate()).plan(ControlPlaneBehaviourTest.PLAN)
        .policyRegistry(TestPolicies.registry()).platformPolicies(Set.of("first", "near")).store(store)
        .maintenanceInterval(Duration.ZERO).build();
    Orchestration o = root.orchestration();
    out.println("READY;");
    out.flush();
    for (int i = 0; ; i++) {
      if (i % 3 == 0) {
        String node = "n" + inc + "-" + i;
        NodeRegistration n = o.registerNode("c1", ControlPlaneBehaviourTest.endpoint(node), null);
        out.println("ALLOC subnet " + n.subnetV4() + ";");
      } else {
        ServiceId sid = ServiceId.of("app", "a", "s" + inc + "-" + i, "prod");
        ServiceRecord r = o.deploy(ServiceDescriptor.builder(sid).instances(2).build());
        StringBuilder b = new StringBuilder();
        for (ServiceIp s : r.serviceIps()) {
          b.append("ALLOC sip ").append(s.address().getHostAddress()).append(";\n");
        }
        for (InstanceRecord ir : r.instances()) {
          b.append("ALLOC iip ").append(ir.instanceIpv4().address().getHostAddress()).append(";\n");
        }
        b.append("PUB ").append(sid).append(' ').append(r.version()).append(";");
        out.println(b);
      }
      out.flush();
    }
  }
}
