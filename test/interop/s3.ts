// The S3 part of the real-stack run (scenarios named "s3-..."): a real Flink job (RocksDB incremental)
// checkpoints to the real hdfs1, the real CLI daemon replicates it into s3://dr-bucket/flink/ckpt on a
// real S3-compatible server (moto, as in the S3 tests), Flink's own metadata loader samples every
// _metadata in the bucket through Flink's S3 filesystem (flink-s3-fs-hadoop, see S3Conf.java), the
// daemon is killed with -9 while a multipart upload is in progress (forced: 16 KiB values make ~8 MiB
// RocksDB files, parts are 5 MiB, and after a first publish the daemon's config is changed to copy at
// 1 MiB/s, which it reloads on its own), restarted (at full speed again), and the checkpoints kept in
// the bucket are restored in real Flink from the bucket only, with exact state. Beside it, a small job of
// each further Flink version with an S3 filesystem in its build (1.20) is replicated, sampled and
// restored from the bucket the same way, in its own version. The restorer and the
// checker know hdfs2's nameservice only: hdfs1 does not resolve for them. They run with
// flink-s3-fs-hadoop first on the classpath: it shades an older Hadoop (3.3) whose S3A cannot parse
// the "60s"-style defaults of the unshaded Hadoop 3.4 core-default.xml, which would otherwise win.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AbortMultipartUploadCommand, CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, S3Client } from "@aws-sdk/client-s3";
import { writeInteropDaemonConfig } from "./daemon-config.js";
import { Proc, freePorts, runToEnd, sleep } from "./procs.js";
import { parseCompleted, parseSample, summarise, type CheckerSample } from "./results.js";

export interface S3RestoreItem {
  path: string;
  settings?: string;
  expectedOut: string | null;
  checkFirst: boolean;
  keys: number;
}

export interface S3RestoreResult {
  path: string;
  ok: boolean;
  stateOk: boolean;
  error?: string;
  ms: number;
}

/** What the S3 part needs from the harness (run.ts): its processes, builds and configurations. */
export interface S3Context {
  work: string;
  log: (msg: string) => void;
  cliBin: string;
  /** Flink version of the main job (killed mid-upload) and its restorer; flink-s3-fs-hadoop on its classpath. */
  flink: string;
  classpath: string;
  /** Further Flink versions (with flink-s3-fs-hadoop): a small job each beside the main one, restored from the bucket too. */
  others: Array<{ flink: string; classpath: string }>;
  javaArgs: (name: string, classpath: string, heap: string, main: string, args: string[]) => string[];
  /** Hadoop client configuration knowing hdfs1 only (the job) and hdfs2 only (checker and restorer). */
  confSrc: string;
  confDr: string;
  sourceNamenodes: string[];
  startJob: (flink: string, variant: string, confDir: string, extra: string[]) => Promise<{ proc: Proc; out: string; jobId: string }>;
  startDaemonUntilUp: (config: string, tag: string, maxMs: number) => Promise<{ proc: Proc; tries: number }>;
  /** Restores in one restorer JVM with the given classpath (Hadoop configuration: confDr). */
  restoreMany: (items: S3RestoreItem[], logName: string, classpath: string) => Promise<S3RestoreResult[]>;
}

export interface S3Scenario {
  name: string;
  published: number;
  samples: number;
  violations: number;
  restoresTried: number;
  restoresOk: number;
  stateMismatches: number;
  [k: string]: unknown;
}

const BUCKET = "dr-bucket";
const PREFIX = "flink/ckpt";
const ROOT = `s3a://${BUCKET}/${PREFIX}`;
const KEYS = 1000;
const PAYLOAD = 16384;
/** Values of the other versions' jobs: small, their state fits in single PUTs. */
const SMALL_PAYLOAD = 1024;
const CREDS = { accessKeyId: "interop-key", secretAccessKey: "interop-secret" };
/** The classpath with Flink's S3 filesystem jar first (see the header). */
const s3First = (cp: string): string => {
  const parts = cp.split(":");
  return [...parts.filter((p) => p.includes("flink-s3-fs-")), ...parts.filter((p) => !p.includes("flink-s3-fs-"))].join(":");
};
const S3_ENV = { INTEROP_S3_ACCESS_KEY: CREDS.accessKeyId, INTEROP_S3_SECRET_KEY: CREDS.secretAccessKey };

