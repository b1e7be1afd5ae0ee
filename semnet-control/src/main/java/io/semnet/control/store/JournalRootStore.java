package io.semnet.control.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.core.address.IpPrefix;
import io.semnet.core.isolation.Grant;
import io.semnet.core.service.ServiceId;
import io.semnet.resolver.protocol.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RootStore#journal}: one JSON object per line, appended and fsync'd before {@link #append}
 * returns. On open the journal is replayed and then compacted (the folded state is written to a
 * temporary file, fsync'd and atomically renamed over the journal), so it never grows beyond the
 * live state plus the changes since the last start. A torn last line (crash during a write) is
 * ignored; any other malformed line is corruption and fails the open rather than risk handing out
 * an address twice.
 */
final class JournalRootStore implements RootStore {
  private static final Logger log = LoggerFactory.getLogger(JournalRootStore.class);
  static final int SCHEMA = 1;

  private final Path file;
  private final RootState state;
  private FileChannel channel;

  private JournalRootStore(Path file, RootState state, FileChannel channel) {
    this.file = file;
    this.state = state;
    this.channel = channel;
  }

  static JournalRootStore open(Path file) {
    try {
      RootState state = new RootState();
      if (Files.exists(file)) {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
          String line = lines.get(i);
          if (line.isBlank()) {
            continue;
          }
          try {
            state.apply(decode(Json.MAPPER.readTree(line)));
          } catch (IOException | RuntimeException e) {
            if (i == lines.size() - 1) {
              log.warn("journal {}: ignoring torn last line ({})", file, e.getMessage());
            } else {
              throw new IllegalStateException("journal " + file + " is corrupt at line " + (i + 1) + ": " + e.getMessage(), e);
            }
          }
        }
      }
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        for (RootEvent e : state.toEvents(Instant.now())) {
          write(out, e);
        }
        out.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      fsyncDirectory(file.toAbsolutePath().getParent());
      FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      return new JournalRootStore(file, state, ch);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open root journal " + file, e);
    }
  }

  private static void fsyncDirectory(Path dir) {
    if (dir == null) {
      return;
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some file systems cannot sync a directory; the rename is still atomic.
    }
  }

  @Override
  public synchronized RootState load() {
    RootState copy = new RootState();
    state.toEvents(Instant.MIN).forEach(copy::apply);
    return copy;
  }

  @Override
  public synchronized void append(RootEvent event) {
    if (channel == null) {
      throw new IllegalStateException("journal " + file + " is closed");
    }
    try {
      write(channel, event);
      channel.force(false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write root journal " + file, e);
    }
    state.apply(event);
  }

  @Override
  public synchronized void close() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        log.warn("closing journal {}", file, e);
      }
      channel = null;
    }
  }

  private static void write(FileChannel ch, RootEvent e) throws IOException {
    byte[] line = (Json.MAPPER.writeValueAsString(encode(e)) + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.wrap(line);
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  static ObjectNode encode(RootEvent e) {
    ObjectNode o = Json.obj();
    o.put("v", SCHEMA);
    if (e instanceof RootEvent.ServicePut) {
      o.put("type", "service");
      o.set("record", Json.record(((RootEvent.ServicePut) e).record()));
      o.set("rule", Json.rule(((RootEvent.ServicePut) e).rule()));
    } else if (e instanceof RootEvent.ServiceRemoved) {
      o.put("type", "service-removed");
      o.put("service", ((RootEvent.ServiceRemoved) e).service().toString());
      o.put("version", ((RootEvent.ServiceRemoved) e).version());
    } else if (e instanceof RootEvent.NodePut) {
      o.put("type", "node");
      o.set("node", Json.node(((RootEvent.NodePut) e).node()));
    } else if (e instanceof RootEvent.NodeRemoved) {
      o.put("type", "node-removed");
      o.put("node", ((RootEvent.NodeRemoved) e).nodeId());
    } else if (e instanceof RootEvent.PoolPut) {
      o.put("type", "pool");
      o.put("cluster", ((RootEvent.PoolPut) e).clusterId());
      o.put("pool", ((RootEvent.PoolPut) e).pool().toString());
    } else if (e instanceof RootEvent.RulesPut) {
      o.put("type", "rules");
      o.put("version", ((RootEvent.RulesPut) e).version());
      ArrayNode a = o.putArray("grants");
      ((RootEvent.RulesPut) e).grants().forEach(g -> a.add(Json.grant(g)));
    } else if (e instanceof RootEvent.VersionFloor) {
      o.put("type", "version-floor");
      o.put("version", ((RootEvent.VersionFloor) e).version());
    } else if (e instanceof RootEvent.Released) {
      o.put("type", "released");
      o.put("prefix", ((RootEvent.Released) e).prefix().toString());
      o.put("until", ((RootEvent.Released) e).until().toString());
    } else {
      throw new IllegalArgumentException("unknown event " + e);
    }
    return o;
  }

  static RootEvent decode(JsonNode n) {
    long v = Json.integer(n, "v");
    if (v != SCHEMA) {
      throw new IllegalArgumentException("journal schema " + v + " not supported (this code reads " + SCHEMA + ")");
    }
    String type = Json.text(n, "type");
    switch (type) {
      case "service":
        return new RootEvent.ServicePut(Json.record(Json.need(n, "record")), Json.rule(n.get("rule")));
      case "service-removed":
        return new RootEvent.ServiceRemoved(ServiceId.parse(Json.text(n, "service")), Json.integer(n, "version"));
      case "node":
        return new RootEvent.NodePut(Json.node(Json.need(n, "node")));
      case "node-removed":
        return new RootEvent.NodeRemoved(Json.text(n, "node"));
      case "pool":
        return new RootEvent.PoolPut(Json.text(n, "cluster"), IpPrefix.parse(Json.text(n, "pool")));
      case "rules": {
        List<Grant> grants = new ArrayList<>();
        for (JsonNode g : Json.array(n, "grants")) {
          grants.add(Json.grant(g));
        }
        return new RootEvent.RulesPut(Json.integer(n, "version"), grants);
      }
      case "version-floor":
        return new RootEvent.VersionFloor(Json.integer(n, "version"));
      case "released":
        return new RootEvent.Released(IpPrefix.parse(Json.text(n, "prefix")), Instant.parse(Json.text(n, "until")));
      default:
        throw new IllegalArgumentException("unknown journal entry type '" + type + "'");
    }
  }
}
