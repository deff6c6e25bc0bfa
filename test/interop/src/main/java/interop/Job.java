package interop;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.io.DataInputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

/**
 * The deterministic Flink job of the interop harness, in a local MiniCluster.
 *
 * <p>A single-split generator emits record i = 0, 1, 2, ...; a keyed counter (parallelism 2) keeps,
 * per key {@code i % keys}, the count of records seen and the payload of the last one (pseudo-random
 * bytes derived from i, so state is incompressible and checkable). Invariant, for every record i:
 * the key's count before i is exactly {@code i / keys}, and its payload is the one of record
 * {@code i - keys}. A restore from a checkpoint therefore checks the restored state exactly on the
 * first record of every key; the first index after the restore must be the source position the
 * checkpoint recorded.
 *
 * <p>Args are key=value: mode=run|restore, out=DIR (local), ckptDir=URI, backend=rocksdb|hashmap,
 * incremental, changelog, dstl=URI, materialize, unaligned, segmentSize, slowMicros, retained,
 * interval (ms), keys, perCheckpoint, payload (bytes), managed, restore=URI or restores=SPEC;...,
 * timeoutSec; jobs=a,b with a.key=value overrides runs several jobs in one JVM.
 *
 * <p>run: writes out/job.json, out/expected/&lt;chk&gt;-&lt;subtask&gt; (last index counted at
 * each snapshot) and out/completed.jsonl (checkpoint completion times); stdin commands:
 * {@code savepoint canonical|native DIR}, {@code stop}. restore: prints one JSON result line.
 */
public final class Job {
  static final AtomicLong MISMATCHES = new AtomicLong();
  static final AtomicLong KEYS_CHECKED = new AtomicLong();
  static final AtomicLong PROCESSED = new AtomicLong();
  static final Map<Integer, Long> FIRST_INDEX = new ConcurrentHashMap<>();
  static final StringBuffer FIRST_ERRORS = new StringBuffer();

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (String s : argv) {
      int eq = s.indexOf('=');
      a.put(s.substring(0, eq), s.substring(eq + 1));
    }
    String mode = a.getOrDefault("mode", "run");
    Path out = Path.of(a.get("out"));
    Files.createDirectories(out);
    // The Hadoop configuration (HADOOP_CONF_DIR) is the same for every job of this JVM.
    FileSystem.initialize(Configuration.fromMap(S3Conf.with(Map.of("fs.hdfs.impl.disable.cache", "true"))), null);
    if (mode.equals("restore")) {
      restoreAll(a, out);
      System.exit(0);
    }
    // jobs=a,b,...: several jobs in this JVM (one local MiniCluster each); "<name>.<key>=v" overrides
    // a key for job <name>, whose files go to out/<name>. Without jobs=, one job writing to out.
    List<String> names = a.containsKey("jobs") ? List.of(a.get("jobs").split(",")) : List.of("");
    Map<String, JobClient> clients = new LinkedHashMap<>();
    for (String name : names) {
      Map<String, String> ja = argsOf(a, name);
      Path jout = name.isEmpty() ? out : out.resolve(name);
      JobClient client = start(ja, jout, false);
      clients.put(name, client);
      Files.writeString(jout.resolve("job.json"), "{\"jobId\":\"" + client.getJobID() + "\"}");
      System.out.println("{\"jobId\":\"" + client.getJobID() + "\"" + (name.isEmpty() ? "" : ",\"job\":\"" + name + "\"") + "}");
      System.out.flush();
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    // stdin: "savepoint [name] canonical|native DIR", "stop" (cancel all, checkpoints retained).
    while ((line = in.readLine()) != null) {
      String[] p = line.trim().split("\\s+");
      if (p[0].equals("stop")) break;
      if (p[0].equals("savepoint")) {
        String name = p.length > 3 ? p[1] : "";
        String format = p[p.length - 2];
        String dir = p[p.length - 1];
        try {
          SavepointFormatType type = format.equals("native") ? SavepointFormatType.NATIVE : SavepointFormatType.CANONICAL;
          String path = clients.get(name).triggerSavepoint(dir, type).get(120, TimeUnit.SECONDS);
          // The snapshot hook recorded the last index counted under the savepoint's checkpoint id.
          long id = checkpointIdOf(path);
          System.out.println("{\"savepoint\":\"" + path + "\",\"job\":\"" + name + "\",\"format\":\"" + type + "\",\"checkpointId\":" + id + "}");
        } catch (Exception e) {
          System.out.println("{\"savepointError\":\"" + String.valueOf(e).replace("\"", "'").replace("\n", " ") + "\",\"job\":\"" + name + "\"}");
        }
        System.out.flush();
      }
    }
    for (JobClient client : clients.values()) {
      try {
        client.cancel().get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("cancel: " + e);
      }
    }
    System.out.println("{\"stopped\":true,\"processed\":" + PROCESSED.get() + ",\"mismatches\":" + MISMATCHES.get() + "}");
    System.out.flush();
    System.exit(0);
  }

