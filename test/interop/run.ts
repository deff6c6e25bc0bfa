// `npm run interop`: ckpt-replicator on the real stack.
//
// Builds test/interop (Maven, Java 17), starts two real HA HDFS clusters (MiniDFSCluster, one JVM
// each), runs real Flink jobs checkpointing to hdfs1, the real CLI daemon replicating to hdfs2, and
// real DistCp (-i -update, in a loop) beside it. It injects real faults, samples the target with a
// checker built on Flink's own metadata loader, kills hdfs1 and restores in real Flink from hdfs2
// only, with exact state checks. Writes interop-results.json; exits 1 on any violation, failed
// restore or state mismatch. Without Java or Maven it prints SKIPPED and exits 0, except under
// CI=true, where that is a failure.
//
// Options: --flink 2.3.0,1.20.3  --hadoop 3.4.2 (or INTEROP_HADOOP=3.5.0)  --live 150 (seconds)
//          --no-perf  --no-distcp  --no-variants  --no-secure  --secure-only (only the Kerberos/TLS scenario)
//          --no-s3 (skip the s3-* scenarios)  --s3-only (hdfs1 and the s3-* scenarios only; see s3.ts)
//          --small-files 500 (size of the small-files throughput checkpoint; 500 keeps CI within budget)
//          --perf-timeout 900 (seconds a perf DistCp may take; stopped there, its partial rate is reported)
//          --keep (keep the work directory; a failed run always keeps it)  --out interop-results.json (interop-results-hadoop-H.json
//          for a Hadoop version other than the default)
//          --perf-only (start the two clusters and run only the throughput cases, e.g. with
//          --small-files 5000, which does not fit CI's budget; writes interop-perf-results.json)

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Proc, freePorts, killAll, runToEnd, sleep } from "./procs.js";
import { checkpointsWithChannelState, chkOf, expectedFirstIndex, parseCompleted, parseSample, percentile, summarise, unpublishedByDaemon, type CheckerSample } from "./results.js";
import { runContractDiff } from "./contract-diff.js";
import { runSecure, type KerberosLogin, type SecureOutcome } from "./secure.js";
import { runS3, type S3Context } from "./s3.js";
import { findTool } from "../helpers/tools.js";
import { writeInteropDaemonConfig } from "./daemon-config.js";

/** DistCp copies restore-tested per job, newest first (the rest are counted as not tried). */
const DISTCP_RESTORES_PER_JOB = 6;
const here = dirname(fileURLToPath(import.meta.url));
// Compiled to node_modules/.cache/interop-dist/test/interop: find the project root by package.json.
function findRoot(start: string): string {
  let d = start;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "test", "interop", "pom.xml"))) return d;
    d = dirname(d);
  }
  throw new Error(`project root not found above ${start}`);
}
const root = findRoot(here);
const cliBin = join(root, "dist", "cli", "bin.js");

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
function opt(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}
const flag = (name: string): boolean => argv.includes(`--${name}`);
const flinkVersions = opt("flink", "2.3.0,1.20.3").split(",").filter(Boolean);
const DEFAULT_HADOOP = "3.4.2";
const hadoopVersion = opt("hadoop", process.env.INTEROP_HADOOP || DEFAULT_HADOOP);
const liveSeconds = Number(opt("live", "150"));
const doPerf = !flag("no-perf");
const smallFiles = Number(opt("small-files", "500"));
const perfTimeoutSeconds = Number(opt("perf-timeout", "900"));
const doDistcp = !flag("no-distcp");
const doVariants = !flag("no-variants");
const perfOnly = flag("perf-only");
const doS3 = !flag("no-s3");
const s3Only = flag("s3-only");
// A run of one part alone writes its own file: interop-results.json keeps the latest full run.
const defaultOut = perfOnly ? "interop-perf-results.json" : flag("secure-only") ? "interop-secure-results.json" : s3Only ? "interop-s3-results.json"
  : hadoopVersion === DEFAULT_HADOOP ? "interop-results.json" : `interop-results-hadoop-${hadoopVersion}.json`;
const resultsFile = resolve(root, opt("out", defaultOut));
const work = join(tmpdir(), `ckpt-interop-${process.pid}`);
const t0 = Date.now();
const log = (msg: string): void => {
  process.stdout.write(`[interop +${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
};

// ---------------------------------------------------------------- tools
function toolVersion(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error || r.status !== 0) return null;
  // java -version writes to stderr; mvn colours its banner.
  const first = `${r.stdout}\n${r.stderr}`.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";
  return first.replace(/\u001b\[[0-9;]*m/g, "");
}

// ---------------------------------------------------------------- WebHDFS (tiny, for the harness itself)
function httpReq(method: string, url: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolveP, reject) => {
    const req = http.request(url, { method, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolveP({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout ${method} ${url}`)));
    req.on("error", reject);
    if (body) req.end(body);
    else req.end();
  });
}

interface ClusterInfo {
  name: string;
  rpc: number[];
  http: number[];
  dnHttp: number;
  proc: Proc;
  baseDir: string;
}

async function activeNn(c: ClusterInfo): Promise<string> {
  for (let attempt = 0; attempt < 60; attempt++) {
    for (const p of c.http) {
      try {
        const r = await httpReq("GET", `http://127.0.0.1:${p}/webhdfs/v1/?op=GETFILESTATUS&user.name=root`);
        if (r.status === 200) return `http://127.0.0.1:${p}`;
      } catch {
        // down
      }
    }
    await sleep(500);
  }
  throw new Error(`${c.name}: no active NameNode`);
}

async function hdfsList(c: ClusterInfo, path: string): Promise<Array<{ pathSuffix: string; type: string; length: number }>> {
  const nn = await activeNn(c);
  const r = await httpReq("GET", `${nn}/webhdfs/v1${path}?op=LISTSTATUS&user.name=root`);
  if (r.status === 404) return [];
  if (r.status !== 200) throw new Error(`LISTSTATUS ${path}: ${r.status} ${r.body.toString().slice(0, 200)}`);
  return (JSON.parse(r.body.toString()) as { FileStatuses: { FileStatus: Array<{ pathSuffix: string; type: string; length: number }> } }).FileStatuses.FileStatus;
}

async function hdfsRead(c: ClusterInfo, path: string): Promise<Buffer> {
  const nn = await activeNn(c);
  const r = await httpReq("GET", `${nn}/webhdfs/v1${path}?op=OPEN&user.name=root`);
  if (r.status === 307 && typeof r.headers.location === "string") {
    const d = await httpReq("GET", r.headers.location);
    if (d.status === 200) return d.body;
    throw new Error(`OPEN ${path} at DataNode: ${d.status}`);
  }
  throw new Error(`OPEN ${path}: ${r.status} ${r.body.toString().slice(0, 200)}`);
}

async function hdfsWrite(c: ClusterInfo, path: string, data: Buffer): Promise<void> {
  const nn = await activeNn(c);
  const r = await httpReq("PUT", `${nn}/webhdfs/v1${path}?op=CREATE&overwrite=true&user.name=root`);
  if (r.status !== 307 || typeof r.headers.location !== "string") throw new Error(`CREATE ${path}: ${r.status}`);
  const d = await httpReq("PUT", r.headers.location, data);
  if (d.status !== 201) throw new Error(`CREATE ${path} at DataNode: ${d.status} ${d.body.toString().slice(0, 200)}`);
}

// ---------------------------------------------------------------- Java
const jvmFlags = [
  ...["java.lang", "java.lang.reflect", "java.io", "java.net", "java.nio", "sun.nio.ch", "java.text", "java.time", "java.math",
    "java.util", "java.util.concurrent", "java.util.concurrent.atomic", "java.util.concurrent.locks", "java.util.zip",
    "sun.security.util", "sun.security.x509"].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
  "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
  "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
  "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
  "-Djava.net.preferIPv4Stack=true",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
];

interface Build {
  flink: string;
  classpath: string; // classes dir + dependencies
}

/** True when `out` exists and is newer than every input (the pom and the Java sources). */
function upToDate(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return false;
  const t = statSync(out).mtimeMs;
  const walk = (p: string): boolean => statSync(p).isDirectory() ? readdirSync(p).every((n) => walk(join(p, n))) : statSync(p).mtimeMs < t;
  return inputs.every((i) => !existsSync(i) || walk(i));
}

