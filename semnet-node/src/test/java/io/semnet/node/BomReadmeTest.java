package io.semnet.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Keeps semnet-bom/README.md true: every third-party version in its table is the one the root pom
 * manages, every non-test third-party dependency of a library module (a module the BOM lists that
 * attaches javadoc, i.e. not an application like the agent) has a row, and every library module's
 * Java module name is listed.
 */
class BomReadmeTest {
  private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
  private static final Pattern ROW = Pattern.compile("^\\|([^|]*)\\|\\s*([^|]+?)\\s*\\|([^|]*)\\|\\s*$");
  private static final Pattern COORDINATE = Pattern.compile("`([\\w.-]+):([\\w.-]+)`");

  /** groupId:artifactId of the first coordinate in each table row, to the version the row gives. */
  private static Map<String, String> readmeRows() throws Exception {
    String readme = Files.readString(ROOT.resolve("semnet-bom/README.md"));
    String table = readme.substring(readme.indexOf("## Third-party versions to align"));
    Map<String, String> rows = new LinkedHashMap<>();
    for (String line : table.split("\n")) {
      Matcher row = ROW.matcher(line);
      if (row.matches()) {
        Matcher c = COORDINATE.matcher(row.group(1));
        if (c.find()) {
          rows.put(c.group(1) + ":" + c.group(2), row.group(2));
        }
      }
    }
    return rows;
  }

  private static Document pom(Path file) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
  }

  private static String child(Element e, String name) {
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element && n.getNodeName().equals(name)) {
        return n.getTextContent().trim();
      }
    }
    return null;
  }

  private static Element only(Document d, String name) {
    NodeList l = d.getDocumentElement().getElementsByTagName(name);
    return l.getLength() == 0 ? null : (Element) l.item(0);
  }

  /** The dependencies directly under {@code parent} (a dependencies element), as elements. */
  private static List<Element> dependencies(Element parent) {
    List<Element> out = new ArrayList<>();
    if (parent == null) {
      return out;
    }
    NodeList deps = parent.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      out.add((Element) deps.item(i));
    }
    return out;
  }

  /** The root pom's managed versions, properties resolved. */
  private static Map<String, String> managedVersions() throws Exception {
    Document root = pom(ROOT.resolve("pom.xml"));
    Map<String, String> props = new HashMap<>();
    Element properties = only(root, "properties");
    for (Node n = properties.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element) {
        props.put(n.getNodeName(), n.getTextContent().trim());
      }
    }
    Map<String, String> versions = new HashMap<>();
    for (Element d : dependencies(only(root, "dependencyManagement"))) {
      String v = child(d, "version");
      Matcher m = Pattern.compile("\\$\\{([^}]+)}").matcher(v);
      versions.put(child(d, "groupId") + ":" + child(d, "artifactId"), m.matches() ? props.get(m.group(1)) : v);
    }
    return versions;
  }

  /** The library modules: listed in the BOM and attaching javadoc (applications set semnet.docs.skip). */
  private static List<String> libraryModules() throws Exception {
    List<String> modules = new ArrayList<>();
    for (Element d : dependencies(only(pom(ROOT.resolve("semnet-bom/pom.xml")), "dependencyManagement"))) {
      String artifact = child(d, "artifactId");
      String modulePom = Files.readString(ROOT.resolve(artifact).resolve("pom.xml"));
      if (!modulePom.contains("<semnet.docs.skip>true</semnet.docs.skip>")) {
        modules.add(artifact);
      }
    }
    return modules;
  }

  private static boolean covers(String row, String groupId, String artifactId) {
    String[] ga = row.split(":");
    return row.equals(groupId + ":" + artifactId) || (ga[1].endsWith("-bom") && groupId.startsWith(ga[0]));
  }

  @Test
  void everyVersionInTheTableIsTheOneTheRootPomManages() throws Exception {
    Map<String, String> rows = readmeRows();
    Map<String, String> managed = managedVersions();
    assertFalse(rows.isEmpty(), "no table rows found in semnet-bom/README.md");
    rows.forEach((coordinate, version) ->
        assertEquals(managed.get(coordinate), version, "semnet-bom/README.md's version of " + coordinate));
  }

  @Test
  void everyThirdPartyDependencyOfALibraryModuleHasARowAndEveryModuleIsNamed() throws Exception {
    Map<String, String> rows = readmeRows();
    String readme = Files.readString(ROOT.resolve("semnet-bom/README.md"));
    List<String> modules = libraryModules();
    assertTrue(modules.contains("semnet-core") && modules.contains("semnet-node"), modules.toString());
    for (String module : modules) {
      Element deps = only(pom(ROOT.resolve(module).resolve("pom.xml")), "dependencies");
      for (Element d : dependencies(deps)) {
        String g = child(d, "groupId");
        String a = child(d, "artifactId");
        if (g.equals("io.semnet") || "test".equals(child(d, "scope"))) {
          continue;
        }
        assertTrue(rows.keySet().stream().anyMatch(r -> covers(r, g, a)),
            module + " depends on " + g + ":" + a + ", which semnet-bom/README.md does not list");
      }
      String info = Files.readString(ROOT.resolve(module).resolve("src/main/java/module-info.java"));
      Matcher name = Pattern.compile("(?m)^(?:open\\s+)?module\\s+([\\w.]+)").matcher(info);
      assertTrue(name.find(), module + "'s module-info names no module");
      assertTrue(readme.contains("`" + name.group(1) + "`"), "semnet-bom/README.md does not name module " + name.group(1));
    }
  }
}