  /** The common args with job {@code name}'s overrides ("name.key=value") applied. */
  static Map<String, String> argsOf(Map<String, String> a, String name) {
    Map<String, String> r = new HashMap<>();
    for (Map.Entry<String, String> e : a.entrySet()) if (!e.getKey().contains(".")) r.put(e.getKey(), e.getValue());
    if (!name.isEmpty()) {
      for (Map.Entry<String, String> e : a.entrySet()) {
        if (e.getKey().startsWith(name + ".")) r.put(e.getKey().substring(name.length() + 1), e.getValue());
      }
    }
    return r;
  }

  static long checkpointIdOf(String pointer) throws Exception {
    org.apache.flink.core.fs.Path meta = new org.apache.flink.core.fs.Path(pointer, "_metadata");
    try (org.apache.flink.core.fs.FSDataInputStream in = meta.getFileSystem().open(meta)) {
      return Checkpoints.loadCheckpointMetadata(new DataInputStream(in), Job.class.getClassLoader(), pointer).getCheckpointId();
    }
  }

  /** Starts one job (the run, or a restore when restore=true) in its own local MiniCluster. */
  static JobClient start(Map<String, String> a, Path out, boolean restore) throws Exception {
    Files.createDirectories(out.resolve("expected"));
    int keys = Integer.parseInt(a.getOrDefault("keys", "20000"));
    int payload = Integer.parseInt(a.getOrDefault("payload", "1024"));
    long perCheckpoint = Long.parseLong(a.getOrDefault("perCheckpoint", "4000"));
    long slowMicros = restore ? 0 : Long.parseLong(a.getOrDefault("slowMicros", "0"));
    Map<String, String> c = new HashMap<>();
    String backend = a.getOrDefault("backend", "rocksdb");
    String incremental = a.getOrDefault("incremental", "true");
    String retained = a.getOrDefault("retained", "3");
    // Both the Flink 2.x keys and their Flink 1.20 names; each version ignores the other's.
    c.put("state.backend.type", backend);
    c.put("execution.checkpointing.incremental", incremental);
    c.put("state.backend.incremental", incremental);
    c.put("execution.checkpointing.dir", a.get("ckptDir"));
    c.put("state.checkpoints.dir", a.get("ckptDir"));
    c.put("execution.checkpointing.num-retained", retained);
    c.put("state.checkpoints.num-retained", retained);
    c.put("execution.checkpointing.data-inline-threshold", "0");
    c.put("state.storage.fs.memory-threshold", "0");
    c.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
    // A restore checks the state it starts from and stops: it takes no checkpoint unless asked to. The
    // interval key alone would turn checkpointing on, and a changelog job restored in NO_CLAIM mode then
    // fails its first checkpoint (it cannot force the full snapshot NO_CLAIM asks for).
    boolean checkpointing = !restore || a.containsKey("checkpointAfterRestore");
    if (checkpointing) c.put("execution.checkpointing.interval", a.getOrDefault("interval", "1000"));
    c.put("execution.checkpointing.min-pause", a.getOrDefault("minPause", "200"));
    c.put("execution.checkpointing.timeout", "120000");
    c.put("execution.checkpointing.tolerable-failed-checkpoints", "1000");
    c.put("restart-strategy.type", restore ? "none" : "fixed-delay");
    c.put("restart-strategy.fixed-delay.attempts", "1000");
    c.put("restart-strategy.fixed-delay.delay", "1s");
    c.put("pipeline.max-parallelism", "128");
    c.put("taskmanager.memory.managed.size", a.getOrDefault("managed", "256m"));
    c.put("io.tmp.dirs", out.resolve("tmp").toString());
    c.put("state.backend.rocksdb.localdir", out.resolve("rocksdb").toString());
    c.put("fs.hdfs.impl.disable.cache", "true");
    if (a.containsKey("segmentSize")) c.put("taskmanager.memory.segment-size", a.get("segmentSize"));
    if (Boolean.parseBoolean(a.getOrDefault("unaligned", "false"))) {
      c.put("execution.checkpointing.unaligned.enabled", "true");
      c.put("execution.checkpointing.unaligned", "true");
      c.put("execution.checkpointing.aligned-checkpoint-timeout", "0");
    }
    if (Boolean.parseBoolean(a.getOrDefault("changelog", "false"))) {
      c.put("state.changelog.enabled", "true");
      c.put("state.backend.changelog.enabled", "true");
      c.put("state.changelog.storage", "filesystem");
      c.put("state.backend.changelog.storage", "filesystem");
      c.put("dstl.dfs.base-path", a.get("dstl"));
      c.put("state.changelog.periodic-materialize.interval", a.getOrDefault("materialize", "5s"));
      c.put("state.backend.changelog.periodic-materialize.interval", a.getOrDefault("materialize", "5s"));
    }
    if (restore) {
      c.put("execution.state-recovery.path", a.get("restore"));
      c.put("execution.savepoint.path", a.get("restore"));
      c.put("execution.state-recovery.claim-mode", "NO_CLAIM");
      c.put("execution.savepoint-restore-mode", "NO_CLAIM");
    }
    // interop.flink.<key> system properties (set by Kerberized) go into every job's configuration.
    for (String k : System.getProperties().stringPropertyNames()) {
      if (k.startsWith("interop.flink.")) c.put(k.substring("interop.flink.".length()), System.getProperty(k));
    }
    Configuration conf = Configuration.fromMap(S3Conf.with(c));

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    if (checkpointing) env.enableCheckpointing(Long.parseLong(a.getOrDefault("interval", "1000")));
    RateLimiterStrategy rate = restore
        ? RateLimiterStrategy.perSecond(Double.parseDouble(a.getOrDefault("restoreRate", "200000")))
        : RateLimiterStrategy.perCheckpoint((int) perCheckpoint);
    DataGeneratorSource<Long> source =
        new DataGeneratorSource<>(i -> i, Long.MAX_VALUE, rate, Types.LONG);
    env.fromSource(source, WatermarkStrategy.noWatermarks(), "generator").uid("generator").setParallelism(1)
        .keyBy(i -> i % keys, Types.LONG)
        .process(new Counter(keys, payload, restore, out.toString(), slowMicros)).uid("counter").setParallelism(2)
        .sinkTo(new DiscardingSink<>()).uid("sink").setParallelism(2);
    return env.executeAsync("interop-counter");
  }

