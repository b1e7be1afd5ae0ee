package io.semnet.samples.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a demo prints and reports: steps, PASS/FAIL lines per scenario, the summary table, and the
 * {@code --json} file ({@code control_transport}, {@code processes}, {@code scenarios}).
 */
final class Report {
  private final List<String[]> summary = new ArrayList<>();
  private final ObjectNode json = new ObjectMapper().createObjectNode();
  private final ArrayNode processes;
  private final ArrayNode scenarios;
  private boolean allPassed = true;

  Report(String controlTransport) {
    json.put("control_transport", controlTransport);
    processes = json.putArray("processes");
    scenarios = json.putArray("scenarios");
  }

  static void step(String text) {
    System.out.println();
    System.out.println("==> " + text);
  }

  static void info(String text) {
    System.out.println("    " + text);
  }

  void process(String role, String name, long pid) {
    processes.addObject().put("role", role).put("name", name).put("pid", pid);
  }

  void record(String scenario, String expected, String observed, boolean pass) {
    summary.add(new String[] {scenario, expected, observed, pass ? "PASS" : "FAIL"});
    scenarios.addObject().put("name", scenario).put("passed", pass).put("expected", expected).put("observed", observed);
    allPassed &= pass;
    info((pass ? "PASS " : "FAIL ") + scenario + ": " + observed);
  }

  boolean allPassed() {
    return allPassed && !summary.isEmpty();
  }

  void writeJson(Path file) throws IOException {
    json.put("all_passed", allPassed());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
    info("wrote " + file);
  }

  void printSummary() {
    Map<Integer, Integer> width = new LinkedHashMap<>();
    String[] head = {"scenario", "expected", "observed", "result"};
    List<String[]> rows = new ArrayList<>();
    rows.add(head);
    rows.addAll(summary);
    for (String[] r : rows) {
      for (int k = 0; k < r.length; k++) {
        width.merge(k, r[k].length(), Math::max);
      }
    }
    for (String[] r : rows) {
      StringBuilder sb = new StringBuilder("    ");
      for (int k = 0; k < r.length; k++) {
        sb.append(String.format("%-" + width.get(k) + "s  ", r[k]));
      }
      System.out.println(sb.toString().stripTrailing());
    }
  }
}
