package interop;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.FileNotFoundException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StateObject;
import org.apache.flink.runtime.state.StreamStateHandle;
import org.apache.flink.runtime.state.changelog.ChangelogStateBackendHandle;
import org.apache.flink.runtime.state.changelog.ChangelogStateHandle;
import org.apache.flink.runtime.state.changelog.ChangelogStateHandleStreamImpl;
import org.apache.flink.runtime.state.filemerging.SegmentFileStateHandle;
import org.apache.flink.runtime.state.filesystem.FileStateHandle;
import org.apache.flink.runtime.state.memory.ByteStreamStateHandle;
import org.apache.flink.runtime.state.AbstractChannelStateHandle;

/**
 * Loads every {@code _metadata} under the given roots with Flink's own
 * {@link Checkpoints#loadCheckpointMetadata} and checks that each file it references exists, at the
 * URI written in it, with at least the length the checkpoint needs. The Hadoop configuration on the
 * classpath decides which clusters resolve (the DR side knows only hdfs2).
 *
 * <p>Args: intervalMs samples(0 = until stdin closes) root[|FROM=TO]... One JSON line per sample:
 * {@code {"t":ms,"checkpoints":[{"root","path","ok","files","channelStateHandles","missing":[...]}]}}
 * (channelStateHandles: in-flight data of an unaligned checkpoint). With |FROM=TO,
 * references under that root starting with FROM are checked at TO instead (used for the DistCp copy,
 * whose _metadata still names the source cluster, so the comparison is fair about paths).
 */
public final class Check {
  record Need(String uri, long len) {}