function mvn(args: string[]): void {
  const logFile = join(work, "maven.log");
  const r = spawnSync("mvn", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 15 * 60_000, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(logFile, `${r.stdout ?? ""}${r.stderr ?? ""}`, { flag: "a" });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`.slice(-4000));
    throw new Error(`mvn ${args.join(" ")} failed (exit ${String(r.status)})`);
  }
}

function mavenBuild(flink: string): Build {
  const dir = join(root, "test", "interop", "target", `flink-${flink}-hadoop-${hadoopVersion}`);
  const cpFile = join(dir, "classpath.txt");
  const inputs = [join(root, "test", "interop", "pom.xml"), join(root, "test", "interop", "src")];
  if (upToDate(cpFile, inputs)) return { flink, classpath: `${join(dir, "classes")}:${readFileSync(cpFile, "utf8").trim()}` };
  const args = ["-q", "-B", "-f", join(root, "test", "interop", "pom.xml"), `-Dflink.version=${flink}`, `-Dhadoop.version=${hadoopVersion}`,
    "compile", "dependency:build-classpath", `-Dmdep.outputFile=${cpFile}`];
  mvn(args);
  return { flink, classpath: `${join(dir, "classes")}:${readFileSync(cpFile, "utf8").trim()}` };
}

function distcpBuild(): string {
  const cpFile = join(root, "test", "interop", "distcp", "target", `classpath-${hadoopVersion}.txt`);
  mkdirSync(dirname(cpFile), { recursive: true });
  if (!upToDate(cpFile, [join(root, "test", "interop", "distcp", "pom.xml")])) {
    mvn(["-q", "-B", "-f", join(root, "test", "interop", "distcp", "pom.xml"), `-Dhadoop.version=${hadoopVersion}`,
      "dependency:build-classpath", `-Dmdep.outputFile=${cpFile}`]);
  }
  return readFileSync(cpFile, "utf8").trim();
}

/**
 * One HDFS client setting for every writer in the harness, both clusters' DataNodes (their WebHDFS
 * CREATE handler writes through a DFSClient) and DistCp alike: the first retry of `completeFile`
 * waits 20 ms instead of 400 ms. A file's close often races the DataNode's block report, and the
 * DataNode's handler sleeps on a Netty event-loop thread, so with the default a real DataNode
 * writes a few small files per second whatever the client's concurrency (measured: 15 files/s at 16
 * parallel writers; 32 files/s with 20 ms). Both products copy through the same tuned clusters.
 */
const HDFS_WRITE_TUNING: Array<[string, string]> = [["dfs.client.block.write.locateFollowingBlock.initial.delay.ms", "20"]];

/** java @argfile: the classpath is long. */
function javaArgs(name: string, classpath: string, heap: string, main: string, args: string[], props: string[] = []): string[] {
  const argfile = join(work, `${name}.args`);
  writeFileSync(argfile, [...jvmFlags, ...props, `-Xmx${heap}`, "-cp", classpath].map((a) => (a.includes(" ") ? `"${a}"` : a)).join("\n"));
  return [`@${argfile}`, main, ...args];
}

function hadoopClientConf(dir: string, clusters: ClusterInfo[], defaultFs: string, extra: Array<[string, string]> = []): void {
  mkdirSync(dir, { recursive: true });
  const props: Array<[string, string]> = [...extra, ["dfs.nameservices", clusters.map((c) => c.name).join(",")], ["dfs.replication", "1"],
    ["dfs.client.failover.max.attempts", "30"], ["dfs.client.failover.sleep.base.millis", "200"], ["dfs.client.failover.sleep.max.millis", "2000"]];
  for (const c of clusters) {
    props.push([`dfs.ha.namenodes.${c.name}`, "nn1,nn2"]);
    c.rpc.forEach((p, i) => props.push([`dfs.namenode.rpc-address.${c.name}.nn${i + 1}`, `127.0.0.1:${p}`]));
    c.http.forEach((p, i) => props.push([`dfs.namenode.http-address.${c.name}.nn${i + 1}`, `127.0.0.1:${p}`]));
    props.push([`dfs.client.failover.proxy.provider.${c.name}`, "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"]);
  }
  const xml = (ps: Array<[string, string]>) =>
    `<?xml version="1.0"?>\n<configuration>\n${ps.map(([k, v]) => `<property><name>${k}</name><value>${v}</value></property>`).join("\n")}\n</configuration>\n`;
  writeFileSync(join(dir, "core-site.xml"), xml([["fs.defaultFS", defaultFs], ["ipc.client.connect.max.retries", "3"], ["ipc.client.connect.retry.interval", "500"]]));
  writeFileSync(join(dir, "hdfs-site.xml"), xml(props));
}

// ---------------------------------------------------------------- the pieces
async function startCluster(name: string, b: Build, format = true, ports?: number[]): Promise<ClusterInfo> {
  const p = ports ?? (await freePorts(5));
  const baseDir = join(work, name);
  mkdirSync(baseDir, { recursive: true });
  const ready = join(baseDir, "ready.json");
  rmSync(ready, { force: true });
  const proc = new Proc(name, "java", javaArgs(name, b.classpath, "768m", "interop.Cluster",
    [name, baseDir, ready, String(p[0]), String(p[1]), String(p[2]), String(p[3]), String(p[4]), String(format)],
    [`-Dinterop.hdfs.conf=${HDFS_WRITE_TUNING.map(([k, v]) => `${k}=${v}`).join(";")}`]),
  { logFile: join(work, `${name}.log`), stdin: true, cwd: work });
  await proc.waitLine((l) => l.includes("\"ready\":true"), 120_000, `${name} ready`);
  return { name, rpc: [p[0]!, p[2]!], http: [p[1]!, p[3]!], dnHttp: p[4]!, proc, baseDir };
}

/**
 * A NameNode builds its WebHDFS (Jersey) application on the first WebHDFS request: class scanning that takes
 * 10-35 s on a busy 2-core machine. The daemon's first requests would wait that out (its 10 s request
 * deadline, then the other NameNode, which then starts the same), which was most of the live phase's
 * warm-up. Asked here in the background, while the Flink jobs start; seconds until both NameNodes answered.
 */
async function warmWebHdfs(c: ClusterInfo): Promise<number> {
  const started = Date.now();
  await Promise.all(c.http.map(async (port) => {
    // The standby answers too (a StandbyException): any answer means its WebHDFS application is built.
    const r = await fetch(`http://127.0.0.1:${port}/webhdfs/v1/?op=GETFILESTATUS&user.name=root`, { signal: AbortSignal.timeout(120_000) }).catch(() => null);
    await r?.arrayBuffer().catch(() => undefined);
  }));
  return (Date.now() - started) / 1000;
}

interface JobRun {
  flink: string;
  proc: Proc;
  out: string;
  jobId: string;
  variant: string;
}

async function startJob(b: Build, variant: string, confDir: string, extra: string[]): Promise<JobRun> {
  const out = join(work, `job-${variant}`);
  mkdirSync(out, { recursive: true });
  const proc = new Proc(`job-${variant}`, "java", javaArgs(`job-${variant}`, `${confDir}:${b.classpath}`, "1g", "interop.Job",
    ["mode=run", `out=${out}`, ...extra]), { logFile: join(work, `job-${variant}.log`), stdin: true, cwd: work, env: { ...process.env, HADOOP_CONF_DIR: confDir } });
  const line = await proc.waitLine((l) => l.startsWith("{\"jobId\""), 120_000, "job id");
  const jobId = (JSON.parse(line) as { jobId: string }).jobId;
  return { flink: b.flink, proc, out, jobId, variant };
}

interface RestoreResult {
  path: string;
  ok: boolean;
  stateOk: boolean;
  firstIndex?: number;
  expectedFirstIndex?: number | null;
  mismatches?: number;
  error?: string;
  ms: number;
}

interface RestoreItem {
  path: string;
  /** Restorer settings for this restore (the job's backend), e.g. "backend=hashmap&incremental=false". */
  settings?: string;
  /** The run's out directory holding expected/<checkpoint id>-<subtask>, or null. */
  expectedOut: string | null;
  /** Checkpoint id whose expected position applies; default: the chk-N of the path. */
  expectedId?: number;
  /** Check that the first record after the restore is one past the checkpoint's last counted. */
  checkFirst: boolean;
  keys: number;
}