async function startMoto(ctx: S3Context): Promise<{ endpoint: string; proc: Proc }> {
  const [port] = await freePorts(1);
  const endpoint = `http://127.0.0.1:${port!}`;
  const proc = new Proc("moto", "moto_server", ["-H", "127.0.0.1", "-p", String(port)], { logFile: join(ctx.work, "moto.log"), cwd: ctx.work });
  const deadline = Date.now() + 120_000;
  while (!(await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false))) {
    if (!proc.running) throw new Error(`moto_server exited (${JSON.stringify(proc.exitInfo)}); see moto.log`);
    if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint} within 120 s`);
    await sleep(200);
  }
  return { endpoint, proc };
}

function daemonConfig(file: string, ctx: S3Context, endpoint: string, bandwidth: string): void {
  writeInteropDaemonConfig(file, {
    sourceNamenodes: ctx.sourceNamenodes,
    target: `  name: bucket
  s3: { endpoint: "${endpoint}", region: us-east-1, pathStyle: true, accessKeyId: { env: INTEROP_S3_ACCESS_KEY }, secretAccessKey: { env: INTEROP_S3_SECRET_KEY },
        scheme: s3a, partSize: 5MiB, uploadConcurrency: 1 }`,
    paths: [{ source: "/flink/s3src", target: `s3://${BUCKET}/${PREFIX}` }],
    leaseTtl: "6s",
    bandwidth,
  });
}

type Upload = { key: string; uploadId: string };
async function uploads(s3: S3Client): Promise<Upload[]> {
  const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return (r.Uploads ?? []).filter((u) => u.Key && u.UploadId).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
}

