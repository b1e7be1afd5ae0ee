package io.semnet.control.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A file channel that passes everything to a real one, except that it can be told to fail the next
 * positional write after writing only part of it (as a full disk or an I/O error would), or to
 * fail truncation too.
 */
final class FaultyChannel extends FileChannel {
  private final FileChannel d;
  /** Bytes the next write writes before it fails; negative: no failure armed. */
  volatile int failNextWriteAfter = -1;
  volatile boolean failTruncate;

  FaultyChannel(FileChannel d) {
    this.d = d;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    int after = failNextWriteAfter;
    if (after >= 0) {
      failNextWriteAfter = -1;
      ByteBuffer part = src.duplicate();
      part.limit(Math.min(src.limit(), src.position() + after));
      d.write(part, position);
      throw new IOException("injected: no space left on device");
    }
    return d.write(src, position);
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    if (failTruncate) {
      throw new IOException("injected: truncate failed");
    }
    d.truncate(size);
    return this;
  }

  @Override public int read(ByteBuffer dst) throws IOException { return d.read(dst); }
  @Override public long read(ByteBuffer[] dsts, int offset, int length) throws IOException { return d.read(dsts, offset, length); }
  @Override public int write(ByteBuffer src) throws IOException { return d.write(src); }
  @Override public long write(ByteBuffer[] srcs, int offset, int length) throws IOException { return d.write(srcs, offset, length); }
  @Override public long position() throws IOException { return d.position(); }
  @Override public FileChannel position(long p) throws IOException { d.position(p); return this; }
  @Override public long size() throws IOException { return d.size(); }
  @Override public void force(boolean metaData) throws IOException { d.force(metaData); }
  @Override public long transferTo(long position, long count, WritableByteChannel target) throws IOException { return d.transferTo(position, count, target); }
  @Override public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException { return d.transferFrom(src, position, count); }
  @Override public int read(ByteBuffer dst, long position) throws IOException { return d.read(dst, position); }
  @Override public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException { return d.map(mode, position, size); }
  @Override public FileLock lock(long position, long size, boolean shared) throws IOException { return d.lock(position, size, shared); }
  @Override public FileLock tryLock(long position, long size, boolean shared) throws IOException { return d.tryLock(position, size, shared); }
  @Override protected void implCloseChannel() throws IOException { d.close(); }
}