/** Restores each item in turn in one JVM (Flink `b`, Hadoop configuration `confDir`), with exact state checks. */
async function restoreMany(b: Build, confDir: string, items: RestoreItem[], logName = "restores", login?: KerberosLogin): Promise<RestoreResult[]> {
  if (items.length === 0) return [];
  const rdir = join(work, `restore-${Math.random().toString(16).slice(2, 8)}`);
  mkdirSync(rdir, { recursive: true });
  const specs = items.map((it) => `${it.path}?keys=${it.keys}${it.settings ? `&${it.settings}` : ""}`);
  const jobArgs = ["mode=restore", `out=${rdir}`, `restores=${specs.join(";")}`, "timeoutSec=90"];
  const r = await runToEnd(logName, "java", javaArgs(`${logName}-${Math.random().toString(16).slice(2, 8)}`, `${confDir}:${b.classpath}`, "1g",
    login ? "interop.Kerberized" : "interop.Job", login ? [login.principal, login.keytab, "interop.Job", ...jobArgs] : jobArgs),
  { logFile: join(work, `${logName}.log`), cwd: work, env: login?.env ?? { ...process.env, HADOOP_CONF_DIR: confDir }, timeoutMs: 30_000 + 120_000 * items.length });
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("{\"ok\""));
  return items.map((it, i) => {
    const line = lines[i];
    if (!line) return { path: it.path, ok: false, stateOk: false, error: `restorer exited ${r.code} without a result`, ms: r.ms };
    // A Java exception message may carry raw control characters (a stack trace's tabs): never let one break the run.
    const o = JSON.parse(line.replace(/[\u0000-\u001f]+/g, " ")) as { ok: boolean; mismatches: number; firstIndex: number; ms: number; error?: string; firstErrors?: string };
    let expected: number | null = null;
    const id = it.expectedId ?? chkOf(it.path)?.chk;
    if (it.expectedOut && id !== undefined && existsSync(join(it.expectedOut, "expected"))) {
      const files = readdirSync(join(it.expectedOut, "expected")).filter((f) => f.startsWith(`${id}-`));
      if (files.length > 0) expected = expectedFirstIndex(files.map((f) => Number(readFileSync(join(it.expectedOut!, "expected", f), "utf8"))));
    }
    const positionOk = !it.checkFirst || (expected !== null && o.firstIndex === expected);
    const stateOk = o.ok && o.mismatches === 0 && positionOk;
    return { path: it.path, ok: o.ok, stateOk, firstIndex: o.firstIndex, expectedFirstIndex: expected, mismatches: o.mismatches,
      ...(o.error ? { error: o.error } : o.firstErrors ? { error: o.firstErrors } : !positionOk ? { error: `first index ${o.firstIndex}, expected ${String(expected)}` } : {}), ms: o.ms };
  });
}

async function restore(b: Build, confDir: string, path: string, expectedOut: string | null, keys: number, checkFirst: boolean): Promise<RestoreResult> {
  return (await restoreMany(b, confDir, [{ path, expectedOut, keys, checkFirst }]))[0]!;
}

function daemonYaml(file: string, h1: ClusterInfo, h2: ClusterInfo, paths: Array<{ source: string; target: string }>): void {
  writeInteropDaemonConfig(file, {
    sourceNamenodes: h1.http.map((p) => `http://127.0.0.1:${p}`),
    target: `  name: hdfs2\n  namenodes: [${h2.http.map((p) => `"http://127.0.0.1:${p}"`).join(", ")}]\n  uri: hdfs://hdfs2\n  user: root`,
    paths,
    leaseTtl: "9s",
  });
}

function startDaemon(config: string, tag: string): Proc {
  return new Proc(`daemon-${tag}`, process.execPath, [cliBin, "run", "--config", config], { logFile: join(work, "daemon.log"), cwd: work });
}

