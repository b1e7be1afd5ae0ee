package io.semnet.resolver;

import io.semnet.core.service.ServiceId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A node's anti-rollback state: per service the lowest record version it may still accept, the
 * lowest isolation-rules version, the lowest revocation-list version, and the (epoch, issue time) of the newest root heartbeat it
 * accepted. Floors only rise: applying a record, a root-signed removal, a rule set or a heartbeat
 * raises them; nothing (no withdrawal, no forgotten route, no restart) lowers them.
 *
 * <p>With a state file, {@link #save()} writes the whole state to a temporary file (mode 0600),
 * forces it to disk and renames it over the old one, so a crash leaves the old or the new state,
 * never a mix. A state file that cannot be parsed makes loading fail with the reason rather than
 * silently starting from zero. Thread-safe.
 */
final class VersionFloors {
  static final String HEADER = "semnet-resolver-state 1";
  /** Upper bound of services remembered (a floor is never evicted: beyond it, new services are refused). */
  static final int MAX_SERVICES = 1_000_000;

  private final Path file;
  private final Map<ServiceId, Long> floors = new ConcurrentHashMap<>();
  private volatile long rulesFloor;
  private volatile long revocationsFloor;
  private volatile long epoch = -1;
  private volatile long heartbeatIssuedAt = Long.MIN_VALUE;
  private volatile boolean dirty;

  private VersionFloors(Path file) {
    this.file = file;
  }

  /** Floors kept in memory only. */
  static VersionFloors inMemory() {
    return new VersionFloors(null);
  }

  /** Floors persisted in {@code file}, loaded from it if it exists. */
  static VersionFloors load(Path file) {
    VersionFloors f = new VersionFloors(file);
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String header = in.readLine();
      if (!HEADER.equals(header)) {
        throw new IllegalStateException("resolver state file " + file + " has an unknown header: " + header);
      }
      String line;
      int n = 1;
      while ((line = in.readLine()) != null) {
        n++;
        String[] p = line.split(" ");
        try {
          switch (p[0]) {
            case "epoch":
              f.epoch = Long.parseLong(p[1]);
              f.heartbeatIssuedAt = Long.parseLong(p[2]);
              break;
            case "rules":
              f.rulesFloor = Long.parseLong(p[1]);
              break;
            case "revocations":
              f.revocationsFloor = Long.parseLong(p[1]);
              break;
            case "s":
              f.floors.put(ServiceId.parse(p[1]), Long.parseLong(p[2]));
              break;
            default:
              throw new IllegalArgumentException("unknown entry '" + p[0] + "'");
          }
        } catch (RuntimeException e) {
          throw new IllegalStateException("resolver state file " + file + " line " + n + " is corrupt: " + e.getMessage(), e);
        }
      }
    } catch (NoSuchFileException e) {
      // a fresh node: no floors yet
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read resolver state file " + file, e);
    }
    return f;
  }

  /** The lowest acceptable record version of {@code service} (0 if none known). */
  long floor(ServiceId service) {
    Long v = floors.get(service);
    return v == null ? 0 : v;
  }

  /** Raises the floor of {@code service} to {@code version}; false if there was no room to remember it. */
  boolean raise(ServiceId service, long version) {
    if (!floors.containsKey(service) && floors.size() >= MAX_SERVICES) {
      return false;
    }
    Long prev = floors.get(service);
    if (prev == null || prev < version) {
      floors.merge(service, version, Math::max);
      dirty = true;
    }
    return true;
  }

  long rulesFloor() {
    return rulesFloor;
  }

  synchronized void raiseRules(long version) {
    if (version > rulesFloor) {
      rulesFloor = version;
      dirty = true;
    }
  }

  /** The lowest revocation-list version the node may still accept. */
  long revocationsFloor() {
    return revocationsFloor;
  }

  synchronized void raiseRevocations(long version) {
    if (version > revocationsFloor) {
      revocationsFloor = version;
      dirty = true;
    }
  }

  long epoch() {
    return epoch;
  }

  long heartbeatIssuedAt() {
    return heartbeatIssuedAt;
  }

  /** True if (epoch, issuedAt) is newer than the newest heartbeat accepted so far. */
  boolean isNewerHeartbeat(long e, long issuedAt) {
    return e > epoch || (e == epoch && issuedAt > heartbeatIssuedAt);
  }

  synchronized void acceptHeartbeat(long e, long issuedAt) {
    if (isNewerHeartbeat(e, issuedAt)) {
      epoch = e;
      heartbeatIssuedAt = issuedAt;
      dirty = true;
    }
  }

  int size() {
    return floors.size();
  }

  /** Writes the state if it changed since the last save (no-op without a file). */
  synchronized void save() {
    if (file == null || !dirty) {
      return;
    }
    dirty = false;
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
        Writer out = Channels.newWriter(ch, StandardCharsets.UTF_8);
        out.write(HEADER + "\n");
        out.write("epoch " + epoch + " " + heartbeatIssuedAt + "\n");
        out.write("rules " + rulesFloor + "\n");
        out.write("revocations " + revocationsFloor + "\n");
        for (Map.Entry<ServiceId, Long> e : floors.entrySet()) {
          out.write("s " + e.getKey() + " " + e.getValue() + "\n");
        }
        out.flush();
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      dirty = true;
      throw new UncheckedIOException("cannot write resolver state file " + file, e);
    }
  }
}