async function metadataKeys(s3: S3Client, jobId: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/${jobId}/`, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) if (o.Key && /\/chk-\d+\/_metadata$/.test(o.Key)) out.push(o.Key);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

const chkNum = (key: string): number => Number(/chk-(\d+)/.exec(key)?.[1] ?? -1);

/** Runs the S3 part; returns its scenarios and the problems that fail the run. */
export async function runS3(ctx: S3Context): Promise<{ scenarios: S3Scenario[]; problems: string[]; details: Record<string, unknown> }> {
  const problems: string[] = [];
  const details: Record<string, unknown> = {};
  const { log, work } = ctx;
  const saved = { ...process.env };
  let moto: { endpoint: string; proc: Proc } | undefined;
  let checker: Proc | undefined;
  let daemon: Proc | undefined;
  let job: { proc: Proc; out: string; jobId: string } | undefined;
  const smallJobs: Array<{ flink: string; classpath: string; proc: Proc; out: string; jobId: string }> = [];
  const s3Of = (endpoint: string) => new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: CREDS });
  let s3: S3Client | undefined;
  try {
    moto = await startMoto(ctx);
    s3 = s3Of(moto.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Every JVM and daemon of this part (and only of this part: restored below) sees the bucket.
    Object.assign(process.env, S3_ENV, { INTEROP_S3_ENDPOINT: moto.endpoint });
    const config = join(work, "s3-daemon.yaml");
    daemonConfig(config, ctx, moto.endpoint, "0");
    job = await ctx.startJob(ctx.flink, `s3-rocksdb-incremental-${ctx.flink}`, ctx.confSrc,
      ["ckptDir=hdfs://hdfs1/flink/s3src", "backend=rocksdb", "incremental=true", "retained=3", "interval=6000", `keys=${KEYS}`, `payload=${PAYLOAD}`, `perCheckpoint=${KEYS}`]);
    for (const o of ctx.others) {
      const j = await ctx.startJob(o.flink, `s3-rocksdb-incremental-${o.flink}`, ctx.confSrc,
        ["ckptDir=hdfs://hdfs1/flink/s3src", "backend=rocksdb", "incremental=true", "retained=3", "interval=6000", `keys=${KEYS}`, `payload=${SMALL_PAYLOAD}`, `perCheckpoint=${KEYS}`]);
      smallJobs.push({ ...o, ...j });
    }
    log(`s3: moto at ${moto.endpoint}; jobs ${[{ flink: ctx.flink, jobId: job.jobId }, ...smallJobs].map((j) => `${j.jobId} (Flink ${j.flink})`).join(", ")} checkpointing to hdfs://hdfs1/flink/s3src`);
    checker = new Proc("s3-checker", "java", ctx.javaArgs("s3-checker", `${ctx.confDr}:${s3First(ctx.classpath)}`, "512m", "interop.Check", ["1000", "0", ROOT]),
      { logFile: join(work, "s3-checker.log"), stdin: true, cwd: work, env: { ...process.env, HADOOP_CONF_DIR: ctx.confDr } });
    daemon = (await ctx.startDaemonUntilUp(config, "s3-1", 30_000)).proc;
    const daemonLog = () => (existsSync(join(work, "daemon.log")) ? readFileSync(join(work, "daemon.log"), "utf8") : "");
    const publishedCount = () => daemonLog().split("\n").filter((l) => l.includes(job!.jobId) && l.includes("published on the target\"")).length;

    // ---- kill -9 in the middle of a multipart upload, after a first publish
    const tFirst = Date.now();
    while (publishedCount() === 0 && Date.now() - tFirst < 120_000) await sleep(500);
    if (publishedCount() === 0) throw new Error("no checkpoint published into the bucket within 120 s");
    log(`s3: first checkpoint published after ${((Date.now() - tFirst) / 1000).toFixed(0)} s; throttling the daemon to 1 MiB/s`);
    const reloads = () => daemonLog().split("\n").filter((l) => l.includes("\"config reloaded\"") && l.includes(`"bandwidth":${1024 * 1024}`)).length;
    daemonConfig(config, ctx, moto.endpoint, "1MiB");
    const tReload = Date.now();
    while (reloads() === 0 && Date.now() - tReload < 30_000) await sleep(200);
    if (reloads() === 0) throw new Error("the daemon did not reload its config with the bandwidth limit within 30 s");
    // Killed once an upload of this job has a part on the store (one still to come: 8 MiB in 5 MiB parts);
    // after 45 s, once any upload is listed at all.
    let inProgress: Array<Upload & { parts: number }> = [];
    const tSeek = Date.now();
    while (inProgress.length === 0 && Date.now() - tSeek < 60_000) {
      const us = await Promise.all((await uploads(s3)).filter((u) => u.key.startsWith(`${PREFIX}/${job!.jobId}/`))
        .map(async (u) => ({ ...u, parts: (await s3!.send(new ListPartsCommand({ Bucket: BUCKET, Key: u.key, UploadId: u.uploadId }))).Parts?.length ?? 0 })));
      if (us.some((u) => u.parts > 0) || (us.length > 0 && Date.now() - tSeek > 45_000)) {
        daemon.kill("SIGKILL");
        inProgress = us;
      } else await sleep(100);
    }
    await daemon.exited;
    const killedAt = Date.now();
    const afterKill = await uploads(s3);
    const abandoned = inProgress.filter((u) => afterKill.some((a) => a.uploadId === u.uploadId));
    details.multipartAtKill = { inProgress, stillListedAfterKill: abandoned.length, publishedBeforeKill: publishedCount() };
    log(`s3: daemon killed -9 with ${inProgress.length} multipart upload(s) in progress (${abandoned.length} abandoned: ${abandoned.map((u) => `${u.key} ${u.parts} part(s)`).join(", ")})`);
    if (abandoned.length === 0) problems.push("s3: no multipart upload was in progress when the daemon was killed");
    daemonConfig(config, ctx, moto.endpoint, "0"); // restarted at full speed, as after an operator's fix
    const restart = await ctx.startDaemonUntilUp(config, "s3-2", 60_000);
    daemon = restart.proc;
    const restartedAt = Date.now();
    details.restart = { tries: restart.tries, ms: restartedAt - killedAt };

    // ---- let the job run on, then stop it (checkpoints retained) and wait for the newest to be published
    await sleep(7_000);
    const all = [{ flink: ctx.flink, classpath: ctx.classpath, payload: PAYLOAD, ...job }, ...smallJobs.map((j) => ({ ...j, payload: SMALL_PAYLOAD }))];
    for (const j of all) j.proc.send("stop");
    await Promise.all(all.map((j) => j.proc.waitLine((l) => l.includes("\"stopped\":true"), 90_000, "s3 job stop").catch(() => j.proc.kill())));
    const completedOf = new Map(all.map((j) => [j.jobId, parseCompleted(existsSync(join(j.out, "completed.jsonl")) ? readFileSync(join(j.out, "completed.jsonl"), "utf8") : "")]));
    const completed = completedOf.get(job.jobId)!;
    const tCatch = Date.now();
    for (const j of all) {
      const newest = Math.max(...completedOf.get(j.jobId)!.keys());
      while (!(await metadataKeys(s3, j.jobId)).some((k) => chkNum(k) === newest) && Date.now() - tCatch < 90_000) await sleep(500);
    }
    details.catchUpSeconds = (Date.now() - tCatch) / 1000;
    await sleep(2500); // a last sample or two of the final state
    checker.send("stop");
    await Promise.race([checker.exited, sleep(30_000)]);
    checker.kill();
    const samples: CheckerSample[] = checker.lines.map(parseSample).filter((s): s is CheckerSample => s !== null);
    const summary = summarise(samples, ROOT, completedOf);
    const checked = new Set(samples.flatMap((x) => x.checkpoints.filter((c) => c.root === ROOT && c.path).map((c) => c.path!)));
    // Samples taken while no daemon ran, the abandoned upload open in the bucket.
    const whileDown = samples.filter((x) => x.t >= killedAt && x.t <= restartedAt && x.checkpoints.some((c) => c.root === ROOT && c.path));
    const left = await uploads(s3);
    const stillThere = abandoned.filter((u) => left.some((l) => l.uploadId === u.uploadId));
    details.uploadsAfterRestart = { abandonedStillListed: stillThere.length, listed: left.length };
    if (stillThere.length > 0) problems.push(`s3: ${stillThere.length} upload(s) abandoned by the kill not aborted after the restart: ${stillThere.map((u) => u.key).join(", ")}`);
    const publishedOf = (id: string) => daemonLog().split("\n").filter((l) => l.includes(id) && l.includes("published on the target\"")).length;
    await daemon.stop(15_000);

    // ---- restore in real Flink from the bucket only: one restorer JVM per Flink version, concurrently
    const tRestore = Date.now();
    const perJob = await Promise.all(all.map(async (j) => {
      const latest = await runToEnd("s3-latest", process.execPath, [ctx.cliBin, "latest", "--config", config, "--job", j.jobId, "--format", "path"],
        { logFile: join(work, "s3-latest.log"), cwd: work, timeoutMs: 120_000 });
      const latestPath = latest.stdout.trim().split("\n").pop() ?? "";
      const kept = (await metadataKeys(s3!, j.jobId)).map((k) => `s3a://${BUCKET}/${k.slice(0, -"/_metadata".length)}`).sort((a, b) => chkNum(b) - chkNum(a));
      log(`s3 (Flink ${j.flink}): latest ${latestPath} (exit ${latest.code}); kept in the bucket: ${kept.map((p) => p.slice(p.lastIndexOf("/") + 1)).join(", ")}`);
      if (latestPath !== kept[0]) problems.push(`s3 (Flink ${j.flink}): latest printed ${JSON.stringify(latestPath)}, the newest in the bucket is ${kept[0] ?? "(none)"}`);
      const items = kept.map((path) => ({ path, expectedOut: j.out, keys: KEYS, checkFirst: true, settings: `payload=${j.payload}` }));
      const restores = await ctx.restoreMany(items, `s3-restores-${j.flink}`, s3First(j.classpath));
      for (const r of restores) log(`s3 restore (Flink ${j.flink}) ${r.path}: ${r.stateOk ? "OK, exact state" : `FAILED ${r.error ?? ""}`} (${(r.ms / 1000).toFixed(1)} s)`);
      for (const r of restores) if (!r.stateOk) problems.push(`s3: restore ${r.path} (Flink ${j.flink}): ${r.error ?? "state mismatch"}`);
      if (restores.length === 0) problems.push(`s3 (Flink ${j.flink}): no checkpoint in the bucket to restore`);
      return { j, latestPath, restores };
    }));
    details.restoreSeconds = (Date.now() - tRestore) / 1000;
    if (summary.violations.length > 0) problems.push(`s3: ${summary.violations.length} violation(s) in the bucket: ${summary.violations.slice(0, 3).join("; ")}`);
    if (summary.samples < 5) problems.push(`s3: only ${summary.samples} checker samples of the bucket`);

    const scenarios: S3Scenario[] = [
      { name: `s3-live replication into the bucket across a daemon kill -9 mid-multipart-upload (Flink ${all.map((j) => j.flink).join(", ")})`,
        flink: ctx.flink, jobId: job.jobId, jobs: all.map((j) => ({ flink: j.flink, jobId: j.jobId, published: publishedOf(j.jobId), checkpointsCompleted: completedOf.get(j.jobId)!.size })),
        published: all.reduce((n, j) => n + publishedOf(j.jobId), 0), samples: summary.samples, violations: summary.violations.length, violationDetails: summary.violations.slice(0, 10),
        unavailableSamples: summary.unavailable, checkpointsChecked: checked.size, samplesWhileDaemonDown: whileDown.length, restoresTried: 0, restoresOk: 0, stateMismatches: 0,
        checkpointsCompleted: completed.size, multipartAtKill: details.multipartAtKill, uploadsAfterRestart: details.uploadsAfterRestart, daemonRestart: details.restart },
      ...perJob.map(({ j, latestPath, restores }) => ({
        name: `s3-restore in real Flink from the bucket only (Flink ${j.flink})`, flink: j.flink, jobId: j.jobId, published: publishedOf(j.jobId), samples: 0, violations: 0,
        restoresTried: restores.length, restoresOk: restores.filter((r) => r.stateOk).length, stateMismatches: restores.filter((r) => r.ok && !r.stateOk).length,
        ...(j.flink !== ctx.flink ? { note: `a small job (${SMALL_PAYLOAD}-byte values) beside the main one; its S3 filesystem is flink-s3-fs-hadoop 1.20.1 where Flink is 1.20.3 (pom.xml)` } : {}),
        latest: latestPath, restores })),
    ];
    return { scenarios, problems, details };
  } finally {
    checker?.kill();
    await daemon?.stop(5000);
    if (job?.proc.running) job.proc.kill();
    for (const j of smallJobs) if (j.proc.running) j.proc.kill();
    // Leftovers would only be this run's: abort them so moto stops cleanly.
    if (s3) {
      for (const u of await uploads(s3).catch(() => [])) await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.key, UploadId: u.uploadId })).catch(() => undefined);
      s3.destroy();
    }
    await moto?.proc.stop(5000);
    for (const k of [...Object.keys(S3_ENV), "INTEROP_S3_ENDPOINT"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