/** Starts the daemon and keeps retrying until it stays up 5 s (a restart after kill -9 waits out the lease). */
async function startDaemonUntilUp(config: string, tag: string, maxMs: number): Promise<{ proc: Proc; tries: number }> {
  const deadline = Date.now() + maxMs;
  for (let tries = 1; ; tries++) {
    const p = startDaemon(config, `${tag}-${tries}`);
    await Promise.race([p.exited, sleep(5000)]);
    if (p.running) return { proc: p, tries };
    if (Date.now() > deadline) throw new Error(`daemon did not stay up within ${maxMs} ms`);
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- job variants
// Run beside the main jobs (one JVM per Flink version, one local MiniCluster per job), checkpointing to
// hdfs://hdfs1/flink/variants; the changelog job's DSTL files go to hdfs://hdfs1/flink/dstl and the
// savepoints to hdfs://hdfs1/flink/savepoints, each replicated as a further configured path. Small
// state (2,000 keys x 1 KiB) and a short run: each is restored from hdfs2 only with exact state.
const VARIANT_KEYS = 2000;
interface VariantSpec {
  name: string;
  label: string;
  args: string[];
  /** Restorer settings (the same state backend as the job). */
  restore: string;
  /**
   * Unaligned checkpoints store in-flight records after the counter's snapshot, so the first record a
   * subtask sees after the restore is not one past the other subtask's last: only the state (count and
   * payload of every key, which any lost or duplicated in-flight record breaks) is checked there.
   */
  checkFirst: boolean;
}
const VARIANTS: VariantSpec[] = [
  { name: "inc1", label: "RocksDB incremental, num-retained 1", args: ["backend=rocksdb", "incremental=true", "retained=1"], restore: "", checkFirst: true },
  { name: "hashmap", label: "hashmap, full checkpoints", args: ["backend=hashmap", "incremental=false", "retained=2"], restore: "backend=hashmap&incremental=false", checkFirst: true },
  { name: "changelog", label: "changelog state backend, dstl.dfs.base-path outside the checkpoint directory",
    args: ["backend=rocksdb", "incremental=true", "retained=3", "changelog=true", "dstl=hdfs://hdfs1/flink/dstl", "materialize=4s"],
    restore: "changelog=true&dstl=file:///tmp/ckpt-interop-dstl-restore", checkFirst: true },
  { name: "unaligned", label: "unaligned checkpoints under backpressure",
    // A counter taking 1 ms per record (at most ~2,000 records/s for both subtasks) against a source
    // of 6,000 records per 2 s checkpoint interval, and 4 KiB network buffers: the channels are full,
    // so each checkpoint carries in-flight data.
    args: ["backend=rocksdb", "incremental=true", "retained=3", "unaligned=true", "segmentSize=4kb", "slowMicros=1000", "perCheckpoint=6000"],
    restore: "unaligned=true&segmentSize=4kb", checkFirst: false },
];
const VARIANT_PATHS = [
  { source: "/flink/variants", target: "/flink/variants" },
  { source: "/flink/dstl", target: "/flink/dstl" },
  { source: "/flink/savepoints", target: "/flink/savepoints" },
];

interface VariantRun {
  flink: string;
  proc: Proc;
  out: string;
  jobs: Array<{ spec: VariantSpec; jobId: string; out: string }>;
  savepoints: Array<{ format: string; path: string; checkpointId: number; error?: string }>;
}

async function startVariants(b: Build, confDir: string): Promise<VariantRun> {
  const out = join(work, `variants-${b.flink}`);
  mkdirSync(out, { recursive: true });
  const args = ["mode=run", `out=${out}`, "ckptDir=hdfs://hdfs1/flink/variants", `keys=${VARIANT_KEYS}`, "perCheckpoint=500", "interval=2000",
    "managed=64m", `jobs=${VARIANTS.map((v) => v.name).join(",")}`, ...VARIANTS.flatMap((v) => v.args.map((a) => `${v.name}.${a}`))];
  const proc = new Proc(`variants-${b.flink}`, "java", javaArgs(`variants-${b.flink}`, `${confDir}:${b.classpath}`, "1g", "interop.Job", args),
    { logFile: join(work, `variants-${b.flink}.log`), stdin: true, cwd: work, env: { ...process.env, HADOOP_CONF_DIR: confDir } });
  const jobs: VariantRun["jobs"] = [];
  for (const spec of VARIANTS) {
    const line = await proc.waitLine((l) => l.startsWith("{\"jobId\"") && l.includes(`"job":"${spec.name}"`), 180_000, `variant ${spec.name} job id`);
    jobs.push({ spec, jobId: (JSON.parse(line) as { jobId: string }).jobId, out: join(out, spec.name) });
  }
  return { flink: b.flink, proc, out, jobs, savepoints: [] };
}

/** A canonical and a native savepoint of the inc1 job; a failed trigger is tried once more (and reported). */
async function takeSavepoints(v: VariantRun): Promise<void> {
  for (const format of ["canonical", "native"]) {
    let o: { savepoint?: string; checkpointId?: number; savepointError?: string } = {};
    for (let attempt = 1; attempt <= 2 && !o.savepoint; attempt++) {
      const from = v.proc.lines.length;
      v.proc.send(`savepoint inc1 ${format} hdfs://hdfs1/flink/savepoints`);
      const line = await v.proc.waitLine((l) => l.startsWith("{\"savepoint"), 150_000, `${format} savepoint`, from).catch((e: unknown) => JSON.stringify({ savepointError: String(e) }));
      o = JSON.parse(line) as typeof o;
      if (o.savepointError) log(`${format} savepoint (Flink ${v.flink}) attempt ${attempt} failed: ${o.savepointError}`);
    }
    v.savepoints.push({ format, path: o.savepoint ?? "", checkpointId: o.checkpointId ?? -1, ...(o.savepointError && !o.savepoint ? { error: o.savepointError } : {}) });
  }
}

// ---------------------------------------------------------------- the S3 part (s3.ts)
/** Runs the s3-* scenarios (hdfs1 must be up); without moto_server: skipped with the reason, a failure under CI=true. */
async function s3Phase(builds: Map<string, Build>, h1: ClusterInfo, confSrc: string, confDr: string, scenarios: Scenario[], problems: string[], phaseSeconds: Record<string, number>): Promise<void> {
  if (!doS3) return;
  if (findTool("moto_server") === null) {
    const reason = "s3-* scenarios: moto_server is not installed (run .ci/install-s3-server)";
    if (process.env.CI === "true") problems.push(`${reason}; under CI=true this is a failure`);
    else log(`SKIPPED: ${reason}`);
    return;
  }
  const t = Date.now();
  // Flink versions whose build has an S3 filesystem (pom.xml), the first one for the main job.
  const [b, ...others] = [...builds.values()].filter((x) => x.classpath.includes("flink-s3-fs-"));
  if (!b) {
    problems.push("s3-* scenarios: no Flink build has flink-s3-fs-hadoop on its classpath");
    return;
  }
  const ctx: S3Context = {
    work, log, cliBin, flink: b.flink, classpath: b.classpath, others, javaArgs, confSrc, confDr,
    sourceNamenodes: h1.http.map((p) => `http://127.0.0.1:${p}`),
    startJob: (flink, variant, confDir, extra) => startJob(builds.get(flink)!, variant, confDir, extra),
    startDaemonUntilUp,
    restoreMany: (items, logName, classpath) => restoreMany({ ...b, classpath }, confDr, items, logName),
  };
  try {
    const r = await runS3(ctx);
    scenarios.push(...r.scenarios);
    problems.push(...r.problems);
  } catch (e) {
    problems.push(`s3-* scenarios: ${e instanceof Error ? e.message : String(e)}`);
  }
  phaseSeconds.s3Seconds = (Date.now() - t) / 1000;
  log(`s3 part done in ${phaseSeconds.s3Seconds.toFixed(0)} s`);
}

/** --s3-only: hdfs1 and the s3-* scenarios, written to the results file. */
async function s3OnlyRun(builds: Map<string, Build>, results: Record<string, unknown>, buildSeconds: number): Promise<number> {
  const h1 = await startCluster("hdfs1", builds.values().next().value!);
  const confSrc = join(work, "conf-hdfs1");
  const confDr = join(work, "conf-hdfs2-only");
  hadoopClientConf(confSrc, [h1], "hdfs://hdfs1");
  hadoopClientConf(confDr, [{ ...h1, name: "hdfs2" }], "hdfs://hdfs2"); // a nameservice other than hdfs1's: hdfs1 does not resolve
  const scenarios: Scenario[] = [];
  const problems: string[] = [];
  const phaseSeconds: Record<string, number> = {};
  await s3Phase(builds, h1, confSrc, confDr, scenarios, problems, phaseSeconds);
  h1.proc.send("stop");
  await Promise.race([h1.proc.exited, sleep(20_000)]);
  results.scenarios = scenarios;
  results.timings = { buildSeconds, ...phaseSeconds, totalSeconds: (Date.now() - t0) / 1000 };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  process.stdout.write(`interop: ${scenarios.filter((s) => s.violations === 0 && s.restoresOk === s.restoresTried).length} passed, ${problems.length} failed\n`);
  for (const p of problems) process.stderr.write(`FAILED: ${p}\n`);
  return problems.length > 0 ? 1 : 0;
}

/**
 * What the daemon and the checker logged of one checkpoint (hdfs://.../<job>/chk-N), on stderr: the
 * evidence a failed CI run leaves, where the work directory does not outlive the machine.
 */
function writeEvidence(checkpointPath: string): void {
  const m = /\/([0-9a-f]{32})\/(chk-\d+)$/.exec(checkpointPath);
  const grep = (file: string, keep: (l: string) => boolean, max: number): string[] => {
    const f = join(work, file);
    return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(keep).slice(-max).map((l) => `  ${file}: ${l.slice(0, 600)}`) : [];
  };
  const lines = [
    ...(m ? grep("daemon.log", (l) => l.includes(m[1] as string) && l.includes(`"${m[2] as string}"`), 40) : []),
    ...grep("checker.log", (l) => l.includes(checkpointPath), 20),
  ];
  process.stderr.write(`evidence for ${checkpointPath} (${lines.length} log lines):\n${lines.join("\n")}\n`);
}

/** Published checkpoints the daemon found no longer restorable and unpublished (from its log). */
function daemonUnpublished(): { count: number; examples: string[] } {
  const f = join(work, "daemon.log");
  const hits = existsSync(f) ? unpublishedByDaemon(readFileSync(f, "utf8")) : [];
  return { count: hits.length, examples: hits.slice(0, 5).map((r) => JSON.stringify(r).slice(0, 500)) };
}

// ---------------------------------------------------------------- main
const killedOnPurpose = new Set<Proc>();

interface Scenario {
  name: string;
  published: number;
  samples: number;
  violations: number;
  violationDetails?: string[];
  restoresTried: number;
  restoresOk: number;
  stateMismatches: number;
  [k: string]: unknown;
}

async function main(): Promise<number> {
  const java = toolVersion("java", ["-version"]);
  const mvn = toolVersion("mvn", ["-v"]);
  if (!java || !mvn) {
    const reason = `interop needs Java 17 and Maven (java: ${java ?? "missing"}, mvn: ${mvn ?? "missing"})`;
    if (process.env.CI === "true") {
      process.stderr.write(`FAILED: ${reason}; under CI=true this is a failure\n`);
      return 1;
    }
    process.stdout.write(`SKIPPED: ${reason}\n`);
    return 0;
  }
  if (!existsSync(cliBin)) throw new Error(`${cliBin} missing: run npm run build first`);
  mkdirSync(work, { recursive: true });
  log(`work directory ${work}; ${java}; Flink ${flinkVersions.join(", ")}; Hadoop ${hadoopVersion}`);

  const tBuild = Date.now();
  const builds = new Map<string, Build>();
  for (const f of flinkVersions) builds.set(f, mavenBuild(f));
  const distcpCp = doDistcp || doPerf ? distcpBuild() : "";
  const buildSeconds = (Date.now() - tBuild) / 1000;
  log(`maven build ${buildSeconds.toFixed(0)} s`);
  const main = builds.get(flinkVersions[0]!)!;
  // The secure scenario (Kerberos, HTTPS-only, token lifecycle): its own JVMs, after the main one (or alone).
  const secure = async (): Promise<SecureOutcome & { seconds: number }> => {
    const tSecure = Date.now();
    const o = await runSecure({ work, cliBin, classpath: main.classpath, flink: main.flink, log, javaArgs,
      restoreMany: (confDir, items, logName, login) => restoreMany(main, confDir, items, logName, login) });
    return { ...o, seconds: (Date.now() - tSecure) / 1000 };
  };
  if (flag("secure-only")) {
    const s = await secure();
    writeFileSync(resultsFile, `${JSON.stringify({ flink: flinkVersions, hadoop: hadoopVersion, java, startedAt: new Date(t0).toISOString(), scenarios: s.scenarios,
      secureWire: s.wire, timings: { buildSeconds, secureSeconds: s.seconds, totalSeconds: (Date.now() - t0) / 1000 } }, null, 2)}\n`);
    log(`wrote ${resultsFile}`);
    for (const p of s.problems) process.stderr.write(`FAILED: ${p}\n`);
    return s.problems.length > 0 ? 1 : 0;
  }
  if (s3Only) return s3OnlyRun(builds, { flink: flinkVersions, hadoop: hadoopVersion, java, startedAt: new Date(t0).toISOString() }, buildSeconds);

  const [h1, h2] = await Promise.all([startCluster("hdfs1", main), startCluster("hdfs2", main)]);
  log(`hdfs1 NameNodes ${h1.http.join(",")}, hdfs2 NameNodes ${h2.http.join(",")}`);
  const warming = Promise.all([warmWebHdfs(h1), warmWebHdfs(h2)]);
  const confSrc = join(work, "conf-hdfs1");
  const confDr = join(work, "conf-hdfs2-only");
  const confBoth = join(work, "conf-both");
  hadoopClientConf(confSrc, [h1], "hdfs://hdfs1");
  hadoopClientConf(confDr, [h2], "hdfs://hdfs2");
  hadoopClientConf(confBoth, [h1, h2], "file:///", HDFS_WRITE_TUNING); // DistCp's local job runner stages on the local disk, never on the source
  writeFileSync(join(confBoth, "log4j.properties"), "log4j.rootLogger=WARN,e\nlog4j.logger.org.apache.hadoop.tools=INFO\nlog4j.appender.e=org.apache.log4j.ConsoleAppender\nlog4j.appender.e.target=System.err\nlog4j.appender.e.layout=org.apache.log4j.PatternLayout\nlog4j.appender.e.layout.ConversionPattern=%d{HH:mm:ss} %p %c{1}: %m%n\n");

  const results: Record<string, unknown> = { flink: flinkVersions, hadoop: hadoopVersion, java, startedAt: new Date(t0).toISOString() };
  if (perfOnly) return perfOnlyRun(results, h1, h2, distcpCp, confBoth, buildSeconds);
  const scenarios: Scenario[] = [];

  // ---- scenario 1: live replication under real faults
  const daemonConfig = join(work, "daemon.yaml");
  daemonYaml(daemonConfig, h1, h2, [{ source: "/flink/ckpt", target: "/flink/ckpt" }, ...(doVariants ? VARIANT_PATHS : [])]);
  const keys = 20000;
  const jobs: JobRun[] = [];
  jobs.push(await startJob(main, `rocksdb-incremental-${main.flink}`, confSrc,
    ["ckptDir=hdfs://hdfs1/flink/ckpt", "backend=rocksdb", "incremental=true", "retained=3", "interval=1500", `keys=${keys}`, "perCheckpoint=4000"]));
  for (const f of flinkVersions.slice(1)) {
    jobs.push(await startJob(builds.get(f)!, `rocksdb-incremental-${f}`, confSrc,
      ["ckptDir=hdfs://hdfs1/flink/ckpt", "backend=rocksdb", "incremental=true", "retained=3", "interval=2000", `keys=${keys}`, "perCheckpoint=4000"]));
  }
  const variantRuns: VariantRun[] = doVariants ? await Promise.all(flinkVersions.map((f) => startVariants(builds.get(f)!, confSrc))) : [];
  log(`jobs: ${jobs.map((j) => `${j.variant}=${j.jobId}`).join(", ")}`);
  for (const v of variantRuns) log(`variants (Flink ${v.flink}): ${v.jobs.map((j) => `${j.spec.name}=${j.jobId}`).join(", ")}`);
  const [warm1, warm2] = await warming;
  log(`NameNode WebHDFS initialised (first answers) after ${warm1.toFixed(0)} s on hdfs1, ${warm2.toFixed(0)} s on hdfs2`);
  // Supervised like the systemd unit (Restart=on-failure): a daemon that exits on its own is started
  // again (after 2 s here instead of RestartSec=20s); every such exit is counted and reported.
  let daemon = (await startDaemonUntilUp(daemonConfig, "1", 30_000)).proc;
  let supervising = true;
  const unexpectedExits: Array<{ at: number; code: number | null; lastLine: string }> = [];
  const supervisor = (async () => {
    while (supervising) {
      const d = daemon;
      await sleep(1000);
      if (!supervising || d.running || d !== daemon || killedOnPurpose.has(d)) continue;
      const lines = readFileSync(join(work, "daemon.log"), "utf8").trim().split("\n");
      unexpectedExits.push({ at: (Date.now() - t0) / 1000, code: d.exitInfo?.code ?? null, lastLine: (lines[lines.length - 1] ?? "").slice(0, 400) });
      log(`daemon exited on its own (code ${String(d.exitInfo?.code)}); restarting it as systemd would`);
      await sleep(2000);
      if (supervising) daemon = (await startDaemonUntilUp(daemonConfig, `r${unexpectedExits.length}`, 60_000).catch(() => ({ proc: d }))).proc;
    }
  })();

  const checker = new Proc("checker", "java", javaArgs("checker", `${confDr}:${main.classpath}`, "512m", "interop.Check",
    ["2000", "0", "hdfs://hdfs2/flink/ckpt", "hdfs://hdfs2/distcp/flink/ckpt|hdfs://hdfs1/flink/ckpt=hdfs://hdfs2/distcp/flink/ckpt",
      ...(doVariants ? ["hdfs://hdfs2/flink/variants", "hdfs://hdfs2/flink/savepoints"] : [])]),
  { logFile: join(work, "checker.log"), stdin: true, cwd: work, env: { ...process.env, HADOOP_CONF_DIR: confDr } });

  // DistCp in a loop, as an operator would from cron.
  let distcpStop = false;
  const distcpRuns: Array<{ code: number | null; ms: number }> = [];
  const distcpLoop = (async () => {
    if (!doDistcp) return;
    while (!distcpStop) {
      const r = await runToEnd("distcp", "java", javaArgs("distcp", `${confBoth}:${distcpCp}`, "768m", "org.apache.hadoop.tools.DistCp",
        ["-i", "-update", "hdfs://hdfs1/flink/ckpt", "hdfs://hdfs2/distcp/flink/ckpt"]),
      { logFile: join(work, "distcp.log"), cwd: work, env: { ...process.env, HADOOP_CONF_DIR: confBoth }, timeoutMs: 300_000 });
      distcpRuns.push({ code: r.code, ms: r.ms });
      await sleep(1000);
    }
  })();

  // Warm-up: faults start once the daemon has published a checkpoint of every job.
  const warm = Date.now();
  while (Date.now() - warm < 120_000) {
    const text = existsSync(join(work, "daemon.log")) ? readFileSync(join(work, "daemon.log"), "utf8") : "";
    // The main jobs only: the variants are published during the live phase (their catch-up waits for them).
    if (jobs.every((j) => new RegExp(`${j.jobId}[^\n]*published on the target`).test(text))) break;
    await sleep(1000);
  }
  const liveStart = Date.now();
  const phaseSeconds: Record<string, number> = { warmupSeconds: (liveStart - warm) / 1000 };
  log(`first checkpoints published after ${((Date.now() - warm) / 1000).toFixed(0)} s of warm-up`);
  const faults: Array<{ at: number; what: string; ok: boolean; ms: number; error?: string }> = [];
  const daemonRestarts: Array<{ tries: number; ms: number }> = [];
  const fault = async (what: string, fn: () => Promise<Record<string, unknown> | void>): Promise<void> => {
    const at = (Date.now() - t0) / 1000;
    const s = Date.now();
    try {
      const r = await fn();
      const ok = !r || r.ok === true;
      faults.push({ at, what, ok, ms: Date.now() - s, ...(r && r.ok !== true ? { error: String(r.error) } : {}) });
      log(`fault ${what}: ${ok ? "ok" : `FAILED ${String(r?.error)}`} (${Date.now() - s} ms)`);
    } catch (e) {
      faults.push({ at, what, ok: false, ms: Date.now() - s, error: String(e) });
      log(`fault ${what}: FAILED ${String(e)}`);
    }
  };
  const at = async (sec: number) => {
    const wait = liveStart + (sec * liveSeconds * 1000) / 150 - Date.now();
    if (wait > 0) await sleep(wait);
  };
  // The variants: savepoints first, then stopped (checkpoints retained) at 60 s, beside the faults.
  const variantTask = (async () => {
    if (variantRuns.length === 0) return;
    await Promise.all(variantRuns.map((v) => takeSavepoints(v)));
    for (const v of variantRuns) log(`savepoints (Flink ${v.flink}): ${v.savepoints.map((sp) => sp.error ? `${sp.format} FAILED ${sp.error}` : `${sp.format} ${sp.path}`).join(", ")}`);
    await at(60);
    for (const v of variantRuns) v.proc.send("stop");
    await Promise.all(variantRuns.map((v) => v.proc.waitLine((l) => l.includes("\"stopped\":true"), 120_000, "variants stop").catch(() => v.proc.kill())));
    log("variant jobs stopped (checkpoints retained)");
  })();
  // The fault schedule, scaled to --live (written for 150 s).
  await at(15); await fault("hdfs1 NameNode failover (transition)", () => h1.proc.command("failover"));
  await at(27); await fault("hdfs2 NameNode failover (transition)", () => h2.proc.command("failover"));
  await at(40); await fault("hdfs1 kill active NameNode", () => h1.proc.command("kill-nn 1"));
  await at(50); await fault("hdfs1 restart killed NameNode", () => h1.proc.command("restart-nn 1"));
  await at(55); await fault("hdfs2 DataNode restart", () => h2.proc.command("restart-dn"));
  await at(65); await fault("hdfs2 kill active NameNode", () => h2.proc.command("kill-nn 1"));
  await at(72); await fault("hdfs2 restart killed NameNode", () => h2.proc.command("restart-nn 1"));
  await at(80); await fault("daemon kill -9 and restart", async () => {
    killedOnPurpose.add(daemon);
    daemon.kill("SIGKILL");
    await daemon.exited;
    const s = Date.now();
    const r = await startDaemonUntilUp(daemonConfig, "2", 60_000);
    daemon = r.proc;
    daemonRestarts.push({ tries: r.tries, ms: Date.now() - s });
  });
  await at(105); await fault("hdfs2 down 20 s (NameNodes and DataNode stopped)", () => h2.proc.command("down 20"));
  await at(150);
  await variantTask;
  log("live phase over; stopping the jobs (checkpoints retained) and DistCp");

  distcpStop = true;
  for (const j of jobs) j.proc.send("stop");
  await Promise.all(jobs.map((j) => j.proc.waitLine((l) => l.includes("\"stopped\":true"), 90_000, "job stop").catch(() => j.proc.kill())));
  const jobCompleted = new Map<string, Map<number, number>>();
  for (const j of jobs) jobCompleted.set(j.jobId, parseCompleted(existsSync(join(j.out, "completed.jsonl")) ? readFileSync(join(j.out, "completed.jsonl"), "utf8") : ""));
  // Catch-up: the daemon publishes each job's newest retained checkpoint.
  const catchUp = Date.now();
  phaseSeconds.liveSeconds = (catchUp - liveStart) / 1000;
  for (const j of jobs) {
    // The newest checkpoint the job completed (a chk dir of a checkpoint aborted by the cancel has no _metadata).
    const newest = Math.max(...(jobCompleted.get(j.jobId)?.keys() ?? []));
    for (let i = 0; i < 120; i++) {
      const tgt = await hdfsList(h2, `/flink/ckpt/${j.jobId}/chk-${newest}`).catch(() => []);
      if (tgt.some((s) => s.pathSuffix === "_metadata")) break;
      await sleep(500);
    }
  }
  const variantCompleted = new Map<string, Map<number, number>>();
  for (const v of variantRuns) {
    for (const j of v.jobs) {
      const done = parseCompleted(existsSync(join(j.out, "completed.jsonl")) ? readFileSync(join(j.out, "completed.jsonl"), "utf8") : "");
      variantCompleted.set(j.jobId, done);
      const newest = Math.max(...done.keys());
      for (let i = 0; i < 120 && Number.isFinite(newest); i++) {
        const tgt = await hdfsList(h2, `/flink/variants/${j.jobId}/chk-${newest}`).catch(() => []);
        if (tgt.some((s) => s.pathSuffix === "_metadata")) break;
        await sleep(500);
      }
    }
    for (const sp of v.savepoints.filter((x) => x.path)) {
      const name = sp.path.slice(sp.path.lastIndexOf("/") + 1);
      for (let i = 0; i < 120; i++) {
        const tgt = await hdfsList(h2, `/flink/savepoints/${name}`).catch(() => []);
        if (tgt.some((s) => s.pathSuffix === "_metadata")) break;
        await sleep(500);
      }
    }
  }
  phaseSeconds.catchUpSeconds = (Date.now() - catchUp) / 1000;
  log(`daemon caught up in ${phaseSeconds.catchUpSeconds.toFixed(1)} s`);
  await distcpLoop;
  await sleep(2500);
  checker.send("stop");
  await Promise.race([checker.exited, sleep(30_000)]);
  checker.kill();
  const samples: CheckerSample[] = checker.lines.map(parseSample).filter((s): s is CheckerSample => s !== null);
  const ours = summarise(samples, "hdfs://hdfs2/flink/ckpt", jobCompleted);
  const theirs = summarise(samples, "hdfs://hdfs2/distcp/flink/ckpt", jobCompleted);
  const publishedLines = readFileSync(join(work, "daemon.log"), "utf8").split("\n").filter((l) => l.includes("published on the target\""));
  const publishedOf = (needle: string): number => publishedLines.filter((l) => l.includes(needle)).length;
  const published = jobs.reduce((n, j) => n + publishedOf(j.jobId), 0);

  supervising = false;
  await supervisor;
  // ---- perf (needs hdfs1 alive): one ~1 GiB checkpoint and one of ~5,000 small files
  let perf: Record<string, unknown> = { skipped: true };
  if (doPerf) {
    await daemon.stop(15_000);
    const tPerf = Date.now();
    perf = await runPerf(h1, h2, distcpCp, confBoth);
    phaseSeconds.perfSeconds = (Date.now() - tPerf) / 1000;
  }
  await daemon.stop(15_000);
  const s3Problems: string[] = [];
  await s3Phase(builds, h1, confSrc, confDr, scenarios, s3Problems, phaseSeconds);

  // ---- scenario 2: disaster restore from hdfs2 only
  log("killing hdfs1 (the whole JVM)");
  h1.proc.kill("SIGKILL");
  await h1.proc.exited;
  type TaggedRestore = RestoreResult & { job: string; flink: string; via: string };
  const tRestores = Date.now();
  const latestPaths: Record<string, string> = {};
  /** `latest --format path` for a job, then every other published checkpoint of it under `root` on hdfs2. */
  const restoreOrder = async (jobId: string, root: string, label: string): Promise<Array<{ path: string; via: string }>> => {
    const latest = await runToEnd("latest", process.execPath, [cliBin, "latest", "--config", daemonConfig, "--job", jobId, "--format", "path"],
      { logFile: join(work, "latest.log"), cwd: work, timeoutMs: 120_000 });
    const path = latest.stdout.trim().split("\n").pop() ?? "";
    latestPaths[jobId] = path;
    log(`latest for ${label}: ${path} (exit ${latest.code})`);
    const kept: string[] = [];
    for (const n of (await hdfsList(h2, `${root}/${jobId}`)).map((s) => s.pathSuffix).filter((x) => /^chk-\d+$/.test(x))) {
      // Only published checkpoints: a directory without _metadata is a copy in progress.
      if ((await hdfsList(h2, `${root}/${jobId}/${n}`)).some((s) => s.pathSuffix === "_metadata")) kept.push(n);
    }
    return [{ path, via: "latest" }, ...kept.map((k) => `hdfs://hdfs2${root}/${jobId}/${k}`).filter((p) => p !== path).map((p) => ({ path: p, via: "kept" }))];
  };
  const runRestores = async (b: Build, jobId: string, label: string, order: Array<{ path: string; via: string; item: Omit<RestoreItem, "path"> }>): Promise<TaggedRestore[]> => {
    const out: TaggedRestore[] = [];
    const good = order.filter((o) => o.path.startsWith("hdfs://"));
    for (const o of order.filter((x) => !x.path.startsWith("hdfs://"))) {
      out.push({ path: o.path || "(none)", ok: false, stateOk: false, error: "latest printed no path", ms: 0, job: jobId, flink: b.flink, via: o.via });
    }
    const rs = await restoreMany(b, confDr, good.map((o) => ({ ...o.item, path: o.path })), `restores-${label}`);
    rs.forEach((r, i) => {
      out.push({ ...r, job: jobId, flink: b.flink, via: good[i]!.via });
      log(`restore ${b.flink} ${label} ${r.path}: ${r.stateOk ? "OK, exact state" : `FAILED ${r.error ?? ""}`} (${(r.ms / 1000).toFixed(1)} s)`);
    });
    return out;
  };
  // One restorer JVM per job of the main run and one per Flink version for the variants, concurrently.
  const mainRestoreTasks = jobs.map(async (j) => {
    const order = await restoreOrder(j.jobId, "/flink/ckpt", j.variant);
    return runRestores(builds.get(j.flink)!, j.jobId, j.variant, order.map((o) => ({ ...o, item: { expectedOut: j.out, keys, checkFirst: true } })));
  });
  const variantRestoreTasks = variantRuns.map(async (v) => {
    const order: Array<{ path: string; via: string; item: Omit<RestoreItem, "path">; job: string }> = [];
    for (const j of v.jobs) {
      for (const o of await restoreOrder(j.jobId, "/flink/variants", `${j.spec.name}-${v.flink}`)) {
        order.push({ ...o, job: j.jobId, item: { expectedOut: j.out, keys: VARIANT_KEYS, checkFirst: j.spec.checkFirst, settings: j.spec.restore } });
      }
    }
    const inc1 = v.jobs.find((j) => j.spec.name === "inc1")!;
    for (const sp of v.savepoints.filter((x) => x.path)) {
      const name = sp.path.slice(sp.path.lastIndexOf("/") + 1);
      order.push({ path: `hdfs://hdfs2/flink/savepoints/${name}`, via: `${sp.format} savepoint`, job: inc1.jobId,
        item: { expectedOut: inc1.out, expectedId: sp.checkpointId, keys: VARIANT_KEYS, checkFirst: true } });
    }
    const rs = await runRestores(builds.get(v.flink)!, "", `variants-${v.flink}`, order);
    // runRestores keeps the order of the good paths after the bad ones; map back by path and via.
    return rs.map((r) => ({ ...r, job: order.find((o) => (o.path || "(none)") === r.path && o.via === r.via)?.job ?? "" }));
  });
  const restores: TaggedRestore[] = (await Promise.all(mainRestoreTasks)).flat();
  const variantRestores: TaggedRestore[] = (await Promise.all(variantRestoreTasks)).flat();
  const restoreSeconds = (Date.now() - tRestores) / 1000;
  log(`restores done in ${restoreSeconds.toFixed(0)} s`);

  // ---- scenario 3: DistCp's copies, with the same path rewrite applied
  const tDistcpRestores = Date.now();
  const distcpRestores: RestoreResult[] = [];
  let distcpMetadata = 0;
  let distcpNotTried = 0;
  if (doDistcp) {
    const rewriteLog = join(work, "rewrite.log");
    for (const j of jobs) {
      const b = builds.get(j.flink)!;
      const dirs = (await hdfsList(h2, `/distcp/flink/ckpt/${j.jobId}`)).map((s) => s.pathSuffix).filter((n) => /^chk-\d+$/.test(n));
      const withMeta: string[] = [];
      for (const d of dirs) {
        if ((await hdfsList(h2, `/distcp/flink/ckpt/${j.jobId}/${d}`)).some((s) => s.pathSuffix === "_metadata")) withMeta.push(d);
      }
      distcpMetadata += withMeta.length;
      withMeta.sort((a, b2) => Number(b2.slice(4)) - Number(a.slice(4)));
      // The newest DISTCP_RESTORES_PER_JOB copied _metadata are tried, newest first, within a time budget
      // per job (each restore is a MiniCluster start; trying all of a long run's copies only adds CI time).
      const budgetEnd = Date.now() + 150_000;
      distcpNotTried += Math.max(0, withMeta.length - DISTCP_RESTORES_PER_JOB);
      for (const d of withMeta.slice(0, DISTCP_RESTORES_PER_JOB)) {
        if (Date.now() > budgetEnd) {
          distcpNotTried++;
          continue;
        }
        const p = `/distcp/flink/ckpt/${j.jobId}/${d}/_metadata`;
        const local = join(work, `distcp-${j.jobId}-${d}.metadata`);
        writeFileSync(local, await hdfsRead(h2, p));
        const rw = await runToEnd("rewrite", process.execPath, [cliBin, "rewrite-metadata", local, `${local}.rw`, "--map", "hdfs://hdfs1/flink/ckpt=hdfs://hdfs2/distcp/flink/ckpt"],
          { logFile: rewriteLog, cwd: work, timeoutMs: 60_000 });
        if (rw.code !== 0) {
          distcpRestores.push({ path: p, ok: false, stateOk: false, error: "rewrite-metadata failed", ms: 0 });
          continue;
        }
        await hdfsWrite(h2, p, readFileSync(`${local}.rw`));
        const r = await restore(b, confDr, `hdfs://hdfs2/distcp/flink/ckpt/${j.jobId}/${d}`, j.out, keys, true);
        distcpRestores.push(r);
        log(`distcp restore ${d}: ${r.stateOk ? "OK" : `FAILED ${(r.error ?? "").slice(0, 160)}`}`);
      }
    }
  }

  // ---- scenario 4: emulator vs the real NameNode/DataNode (hdfs2 is still up)
  phaseSeconds.distcpRestoreSeconds = (Date.now() - tDistcpRestores) / 1000;
  const tDiff = Date.now();
  const emulatorDiff = await runContractDiff({ realNamenodes: h2.http.map((p) => `http://127.0.0.1:${p}`), failover: () => h2.proc.command("failover"), work, log });

  phaseSeconds.contractDiffSeconds = (Date.now() - tDiff) / 1000;
  await h2.proc.command("state").catch(() => undefined);
  h2.proc.send("stop");
  await Promise.race([h2.proc.exited, sleep(20_000)]);

  const ok = restores.filter((r) => r.ok).length;
  const mism = restores.filter((r) => r.ok && !r.stateOk).length;
  // Unpublishing is how the daemon withdraws a copy it finds broken. Nothing here tampers with hdfs2 and
  // HDFS reports the final length of a closed file whatever its DataNodes do, so in this run every one
  // is a false verdict, a failure. (The checker counts a _metadata that was missing for a moment as
  // vanished; this is what catches an unpublish followed by a republish.)
  const unpublished = daemonUnpublished();
  scenarios.push({
    name: "live replication under real faults",
    published,
    samples: ours.samples,
    unavailableSamples: ours.unavailable,
    violations: ours.violations.length,
    violationDetails: ours.violations.slice(0, 20),
    daemonUnpublished: unpublished,
    restoresTried: 0,
    restoresOk: 0,
    stateMismatches: 0,
    faults,
    daemonRestarts,
    daemonUnexpectedExits: unexpectedExits,
    jobs: jobs.map((j) => ({ flink: j.flink, variant: j.variant, jobId: j.jobId, checkpointsCompleted: jobCompleted.get(j.jobId)?.size ?? 0 })),
  });
  scenarios.push({
    name: "disaster restore from hdfs2 only (hdfs1 killed)",
    published,
    samples: 0,
    violations: 0,
    restoresTried: restores.length,
    restoresOk: restores.filter((r) => r.stateOk).length,
    stateMismatches: mism,
    restoresFailed: restores.length - ok,
    latest: latestPaths,
    restores,
  });
  // One scenario per job variant and Flink version: replicated by the daemon, restored from hdfs2 only.
  const variantProblems: string[] = [];
  const perVariant = (o: { name: string; variant: string; flink: string; jobId: string; needle: string; root: string; summary: ReturnType<typeof summarise>;
    rs: Array<RestoreResult & { via: string }>; extra?: Record<string, unknown> }): void => {
    const viol = o.summary.violations.filter((x) => x.includes(o.needle));
    scenarios.push({ name: o.name, variant: o.variant, flink: o.flink, jobId: o.jobId, published: publishedOf(o.needle), samples: o.summary.samples, violations: viol.length,
      violationDetails: viol.slice(0, 5), restoresTried: o.rs.length, restoresOk: o.rs.filter((r) => r.stateOk).length,
      stateMismatches: o.rs.filter((r) => r.ok && !r.stateOk).length, ...o.extra, restores: o.rs });
    if (viol.length > 0) variantProblems.push(`${o.name}: ${viol.length} violation(s): ${viol[0]}`);
    if (o.rs.length === 0) variantProblems.push(`${o.name}: no restore was tried`);
    for (const r of o.rs) if (!r.stateOk) variantProblems.push(`${o.name}: restore ${r.path}: ${r.error ?? "state mismatch"}`);
  };
  for (const j of jobs) {
    perVariant({ name: `RocksDB incremental, num-retained 3 (Flink ${j.flink})`, variant: "inc3", flink: j.flink, jobId: j.jobId, needle: j.jobId,
      root: "hdfs://hdfs2/flink/ckpt", summary: ours, rs: restores.filter((r) => r.job === j.jobId),
      extra: { checkpointsCompleted: jobCompleted.get(j.jobId)?.size ?? 0, note: "the main job of the fault scenario" } });
  }
  if (variantRuns.length > 0) {
    const vSummary = summarise(samples, "hdfs://hdfs2/flink/variants", variantCompleted);
    const spSummary = summarise(samples, "hdfs://hdfs2/flink/savepoints", new Map());
    for (const v of variantRuns) {
      for (const j of v.jobs) {
        const inFlight = checkpointsWithChannelState(samples, "hdfs://hdfs2/flink/variants", j.jobId);
        perVariant({ name: `${j.spec.label} (Flink ${v.flink})`, variant: j.spec.name, flink: v.flink, jobId: j.jobId, needle: j.jobId, root: "hdfs://hdfs2/flink/variants",
          summary: vSummary, rs: variantRestores.filter((r) => r.job === j.jobId && !r.via.includes("savepoint")),
          extra: { checkpointsCompleted: variantCompleted.get(j.jobId)?.size ?? 0, ...(j.spec.name === "unaligned" ? { checkpointsWithInFlightDataOnHdfs2: inFlight } : {}) } });
        if (j.spec.name === "unaligned" && inFlight === 0) variantProblems.push(`unaligned (Flink ${v.flink}): no replicated checkpoint carried in-flight data (no backpressure)`);
      }
      const inc1 = v.jobs.find((j) => j.spec.name === "inc1")!;
      for (const sp of v.savepoints) {
        const name = sp.path.slice(sp.path.lastIndexOf("/") + 1);
        if (sp.error) variantProblems.push(`${sp.format} savepoint (Flink ${v.flink}) failed: ${sp.error}`);
        perVariant({ name: `${sp.format} savepoint (Flink ${v.flink})`, variant: `savepoint-${sp.format}`, flink: v.flink, jobId: inc1.jobId, needle: name || "(none)",
          root: "hdfs://hdfs2/flink/savepoints", summary: spSummary, rs: variantRestores.filter((r) => r.via === `${sp.format} savepoint` && r.flink === v.flink),
          extra: { source: sp.path, checkpointId: sp.checkpointId, ...(sp.error ? { error: sp.error } : {}) } });
      }
    }
  }
  const secureOutcome = flag("no-secure") ? null : await secure();
  if (secureOutcome) {
    scenarios.push(...(secureOutcome.scenarios as Scenario[]));
    phaseSeconds.secureSeconds = secureOutcome.seconds;
    results.secureWire = secureOutcome.wire;
  }
  results.scenarios = scenarios;
  results.rpoP99Seconds = percentile(ours.rpoSeconds, 99);
  results.rpoP50Seconds = percentile(ours.rpoSeconds, 50);
  results.samplesWithNoRestorableCopy = ours.noneRestorable;
  results.rpoNote = "RPO per checker sample and job: seconds since the newest restorable copy's source completion; with no restorable copy, since the job's first checkpoint";
  results.distcp = {
    runs: distcpRuns.length,
    runSecondsP50: percentile(distcpRuns.map((r) => r.ms / 1000), 50),
    metadataCopied: distcpMetadata,
    restoresTried: distcpRestores.length,
    restoresNotTried: distcpNotTried,
    restoresOk: distcpRestores.filter((r) => r.stateOk).length,
    stateMismatches: distcpRestores.filter((r) => r.ok && !r.stateOk).length,
    brokenSeenByChecker: theirs.violations.length,
    brokenExamples: theirs.violations.slice(0, 5),
    rpoP99Seconds: percentile(theirs.rpoSeconds, 99),
    rpoP50Seconds: percentile(theirs.rpoSeconds, 50),
    samplesWithNoRestorableCopy: theirs.noneRestorable,
    failedRestores: distcpRestores.filter((r) => !r.stateOk).slice(0, 5).map((r) => ({ path: r.path, error: (r.error ?? "").slice(0, 300) })),
  };
  results.emulatorDiff = emulatorDiff;
  results.perf = perf;
  results.timings = { buildSeconds, restoreSeconds, ...phaseSeconds, totalSeconds: (Date.now() - t0) / 1000 };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);

  const problems: string[] = [];
  if (ours.violations.length > 0) {
    problems.push(`${ours.violations.length} violation(s) on hdfs2: ${ours.violations.slice(0, 3).join("; ")}`);
    for (const v of ours.violations.slice(0, 3)) writeEvidence(v.slice(0, v.indexOf(": ")));
  }
  if (ours.samples < 10) problems.push(`only ${ours.samples} checker samples`);
  if (unpublished.count > 0) problems.push(`the daemon unpublished ${unpublished.count} published checkpoint(s) as no longer restorable, with nothing tampering with hdfs2: ${unpublished.examples.slice(0, 2).join(" | ")}`);
  for (const r of restores) if (!r.stateOk) problems.push(`restore ${r.path} (Flink ${r.flink}): ${r.error ?? "state mismatch"}`);
  if (restores.length === 0) problems.push("no restore was tried");
  problems.push(...variantProblems);
  if (secureOutcome) problems.push(...secureOutcome.problems);
  problems.push(...s3Problems);
  for (const f of faults) if (!f.ok) problems.push(`fault injection failed: ${f.what}: ${f.error}`);
  const summary = `interop: ${ours.samples} samples, ${ours.violations.length} violations; restores ${restores.filter((r) => r.stateOk).length}/${restores.length} exact; ` +
    `distcp restores ${distcpRestores.filter((r) => r.stateOk).length}/${distcpRestores.length} of ${distcpMetadata} copied _metadata; ` +
    `RPO p99 ours ${String(results.rpoP99Seconds)} s, distcp ${String((results.distcp as { rpoP99Seconds: unknown }).rpoP99Seconds)} s`;
  log(summary);
  const passedChecks = restores.filter((r) => r.stateOk).length + variantRestores.filter((r) => r.stateOk).length + (ours.violations.length === 0 && ours.samples >= 10 ? 1 : 0) + faults.filter((f) => f.ok).length;
  process.stdout.write(`interop: ${passedChecks} passed, ${problems.length} failed\n`);
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`FAILED: ${p}\n`);
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------- perf
/** --perf-only: the throughput cases alone on the two clusters; fails when a case did not complete. */
async function perfOnlyRun(results: Record<string, unknown>, h1: ClusterInfo, h2: ClusterInfo, distcpCp: string, confBoth: string, buildSeconds: number): Promise<number> {
  const tPerf = Date.now();
  const perf = await runPerf(h1, h2, distcpCp, confBoth);
  results.perf = perf;
  results.timings = { buildSeconds, perfSeconds: (Date.now() - tPerf) / 1000, totalSeconds: (Date.now() - t0) / 1000 };
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  for (const c of [h1, h2]) c.proc.send("stop");
  await Promise.race([Promise.all([h1.proc.exited, h2.proc.exited]), sleep(20_000)]);
  const problems = Object.entries(perf).filter(([k]) => k !== "note").flatMap(([k, v]) => {
    const c = v as { error?: string; daemonExit?: number | null; distcpExit?: number | null; distcpTimedOut?: boolean };
    if (c.error) return [`perf ${k}: ${c.error}`];
    if (c.daemonExit !== 0) return [`perf ${k}: the daemon's resync exited ${String(c.daemonExit)}`];
    if (c.distcpExit !== 0 && !c.distcpTimedOut) return [`perf ${k}: DistCp exited ${String(c.distcpExit)}`];
    return [];
  });
  process.stdout.write(`interop (perf only): ${Object.keys(perf).length - 1 - problems.length} passed, ${problems.length} failed\n`);
  for (const p of problems) process.stderr.write(`FAILED: ${p}\n`);
  return problems.length > 0 ? 1 : 0;
}

async function runPerf(h1: ClusterInfo, h2: ClusterInfo, distcpCp: string, confBoth: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const cases = [
    { name: "large", args: ["--operators", "1", "--parallelism", "4", "--state-size", "1GiB"] },
    // The simulator writes about 5.7 files per operator subtask: --small-files 500 (the default, to
    // fit CI's budget: a real NameNode takes ~50 ms per small-file create) or 5000.
    { name: "small-files", args: ["--operators", "1", "--parallelism", String(Math.max(1, Math.round(smallFiles / 5.7))), "--state-size", "16MiB"] },
  ];
  for (const c of cases) {
    const src = `/perf/${c.name}`;
    const gen = await runToEnd("simulate", process.execPath, [cliBin, "simulate-job", ...h1.http.flatMap((p) => ["--namenode", `http://127.0.0.1:${p}`]),
      "--root", src, "--count", "1", "--retained", "1", "--cluster-name", "hdfs1", "--user", "root", ...c.args], { logFile: join(work, "perf.log"), cwd: work, timeoutMs: 600_000 });
    if (gen.code !== 0) {
      out[c.name] = { error: `simulate-job exited ${gen.code}` };
      continue;
    }
    const cfg = join(work, `perf-${c.name}.yaml`);
    daemonYaml(cfg, h1, h2, [{ source: src, target: `/perf-daemon/${c.name}` }]);
    const ours = await runToEnd("resync", process.execPath, [cliBin, "resync", "--config", cfg, "--json"], { logFile: join(work, "perf.log"), cwd: work, timeoutMs: 900_000 });
    const theirs = await runToEnd("distcp-perf", "java", javaArgs("distcp", `${confBoth}:${distcpCp}`, "768m", "org.apache.hadoop.tools.DistCp",
      ["-i", "-update", `hdfs://hdfs1${src}`, `hdfs://hdfs2/perf-distcp/${c.name}`]), { logFile: join(work, "perf.log"), cwd: work, timeoutMs: perfTimeoutSeconds * 1000 });
    const du = async (p: string, cl = h1): Promise<{ files: number; bytes: number }> => {
      const nn = await activeNn(cl);
      const r = await httpReq("GET", `${nn}/webhdfs/v1${p}?op=GETCONTENTSUMMARY&user.name=root`);
      const s = (JSON.parse(r.body.toString()) as { ContentSummary: { fileCount: number; length: number } }).ContentSummary;
      return { files: s.fileCount, bytes: s.length };
    };
    const size = await du(src);
    const copiedBy = async (p: string): Promise<number> => (await du(p, h2).catch(() => ({ files: 0, bytes: 0 }))).files;
    const daemonFiles = await copiedBy(`/perf-daemon/${c.name}`);
    const distcpFiles = await copiedBy(`/perf-distcp/${c.name}`);
    // DistCp stopped at --perf-timeout: the ratio is then one of file rates, a lower bound of the daemon's lead.
    const distcpTimedOut = theirs.code === null;
    out[c.name] = {
      files: size.files,
      bytes: size.bytes,
      daemonSeconds: ours.ms / 1000,
      daemonExit: ours.code,
      daemonMiBps: size.bytes / 1048576 / (ours.ms / 1000),
      distcpSeconds: theirs.ms / 1000,
      distcpExit: theirs.code,
      distcpMiBps: size.bytes / 1048576 / (theirs.ms / 1000),
      ratioDaemonOverDistcpThroughput: distcpTimedOut ? (daemonFiles / ours.ms) / (Math.max(1, distcpFiles) / theirs.ms) : theirs.ms / ours.ms,
      daemonFilesOnTarget: daemonFiles,
      distcpFilesOnTarget: distcpFiles,
      ...(distcpTimedOut ? { distcpTimedOut: true, ratioNote: `DistCp stopped after ${perfTimeoutSeconds} s with ${distcpFiles} of ${size.files} files; ratio of file rates (a lower bound)` } : {}),
    };
    log(`perf ${c.name}: ${size.files} files, ${(size.bytes / 1048576).toFixed(0)} MiB: daemon ${(ours.ms / 1000).toFixed(1)} s, distcp ${(theirs.ms / 1000).toFixed(1)} s`);
  }
  out.note = "daemon = `ckpt-replicator resync` (the daemon's engine, one full reconcile, JVM-free); distcp = one `distcp -i -update` JVM with the local job runner; both hdfs1 -> hdfs2 on loopback, same files, wall-clock including process start";
  return out;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  process.stderr.write(`FAILED: interop run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  exitCode = 1;
} finally {
  killAll();
  await sleep(500);
  // A failed run keeps its logs and data for a look (the clusters are stopped).
  if (!flag("keep") && exitCode === 0) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}${exitCode === 0 ? "" : " (the run failed)"}`);
}
process.exit(exitCode);