  /**
   * restore=PATH, or restores=SPEC;SPEC;... (one after the other in this JVM), SPEC = PATH or
   * PATH?key=value&amp;key=value (e.g. backend=hashmap, changelog=true, dstl=URI for that restore).
   * One JSON result line per restore.
   */
  static void restoreAll(Map<String, String> a, Path out) throws Exception {
    List<String> specs = a.containsKey("restores") ? List.of(a.get("restores").split(";")) : List.of(a.get("restore"));
    int n = 0;
    for (String spec : specs) {
      Map<String, String> ra = argsOf(a, "");
      ra.remove("restores");
      int q = spec.indexOf('?');
      String path = q < 0 ? spec : spec.substring(0, q);
      if (q >= 0) {
        for (String kv : spec.substring(q + 1).split("&")) {
          int eq = kv.indexOf('=');
          ra.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
      ra.put("restore", path);
      Path rout = specs.size() == 1 ? out : out.resolve("r" + (n++));
      if (!ra.containsKey("ckptDir")) ra.put("ckptDir", rout.resolve("ck").toUri().toString());
      System.out.println(restoreOne(ra, rout, path));
      System.out.flush();
    }
  }

  static String restoreOne(Map<String, String> a, Path out, String path) throws Exception {
    MISMATCHES.set(0);
    KEYS_CHECKED.set(0);
    PROCESSED.set(0);
    FIRST_INDEX.clear();
    FIRST_ERRORS.setLength(0);
    int keys = Integer.parseInt(a.getOrDefault("keys", "20000"));
    long started = System.currentTimeMillis();
    long deadline = started + 1000L * Long.parseLong(a.getOrDefault("timeoutSec", "120"));
    String error = null;
    JobClient client = null;
    try {
      client = start(a, out, true);
      // The job's result, not its status: a job that fails ends its per-job MiniCluster, after which
      // a status query only says "MiniCluster is not yet running" and hides why the restore failed.
      CompletableFuture<JobExecutionResult> result = client.getJobExecutionResult();
      while (KEYS_CHECKED.get() < keys && System.currentTimeMillis() < deadline) {
        if (result.isDone()) {
          try {
            result.get();
            error = "job ended early";
          } catch (Exception e) {
            error = causes(e);
          }
          break;
        }
        Thread.sleep(100);
      }
    } catch (Exception e) {
      error = causes(e);
    }
    if (error == null && KEYS_CHECKED.get() < keys) error = "timeout: " + KEYS_CHECKED.get() + " of " + keys + " keys checked";
    if (client != null) {
      try {
        client.cancel().get(30, TimeUnit.SECONDS);
        client.getJobExecutionResult().handle((r, t) -> null).get(30, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // already ended
      }
    }
    long first = FIRST_INDEX.values().stream().mapToLong(Long::longValue).min().orElse(-1);
    return "{\"ok\":" + (error == null) + ",\"path\":\"" + path + "\",\"ms\":" + (System.currentTimeMillis() - started)
        + ",\"keysChecked\":" + KEYS_CHECKED.get() + ",\"mismatches\":" + MISMATCHES.get()
        + ",\"firstIndex\":" + first + ",\"firstErrors\":\"" + jsonText(FIRST_ERRORS.toString()) + "\""
        + (error == null ? "" : ",\"error\":\"" + jsonText(error) + "\"") + "}";
  }

  /** Text safe inside a JSON string: no backslash, quote or control character. */
  static String jsonText(String s) {
    return s.replace("\\", "/").replace("\"", "'").replaceAll("[\\x00-\\x1f]+", " ");
  }

  /** The root cause first (what an operator needs), then the chain that led to it. */
  static String causes(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    StringBuilder sb = new StringBuilder("root cause ").append(root.getClass().getSimpleName()).append(": ").append(root.getMessage()).append(" | ");
    Throwable t = e;
    while (t != null && sb.length() < 1500) {
      sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(" <- ");
      t = t.getCause();
    }
    return sb.toString();
  }

  static byte[] payloadFor(long i, int size) {
    byte[] b = new byte[size];
    new SplittableRandom(i * 0x9E3779B97F4A7C15L + 17).nextBytes(b);
    return b;
  }

  static final class Counter extends KeyedProcessFunction<Long, Long, Long>
      implements CheckpointedFunction, CheckpointListener {
    private final int keys;
    private final int payload;
    private final boolean restore;
    private final String out;
    private transient ValueState<Long> count;
    private transient ValueState<byte[]> last;
    private transient long lastIndex;
    private transient int subtask;
    private final long slowMicros;
    private transient Set<Long> seen;

    Counter(int keys, int payload, boolean restore, String out, long slowMicros) {
      this.keys = keys;
      this.payload = payload;
      this.restore = restore;
      this.out = out;
      this.slowMicros = slowMicros;
    }

    @Override
    public void open(OpenContext ctx) {
      count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
      last = getRuntimeContext().getState(new ValueStateDescriptor<>("last", org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
      subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
      lastIndex = -1;
      seen = new HashSet<>();
    }

    @Override
    public void processElement(Long i, Context ctx, Collector<Long> outC) throws Exception {
      long key = i % keys;
      Long c0 = count.value();
      long c = c0 == null ? 0 : c0;
      boolean first = seen.add(key);
      if (first || !restore) {
        String err = null;
        if (c != i / keys) err = "key " + key + " at index " + i + ": count " + c + ", expected " + (i / keys);
        else if (c > 0 && first) {
          byte[] prev = last.value();
          if (prev == null || !Arrays.equals(prev, payloadFor(i - keys, payload))) err = "key " + key + " at index " + i + ": payload differs";
        }
        if (err != null) {
          if (MISMATCHES.incrementAndGet() <= 3) FIRST_ERRORS.append(err).append("; ");
        }
        if (first) {
          FIRST_INDEX.merge(subtask, i, Math::min);
          KEYS_CHECKED.incrementAndGet();
        }
      }
      if (!restore && seen.size() > 4 * keys) seen.clear();
      count.update(c + 1);
      last.update(payloadFor(i, payload));
      lastIndex = i;
      PROCESSED.incrementAndGet();
      // A slow operator (slowMicros per record) backpressures the source: unaligned checkpoints then
      // carry in-flight data.
      if (slowMicros > 0) java.util.concurrent.locks.LockSupport.parkNanos(slowMicros * 1000);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
      if (restore) return;
      Files.writeString(Path.of(out, "expected", ctx.getCheckpointId() + "-" + subtask), Long.toString(lastIndex));
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) {}

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
      if (restore || subtask != 0) return;
      Files.writeString(Path.of(out, "completed.jsonl"),
          "{\"chk\":" + checkpointId + ",\"t\":" + System.currentTimeMillis() + "}\n",
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
  }
}
