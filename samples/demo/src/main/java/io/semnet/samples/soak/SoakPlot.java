package io.semnet.samples.soak;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Draws the soak's series as a PNG (Java2D, headless): one panel per metric, one line per agent, kills and restarts marked. */
final class SoakPlot {
  private static final int W = 1200;
  private static final int H = 800;
  private static final Color[] LINES = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};

  private SoakPlot() {}

  static void write(SoakSeries s, boolean pass, Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    synchronized (s) {
      g.drawString(String.format("SemNet soak: %.0f s, %d new flows/min (TCP+UDP), verdict %s", s.durationSeconds, s.ratePerMinute,
          pass ? "PASS" : "FAIL"), 20, 24);
      SoakSeries.Metric[] metrics = SoakSeries.Metric.values();
      int cols = 3;
      int pw = (W - 40) / cols;
      int ph = (H - 60) / 2;
      for (int i = 0; i < metrics.length; i++) {
        panel(g, s, metrics[i], 20 + (i % cols) * pw, 40 + (i / cols) * ph, pw - 20, ph - 20);
      }
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static void panel(Graphics2D g, SoakSeries s, SoakSeries.Metric m, int x, int y, int w, int h) {
    int left = x + 60;
    int top = y + 20;
    int pw = w - 70;
    int ph = h - 45;
    double tMax = Math.max(1, s.durationSeconds);
    double vMax = 0;
    for (String worker : s.workers) {
      for (long v : s.values.get(worker).get(m)) {
        vMax = Math.max(vMax, v / m.unit);
      }
    }
    vMax = vMax <= 0 ? 1 : vMax * 1.15;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setColor(Color.BLACK);
    g.drawString(m.title, left, y + 12);
    g.setColor(new Color(0xeeeeee));
    g.fillRect(left, top, (int) (pw * Math.min(1, s.warmupSeconds / tMax)), ph);
    for (SoakSeries.Event e : s.events) {
      int ex = left + (int) (pw * e.t() / tMax);
      g.setColor(e.what().startsWith("kill") ? new Color(0xffaaaa) : new Color(0xaaddaa));
      g.drawLine(ex, top, ex, top + ph);
    }
    g.setColor(Color.GRAY);
    g.drawRect(left, top, pw, ph);
    g.setColor(Color.BLACK);
    g.drawString(fmt(vMax), x, top + 10);
    g.drawString("0", x, top + ph);
    g.drawString("0 s", left, top + ph + 15);
    g.drawString(String.format("%.0f s", tMax), left + pw - 40, top + ph + 15);
    g.setStroke(new BasicStroke(1.5f));
    int c = 0;
    for (String worker : s.workers) {
      List<Long> v = s.values.get(worker).get(m);
      g.setColor(LINES[c % LINES.length]);
      g.drawString(worker, left + pw - 40 - 40 * (s.workers.size() - c), top + 14);
      for (int i = 1; i < v.size(); i++) {
        g.drawLine(px(left, pw, s.times.get(i - 1), tMax), py(top, ph, v.get(i - 1) / m.unit, vMax),
            px(left, pw, s.times.get(i), tMax), py(top, ph, v.get(i) / m.unit, vMax));
      }
      c++;
    }
    g.setStroke(new BasicStroke(1f));
  }

  private static int px(int left, int pw, double t, double tMax) {
    return left + (int) (pw * t / tMax);
  }

  private static int py(int top, int ph, double v, double vMax) {
    return top + ph - (int) (ph * v / vMax);
  }

  private static String fmt(double v) {
    return v >= 100 ? String.format("%.0f", v) : String.format("%.1f", v);
  }
}
