package io.semnet.agent;

import java.util.Locale;
import java.util.Set;

/** Configures slf4j-simple before the first logger exists (its settings are read once). */
final class Logging {
  private Logging() {}

  static void configure(String level) {
    String l = level == null ? "info" : level.toLowerCase(Locale.ROOT);
    if (!Set.of("trace", "debug", "info", "warn", "error", "off").contains(l)) {
      throw new IllegalArgumentException("logLevel must be trace, debug, info, warn, error or off, not '" + level + "'");
    }
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", l);
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
  }

  /** Blocks until the JVM exits, after {@code onExit} ran in a shutdown hook (SIGTERM, SIGINT). */
  static void runUntilTerminated(AutoCloseable onExit) throws InterruptedException {
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        onExit.close();
      } catch (Exception e) {
        e.printStackTrace();
      } finally {
        done.countDown();
      }
    }, "semnet-shutdown"));
    done.await();
  }

  /** A command line that reports a failure as one line on stderr (exit code 1) instead of a stack trace. */
  static picocli.CommandLine commandLine(Object command) {
    return new picocli.CommandLine(command).setExecutionExceptionHandler((ex, cmd, parsed) -> {
      cmd.getErr().println(cmd.getCommandName() + ": " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
      cmd.getErr().flush();
      return 1;
    });
  }
}