  public static void main(String[] args) throws Exception {
    long interval = Long.parseLong(args[0]);
    long samples = Long.parseLong(args[1]);
    List<String> roots = new ArrayList<>();
    for (int i = 2; i < args.length; i++) roots.add(args[i]);
    FileSystem.initialize(Configuration.fromMap(S3Conf.with(Map.of("fs.hdfs.impl.disable.cache", "false"))), null);
    final boolean[] stop = {false};
    if (samples == 0) {
      Thread t = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
          while (in.readLine() != null) { /* any line or EOF ends */ break; }
        } catch (Exception ignored) {
        }
        stop[0] = true;
      });
      t.setDaemon(true);
      t.start();
    }
    for (long n = 0; samples == 0 ? !stop[0] : n < samples; n++) {
      long t0 = System.currentTimeMillis();
      StringBuilder sb = new StringBuilder("{\"t\":" + t0 + ",\"checkpoints\":[");
      boolean firstOut = true;
      for (String spec : roots) {
        String root = spec, from = null, to = null;
        int bar = spec.indexOf('|');
        if (bar >= 0) {
          root = spec.substring(0, bar);
          String m = spec.substring(bar + 1);
          int eq = m.indexOf('=');
          from = m.substring(0, eq);
          to = m.substring(eq + 1);
        }
        List<Path> metas = new ArrayList<>();
        try {
          collect(new Path(root), metas, 0);
        } catch (Exception e) {
          sb.append(firstOut ? "" : ",").append("{\"root\":").append(q(root)).append(",\"listError\":").append(q(String.valueOf(e))).append("}");
          firstOut = false;
          continue;
        }
        for (Path meta : metas) {
          String res = checkOne(meta, from, to);
          if (res == null) continue;
          sb.append(firstOut ? "" : ",").append("{\"root\":").append(q(root)).append(",").append(res.substring(1));
          firstOut = false;
        }
      }
      sb.append("],\"ms\":").append(System.currentTimeMillis() - t0).append("}");
      System.out.println(sb);
      System.out.flush();
      long sleep = interval - (System.currentTimeMillis() - t0);
      if (sleep > 0 && (samples == 0 ? !stop[0] : n + 1 < samples)) Thread.sleep(sleep);
    }
    System.exit(0);
  }

  static void collect(Path dir, List<Path> out, int depth) throws Exception {
    if (depth > 4) return;
    FileSystem fs = dir.getFileSystem();
    FileStatus[] st;
    try {
      st = fs.listStatus(dir);
    } catch (FileNotFoundException e) {
      return;
    }
    if (st == null) return;
    for (FileStatus s : st) {
      String name = s.getPath().getName();
      if (name.startsWith(".") || name.equals("shared") || name.equals("taskowned")) continue;
      if (s.isDir()) collect(s.getPath(), out, depth + 1);
      else if (name.equals("_metadata")) out.add(s.getPath());
    }
  }

  /** Null when the _metadata vanished (reaped) while being checked. */
  static String checkOne(Path meta, String from, String to) {
    List<Need> needs = new ArrayList<>();
    int channelHandles = 0;
    long mtime;
    try {
      FileSystem fs = meta.getFileSystem();
      mtime = fs.getFileStatus(meta).getModificationTime();
      CheckpointMetadata md;
      try (FSDataInputStream in = fs.open(meta)) {
        md = Checkpoints.loadCheckpointMetadata(new DataInputStream(in), Check.class.getClassLoader(), meta.getParent().toString());
      }
      for (OperatorState op : md.getOperatorStates()) {
        for (OperatorSubtaskState st : op.getSubtaskStates().values()) {
          for (StateObject h : st.getManagedKeyedState()) walk(h, needs);
          for (StateObject h : st.getRawKeyedState()) walk(h, needs);
          for (StateObject h : st.getManagedOperatorState()) walk(h, needs);
          for (StateObject h : st.getRawOperatorState()) walk(h, needs);
          for (StateObject h : st.getInputChannelState()) {
            walk(h, needs);
            channelHandles++;
          }
          for (StateObject h : st.getResultSubpartitionState()) {
            walk(h, needs);
            channelHandles++;
          }
        }
      }
    } catch (FileNotFoundException e) {
      return null;
    } catch (Throwable e) {
      if (!exists(meta)) return null;
      // Loading resolves the checkpoint's directory through the file system (Flink's
      // resolveCheckpointPointer, for relative handles): an unreachable NameNode there says nothing
      // about the checkpoint, and a FileNotFoundException means its _metadata or directory was gone
      // at that moment (reaped, or unpublished and published again): the same as vanishing above.
      if (unreachable(e)) {
        return "{\"path\":" + q(meta.getParent().toString()) + ",\"unavailable\":" + q("loading: " + causes(e)) + "}";
      }
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof FileNotFoundException) {
          System.err.println("vanished while loading (not counted): " + meta + ": " + causes(e));
          return null;
        }
      }
      return "{\"path\":" + q(meta.getParent().toString()) + ",\"ok\":false,\"loadError\":" + q(causes(e)) + "}";
    }
    Map<String, Long> byUri = new LinkedHashMap<>();
    for (Need n : needs) byUri.merge(n.uri(), n.len(), Math::max);
    List<String> missing = new ArrayList<>();
    Throwable unavailable = null;
    for (Map.Entry<String, Long> e : byUri.entrySet()) {
      String uri = e.getKey();
      if (from != null && uri.startsWith(from)) uri = to + uri.substring(from.length());
      try {
        Path p = new Path(uri);
        long len = p.getFileSystem().getFileStatus(p).getLen();
        if (len < e.getValue()) missing.add(uri + " (length " + len + " < " + e.getValue() + ")");
      } catch (Throwable t) {
        // A NameNode that cannot be reached says nothing about the file: this sample cannot judge the checkpoint.
        if (unreachable(t)) {
          unavailable = t;
          break;
        }
        missing.add(uri + " (" + t.getClass().getSimpleName() + ": " + String.valueOf(t.getMessage()).split("\n")[0] + ")");
      }
    }
    if (unavailable != null) {
      return "{\"path\":" + q(meta.getParent().toString()) + ",\"unavailable\":" + q(unavailable.getClass().getSimpleName() + ": " + String.valueOf(unavailable.getMessage()).split("\n")[0]) + "}";
    }
    if (!missing.isEmpty()) {
      // Reaped while we looked: the _metadata goes first, so a checkpoint whose _metadata is gone
      // (or was replaced) is not a violation.
      try {
        FileSystem fs = meta.getFileSystem();
        if (fs.getFileStatus(meta).getModificationTime() != mtime) return null;
      } catch (Throwable t) {
        return null;
      }
    }
    StringBuilder sb = new StringBuilder("{\"path\":" + q(meta.getParent().toString()) + ",\"ok\":" + missing.isEmpty()
        + ",\"files\":" + byUri.size() + ",\"channelStateHandles\":" + channelHandles + ",\"missing\":[");
    for (int i = 0; i < missing.size() && i < 5; i++) sb.append(i == 0 ? "" : ",").append(q(missing.get(i)));
    sb.append("],\"missingCount\":").append(missing.size()).append("}");
    return sb.toString();
  }

  /** An exception and its causes, each as class: first line of its message. */
  static String causes(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (sb.length() > 0) sb.append(" <- caused by ");
      sb.append(c.getClass().getName()).append(": ").append(String.valueOf(c.getMessage()).split("\n")[0]);
      if (c.getCause() == c) break;
    }
    return sb.toString();
  }

  /** Connection refused or reset, a timeout, or a standby/retriable NameNode: the cluster, not the file. */
  static boolean unreachable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.net.SocketException || c instanceof java.net.SocketTimeoutException) return true;
      if (c instanceof org.apache.hadoop.ipc.RemoteException r) {
        String n = r.getClassName();
        if (n.endsWith(".StandbyException") || n.endsWith(".RetriableException")) return true;
      }
      if (c instanceof org.apache.hadoop.ipc.StandbyException || c instanceof org.apache.hadoop.ipc.RetriableException) return true;
    }
    return false;
  }

  static boolean exists(Path p) {
    try {
      return p.getFileSystem().exists(p);
    } catch (Throwable t) {
      return false;
    }
  }

  static void walk(StateObject h, List<Need> needs) {
    if (h == null) return;
    if (h instanceof KeyGroupsStateHandle k) {
      walk(k.getDelegateStateHandle(), needs);
    } else if (h instanceof OperatorStateHandle o) {
      walk(o.getDelegateStateHandle(), needs);
    } else if (h instanceof IncrementalRemoteKeyedStateHandle inc) {
      walk(inc.getMetaDataStateHandle(), needs);
      inc.getSharedState().forEach(x -> walk(x.getHandle(), needs));
      inc.getPrivateState().forEach(x -> walk(x.getHandle(), needs));
    } else if (h instanceof ChangelogStateBackendHandle cl) {
      cl.getMaterializedStateHandles().forEach(x -> walk(x, needs));
      for (ChangelogStateHandle x : cl.getNonMaterializedStateHandles()) walk(x, needs);
    } else if (h instanceof ChangelogStateHandleStreamImpl s) {
      s.getHandlesAndOffsets().forEach(t -> walk(t.f0, needs));
    } else if (h instanceof AbstractChannelStateHandle<?> ch) {
      walk(ch.getDelegate(), needs);
    } else if (isMergedChannelHandle(h)) {
      // Flink 2.x merges a subtask's channel state into one handle (absent from 1.20, so by reflection).
      try {
        walk((StateObject) h.getClass().getMethod("getDelegate").invoke(h), needs);
      } catch (ReflectiveOperationException e) {
        needs.add(new Need("unreadable-merged-channel-state:" + e, Long.MAX_VALUE));
      }
    } else if (h instanceof SegmentFileStateHandle seg) {
      needs.add(new Need(seg.getFilePath().toString(), seg.getStartPos() + seg.getStateSize()));
    } else if (h instanceof FileStateHandle f) {
      needs.add(new Need(f.getFilePath().toString(), f.getStateSize()));
    } else if (h instanceof ByteStreamStateHandle) {
      // inline in _metadata
    } else if (h instanceof StreamStateHandle) {
      needs.add(new Need("unknown-handle:" + h.getClass().getName(), Long.MAX_VALUE));
    } else {
      needs.add(new Need("unknown-state-object:" + h.getClass().getName(), Long.MAX_VALUE));
    }
  }

  static boolean isMergedChannelHandle(StateObject h) {
    for (Class<?> c = h.getClass(); c != null; c = c.getSuperclass()) {
      if (c.getName().equals("org.apache.flink.runtime.state.AbstractMergedChannelStateHandle")) return true;
    }
    return false;
  }

  static String q(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\') b.append('\\').append(ch);
      else if (ch < 0x20) b.append(' ');
      else b.append(ch);
    }
    return b.append('"').toString();
  }
}
