package io.semnet.metrics.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table: left-aligned columns as wide as their widest cell, two spaces apart. */
final class Table {
  private final String[] headers;
  private final String[] fields;
  private final List<String[]> rows = new ArrayList<>();

  /** Columns as {@code header=field} pairs: the JSON field each column shows. */
  Table(String... columns) {
    headers = new String[columns.length];
    fields = new String[columns.length];
    for (int i = 0; i < columns.length; i++) {
      String[] hf = columns[i].split("=", 2);
      headers[i] = hf[0];
      fields[i] = hf.length > 1 ? hf[1] : hf[0];
    }
  }

  /** Adds one row per element of {@code array}. */
  Table rows(JsonNode array) {
    for (JsonNode n : array) {
      String[] r = new String[fields.length];
      for (int i = 0; i < fields.length; i++) {
        r[i] = cell(n, fields[i]);
      }
      rows.add(r);
    }
    return this;
  }

  /** A cell: the field's text, {@code -} for null or missing; {@code a+b} joins two fields with ':'. */
  private static String cell(JsonNode n, String field) {
    if (field.contains("+")) {
      String[] parts = field.split("\\+");
      StringBuilder sb = new StringBuilder();
      for (String p : parts) {
        if (sb.length() > 0) {
          sb.append(':');
        }
        sb.append(cell(n, p));
      }
      return sb.toString();
    }
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return "-";
    }
    if (v.isArray()) {
      List<String> items = new ArrayList<>();
      v.forEach(x -> items.add(x.isObject() ? x.path("ordinal").asText(x.toString()) : x.asText()));
      return items.isEmpty() ? "-" : String.join(",", items);
    }
    return v.asText();
  }

  void print(PrintWriter out) {
    int[] w = new int[headers.length];
    for (int i = 0; i < headers.length; i++) {
      w[i] = headers[i].length();
      for (String[] r : rows) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    line(out, headers, w);
    for (String[] r : rows) {
      line(out, r, w);
    }
    out.flush();
  }

  private static void line(PrintWriter out, String[] cells, int[] w) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      sb.append(cells[i]);
      if (i < cells.length - 1) {
        sb.append(" ".repeat(w[i] - cells[i].length() + 2));
      }
    }
    out.println(sb.toString().stripTrailing());
  }
}
