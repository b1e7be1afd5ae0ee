package io.semnet.samples.soak;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Reads another JVM's memory through its local management agent (the Attach API starts it; no
 * option on the target's command line, nothing listens on the network): heap after a full GC
 * ({@link MemoryMXBean#gc}, what {@code jcmd <pid> GC.run} does) and the {@code direct} buffer
 * pool (what {@code ByteBuffer.allocateDirect}, and so Netty's pooled direct arenas, hold). Open
 * file descriptors and resident memory come from {@code /proc}. One attach per process, then one
 * JMX round trip per sample: far cheaper than a {@code jcmd} JVM per sample.
 */
final class JvmProbe implements AutoCloseable {
  /** One reading: heap used after GC, direct buffers, open file descriptors, resident set (bytes, count, bytes). */
  record Reading(long heapAfterGc, long direct, long fds, long rss) {}

  private final long pid;
  private final JMXConnector connector;
  private final MemoryMXBean memory;
  private final BufferPoolMXBean directPool;

  JvmProbe(long pid) throws IOException {
    this.pid = pid;
    String url;
    VirtualMachine vm;
    try {
      vm = VirtualMachine.attach(Long.toString(pid));
    } catch (com.sun.tools.attach.AttachNotSupportedException e) {
      throw new IOException("cannot attach to " + pid, e);
    }
    try {
      url = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    connector = JMXConnectorFactory.connect(new JMXServiceURL(url));
    MBeanServerConnection c = connector.getMBeanServerConnection();
    memory = ManagementFactory.newPlatformMXBeanProxy(c, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
    directPool = ManagementFactory.getPlatformMXBeans(c, BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow(() -> new IOException("no direct buffer pool in " + pid));
  }

  Reading read() throws IOException {
    memory.gc();
    long heap = memory.getHeapMemoryUsage().getUsed();
    long direct = directPool.getMemoryUsed();
    long fds;
    try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds = s.count();
    }
    long rss = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.startsWith("VmRSS:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")) * 1024).findFirst().orElse(-1);
    return new Reading(heap, direct, fds, rss);
  }

  @Override
  public void close() {
    try {
      connector.close();
    } catch (IOException ignored) {
      // the target may be gone
    }
  }
}
