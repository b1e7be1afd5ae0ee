package io.semnet.tunnel.internal.link;

import java.security.SecureRandom;

/**
 * This node's receiver indexes: random 32-bit values, each naming one session or one pending
 * initiation, in an open-addressing table of fixed capacity (linear probing, backward-shift
 * deletion) so a lookup allocates nothing. Indexes are drawn at random by this node, so an attacker
 * cannot aim entries at one run of slots. Event loop only (not thread-safe).
 */
public final class IndexTable {
  /** What an index names. */
  public interface Entry {
    /** The link the entry belongs to. */
    Link link();
  }

  private final int[] keys;
  private final Entry[] values;
  private final int mask;
  private final int maxEntries;
  private final SecureRandom random = new SecureRandom();
  private int size;

  /** A table for at most {@code maxEntries} entries (filled to at most half its slots). */
  public IndexTable(int maxEntries) {
    int slots = Integer.highestOneBit(Math.max(4, maxEntries) * 2 - 1) << 1;
    this.keys = new int[slots];
    this.values = new Entry[slots];
    this.mask = slots - 1;
    this.maxEntries = maxEntries;
  }

  /** The entry for {@code index}, or null. */
  public Entry get(int index) {
    for (int i = slot(index);; i = (i + 1) & mask) {
      Entry e = values[i];
      if (e == null) {
        return null;
      }
      if (keys[i] == index) {
        return e;
      }
    }
  }

  /** Adds {@code e} under a fresh random index and returns it; -1 (nothing added) if the table is full. */
  public int add(Entry e) {
    if (size >= maxEntries) {
      return -1;
    }
    while (true) {
      int index = random.nextInt();
      if (index != -1 && get(index) == null) {
        put(index, e);
        return index;
      }
    }
  }

  /** A fresh index not in use, for an entry added with {@link #put} right after; -1 if the table is full. */
  public int reserve() {
    if (size >= maxEntries) {
      return -1;
    }
    while (true) {
      int index = random.nextInt();
      if (index != -1 && get(index) == null) { // -1 means "full"
        return index;
      }
    }
  }

  /** Puts {@code e} under {@code index}, replacing what was there; false if the table is full. */
  public boolean put(int index, Entry e) {
    int i = slot(index);
    for (;; i = (i + 1) & mask) {
      if (values[i] == null) {
        if (size >= maxEntries) {
          return false;
        }
        size++;
        break;
      }
      if (keys[i] == index) {
        break;
      }
    }
    keys[i] = index;
    values[i] = e;
    return true;
  }

  /** Removes {@code index} if it names {@code e}. */
  public void remove(int index, Entry e) {
    int i = slot(index);
    for (;; i = (i + 1) & mask) {
      if (values[i] == null) {
        return;
      }
      if (keys[i] == index) {
        break;
      }
    }
    if (values[i] != e) {
      return;
    }
    values[i] = null;
    size--;
    // Backward-shift deletion: move later entries of the probe run into the gap.
    int gap = i;
    for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
      int home = slot(keys[j]);
      boolean movable = gap <= j ? (home <= gap || home > j) : (home <= gap && home > j);
      if (movable) {
        keys[gap] = keys[j];
        values[gap] = values[j];
        values[j] = null;
        gap = j;
      }
    }
  }

  /** Removes every entry whose link is closed or that {@code live} no longer holds; returns how many. */
  public int sweep(java.util.function.Predicate<Entry> live) {
    int removed = 0;
    for (int i = 0; i <= mask; i++) {
      Entry e = values[i];
      if (e != null && (e.link().closed || !live.test(e))) {
        remove(keys[i], e);
        removed++;
        i--; // the shift may have moved another entry into slot i
      }
    }
    return removed;
  }

  /** Entries in the table. */
  public int size() {
    return size;
  }

  private int slot(int index) {
    int h = index * 0x9E3779B9;
    return (h ^ (h >>> 16)) & mask;
  }
}
