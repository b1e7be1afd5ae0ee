package io.semnet.core.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semnet.core.address.WorkerEndpoint;
import io.semnet.core.isolation.IsolationRules;
import io.semnet.core.route.Resolution;
import io.semnet.core.route.Route;
import io.semnet.core.route.RouteListener;
import io.semnet.core.service.SemanticName;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

class SemnetNodeTest {
  private final List<String> events = new ArrayList<>();

  private abstract class Recording implements NodeComponent {
    final String name;
    final boolean failStart;
    NodeContext seen;

    Recording(String name, boolean failStart) {
      this.name = name;
      this.failStart = failStart;
    }

    @Override
    public void start(NodeContext context) throws Exception {
      seen = context;
      if (failStart) {
        throw new IllegalStateException(name + " cannot start");
      }
      events.add("start " + name);
    }

    @Override
    public void close() {
      events.add("close " + name);
    }
  }

  private final class FakeResolver extends Recording implements RouteResolver {
    FakeResolver() {
      super("resolver", false);
    }

    @Override
    public Route cached(InetAddress virtualIp) {
      return null;
    }

    @Override
    public CompletionStage<Resolution> resolve(InetAddress virtualIp) {
      return CompletableFuture.completedFuture(Resolution.notFound("none"));
    }

    @Override
    public CompletionStage<Resolution> resolve(SemanticName name) {
      return CompletableFuture.completedFuture(Resolution.notFound("none"));
    }

    @Override
    public void addListener(RouteListener listener) {}

    @Override
    public void removeListener(RouteListener listener) {}

    @Override
    public IsolationRules isolationRules() {
      return IsolationRules.DEFAULT;
    }

    @Override
    public boolean isOnline() {
      return true;
    }
  }

  private final class FakeTranslator extends Recording implements PacketTranslator {
    FakeTranslator() {
      super("translator", false);
    }

    @Override
    public void onPacket(ByteBuffer packet) {}

    @Override
    public void onData(WorkerEndpoint from, ByteBuffer packet) {}

    @Override
    public void onRouteNotFound(WorkerEndpoint from, InetAddress namespaceIp) {}
  }

  private final class FakeIo extends Recording implements PacketIo {
    FakeIo(boolean fail) {
      super("io", fail);
    }

    @Override
    public void write(ByteBuffer packet) {}

    @Override
    public int mtu() {
      return 1400;
    }
  }

  private final class FakeResponder extends Recording implements NameResponder {
    FakeResponder() {
      super("names", false);
    }
  }

  @Test
  void aComponentThatFailsBeyondRecoveryStopsTheNodeLoudly() throws Exception {
    FakeIo io = new FakeIo(false);
    SemnetNode node = SemnetNode.builder("w1").packetIo(io).translator(new FakeTranslator()).resolver(new FakeResolver())
        .build();
    node.start();
    InternalError cause = new InternalError("reader died");
    io.seen.fail(io, cause);
    assertTrue(node.isFailed());
    assertFalse(node.isRunning());
    assertSame(cause, node.failure());
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!events.contains("close resolver") && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(List.of("start resolver", "start translator", "start io", "close io", "close translator", "close resolver"),
        events);
    node.close();
    assertTrue(node.isFailed(), "stays failed");
  }

  @Test
  void startsInDependencyOrderAndClosesInReverse() throws Exception {
    FakeTranslator t = new FakeTranslator();
    SemnetNode node = SemnetNode.builder("w1")
        .nameResponder(new FakeResponder()).packetIo(new FakeIo(false)).translator(t).resolver(new FakeResolver())
        .build();
    node.start();
    assertTrue(node.isRunning());
    assertSame(t, t.seen.packetHandler());
    assertSame(t, t.seen.tunnelReceiver());
    assertEquals("w1", t.seen.nodeId());
    node.close();
    node.close();
    assertEquals(List.of("start resolver", "start translator", "start io", "start names",
        "close names", "close io", "close translator", "close resolver"), events);
    assertThrows(IllegalStateException.class, node::start);
  }

  @Test
  void aFailedStartClosesWhatStarted() {
    SemnetNode node = SemnetNode.builder("w1")
        .packetIo(new FakeIo(true)).translator(new FakeTranslator()).resolver(new FakeResolver()).build();
    IllegalStateException e = assertThrows(IllegalStateException.class, node::start);
    assertEquals("io cannot start", e.getMessage());
    assertEquals(List.of("start resolver", "start translator", "close translator", "close resolver"), events);
    assertFalse(node.isRunning());
  }

  @Test
  void inconsistentAssembliesAreRejectedWithReasons() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SemnetNode.builder("w1").translator(new FakeTranslator()).build());
    assertTrue(e.getMessage().contains("needs packet I/O"));
    assertTrue(e.getMessage().contains("needs a route resolver"));
    assertThrows(IllegalStateException.class, () -> SemnetNode.builder("w1").nameResponder(new FakeResponder()).build());
    assertThrows(IllegalStateException.class, () -> SemnetNode.builder("w1").build());
    assertThrows(IllegalArgumentException.class, () -> SemnetNode.builder(""));
  }
}
