package io.semnet.control;

import io.semnet.core.trust.RevokedCertificate;
import io.semnet.resolver.protocol.SignedRevocations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the MQTT broker's certificate revocation list in step with the root's revocation list, so
 * a deregistered node's client certificate is refused by the broker too: on every new list (and
 * once when attached) it writes a PEM CRL of the platform CA ({@link X509CertificateIssuer#crl})
 * naming every revoked serial (client certificates issued at enrolment carry their node
 * certificate's serial), replaces {@code crlFile} atomically, then runs {@code reload} (for
 * mosquitto: SIGHUP, e.g. {@code systemctl reload mosquitto}, which re-reads {@code crlfile} for new
 * connections). Runs on the root's publishing thread; a failure is logged and counted, and the next
 * list tries again. Thread-safe.
 */
public final class BrokerCrl {
  private static final Logger log = LoggerFactory.getLogger(BrokerCrl.class);

  private final X509CertificateIssuer issuer;
  private final Path crlFile;
  private final Runnable reload;
  private final Clock clock;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  private BrokerCrl(X509CertificateIssuer issuer, Path crlFile, Runnable reload, Clock clock) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.crlFile = Objects.requireNonNull(crlFile, "crlFile");
    this.reload = Objects.requireNonNull(reload, "reload");
    this.clock = clock;
  }

  /**
   * Writes {@code crlFile} from {@code root}'s current revocation list now (so the broker can start
   * with it) and again on every new list, each time followed by {@code reload}.
   *
   * @throws IllegalStateException if {@code root} is not a root manager
   */
  public static BrokerCrl attach(ServiceManager root, X509CertificateIssuer issuer, Path crlFile, Runnable reload) {
    BrokerCrl c = new BrokerCrl(issuer, crlFile, reload, Clock.systemUTC());
    root.onRevocations(c::write);
    return c;
  }

  /** CRLs written (and reloads run) so far. */
  public long written() {
    return written.get();
  }

  /** Lists that could not be written or reloaded. */
  public long failed() {
    return failed.get();
  }

  private synchronized void write(SignedRevocations list) {
    try {
      List<Long> serials = list.revoked().stream().map(RevokedCertificate::serial).toList();
      byte[] der = issuer.crl(serials, Math.max(1, list.version()), clock.instant());
      String pem = "-----BEGIN X509 CRL-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
          + "\n-----END X509 CRL-----\n";
      Path tmp = crlFile.resolveSibling(crlFile.getFileName() + ".tmp");
      Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--")); // the broker drops root to its own user
      Files.move(tmp, crlFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      reload.run();
      written.incrementAndGet();
      log.info("broker CRL {}: revocation list v{}, {} serials", crlFile, list.version(), serials.size());
    } catch (IOException | RuntimeException e) {
      failed.incrementAndGet();
      log.error("broker CRL {}: cannot write revocation list v{}", crlFile, list.version(), e instanceof IOException
          ? new UncheckedIOException((IOException) e) : e);
    }
  }
}
