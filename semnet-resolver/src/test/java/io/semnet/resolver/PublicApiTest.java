package io.semnet.resolver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No Caffeine type leaks into the public API: no public or protected member of a public class in a
 * package this module exports to everyone mentions {@code com.github.benmanes} (the worker
 * resolver's clock is a {@code LongSupplier} of nanoseconds, not Caffeine's {@code Ticker}).
 */
class PublicApiTest {
  private static final Path CLASSES = Path.of(System.getProperty("basedir", "."), "target/classes");

  @Test
  void noCaffeineTypeInAnExportedSignature() throws Exception {
    ModuleDescriptor module;
    try (InputStream in = Files.newInputStream(CLASSES.resolve("module-info.class"))) {
      module = ModuleDescriptor.read(in);
    }
    List<String> leaks = new ArrayList<>();
    int checked = 0;
    for (ModuleDescriptor.Exports e : module.exports()) {
      if (e.isQualified()) {
        continue;
      }
      try (Stream<Path> files = Files.list(CLASSES.resolve(e.source().replace('.', '/')))) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
          String name = e.source() + "." + f.getFileName().toString().replace(".class", "");
          Class<?> c = Class.forName(name, false, getClass().getClassLoader());
          if (!isApi(c)) {
            continue;
          }
          checked++;
          for (Method m : c.getDeclaredMethods()) {
            if (isApi(m.getModifiers())) {
              check(leaks, m.toGenericString());
            }
          }
          for (Constructor<?> k : c.getDeclaredConstructors()) {
            if (isApi(k.getModifiers())) {
              check(leaks, k.toGenericString());
            }
          }
          for (Field x : c.getDeclaredFields()) {
            if (isApi(x.getModifiers())) {
              check(leaks, x.toGenericString());
            }
          }
          check(leaks, c.getGenericSuperclass() + " " + List.of(c.getGenericInterfaces()));
        }
      }
    }
    assertTrue(checked > 20, "only " + checked + " public classes found under " + CLASSES);
    assertEquals(List.of(), leaks, "public signatures that name a Caffeine type");
  }

  private static boolean isApi(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
      if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass()) {
        return false;
      }
    }
    return true;
  }

  private static boolean isApi(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void check(List<String> leaks, String signature) {
    if (signature.contains("com.github.benmanes")) {
      leaks.add(signature);
    }
  }
}
