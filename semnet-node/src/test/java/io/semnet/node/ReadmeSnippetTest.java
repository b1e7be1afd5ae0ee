package io.semnet.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module README's complete worker is {@code src/test/java/ReadmeWorker.java} verbatim (at most
 * 30 lines), and it compiles on the module path, where only exported packages are visible: a
 * variant that reaches into {@code io.semnet.node.internal} does not.
 */
class ReadmeSnippetTest {
  private static final Path MODULE = Path.of(System.getProperty("basedir", "."));
  private static final Path SNIPPET = MODULE.resolve("src/test/java/ReadmeWorker.java");

  @Test
  void readmeShowsTheSnippetVerbatimInAtMostThirtyLines() throws IOException {
    String snippet = Files.readString(SNIPPET);
    String readme = Files.readString(MODULE.resolve("README.md"));
    assertTrue(readme.contains("```java\n" + snippet + "```\n"), "README.md must include " + SNIPPET + " verbatim in a java block");
    assertTrue(snippet.lines().count() <= 30, "the worker takes " + snippet.lines().count() + " lines");
  }

  @Test
  void snippetCompilesAgainstExportedPackagesOnly(@TempDir Path out) throws IOException {
    String snippet = Files.readString(SNIPPET);
    String diagnostics = compileOnModulePath(out, "ReadmeWorker", snippet);
    assertTrue(diagnostics.isEmpty(), "the README's worker does not compile on the module path:\n" + diagnostics);

    String reachingIn = snippet.replace("public final class ReadmeWorker {",
        "public final class Internal {\n  io.semnet.node.internal.NodeNetwork n;");
    String refused = compileOnModulePath(out, "Internal", reachingIn);
    assertTrue(refused.contains("io.semnet.node.internal"), "an internal package must not be visible:\n" + refused);
  }

  /** Compiles one source file in the unnamed module with the test's dependencies on the module path; returns errors. */
  private static String compileOnModulePath(Path out, String className, String source) throws IOException {
    Path src = Files.createDirectories(out.resolve("src-" + className)).resolve(className + ".java");
    Files.writeString(src, source);
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String modulePath = Arrays.stream(cp.split(File.pathSeparator))
        .filter(e -> !e.endsWith("test-classes") && !e.endsWith("-tests.jar")) // test code is no module
        .filter(e -> Files.exists(Path.of(e)))
        .collect(Collectors.joining(File.pathSeparator));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter errors = new StringWriter();
    try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
      Iterable<? extends JavaFileObject> units = fm.getJavaFileObjects(src.toFile());
      List<String> options = new ArrayList<>(List.of("--release", "17", "-d", out.resolve("classes-" + className).toString(),
          "--module-path", modulePath, "--class-path", out.toString(), "--add-modules", "io.semnet.node,io.semnet.control", "-proc:none"));
      boolean ok = javac.getTask(errors, fm, null, options, null, units).call();
      assertFalse(ok && !errors.toString().isEmpty() && errors.toString().contains("error"), errors.toString());
      return ok ? "" : errors.toString();
    }
  }
}
