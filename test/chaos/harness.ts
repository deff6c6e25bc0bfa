// Runs one chaos world: an in-process sandbox (hdfs1, hdfs2) whose request log
// feeds the checker, simulated Flink jobs writing to hdfs1, the REAL daemon
// (`node dist/cli/bin.js run`) as a child process, the fault schedule driven
// through the sandbox's admin HTTP API and process signals, tampering on hdfs2,
// and the independent checker sampling the target the whole time. Returns
// every violation with the timeline that led to it.

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { Checker, GroundTruth, type Violation } from "./checker.js";
import { httpGetText, Probe } from "./probe.js";
import { ChaosRandom } from "./random.js";
import { describeAction, describeWorld, type ChaosAction, type JobShape, type World } from "./world.js";

export const SOURCE_ROOT = "/flink/checkpoints";
/** Same length as the source root and same authority length, so the rewritten `_metadata` can be mapped back byte for byte. */
export const TARGET_ROOT = "/flink/checkpoints";
const FLINK_USER = "flink";
const TAMPER_USER = "tamper";
const MAX_DAEMONS = 80;

export interface TimelineEntry {
  t: number;
  what: string;
}

export interface ChaosResult {
  world: World;
  violations: Violation[];
  timeline: TimelineEntry[];
  samples: number;
  failedSamples: number;
  checkpointsTaken: number;
  published: number;
  daemonsStarted: number;
  elapsedMs: number;
  daemonTail: string;
}

interface DaemonInstance {
  index: number;
  user: string;
  child: ChildProcess;
  metricsUrl: string;
  tail: string[];
  /** Set when the harness killed it or expects it to exit (lost lease). */
  expectExit: boolean;
  paused: boolean;
  /** It logged "replicator started" (past the lease and its start-up checks). */
  started: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitedYet: boolean;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function admin(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return await new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false, headers: payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`admin ${method} ${path}: ${res.statusCode} ${text}`));
        else resolve(text ? (JSON.parse(text) as unknown) : null);
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

function daemonUser(i: number): string {
  return `ckpt-d${i + 1}`;
}

function configYaml(world: World, nn: Sandbox["endpoints"]["clusters"], user: string, metricsPort: number): string {
  const side = (name: string) =>
    `{name: ${name}, namenodes: ${JSON.stringify(nn[name]!.namenodes)}, uri: "hdfs://${name}", user: ${user}, requestTimeout: 5s, retry: {attempts: 4, baseDelay: 50ms, maxDelay: 500ms}}`;
  return [
    `source: ${side("hdfs1")}`,
    `target: ${side("hdfs2")}`,
    `paths: [{source: ${SOURCE_ROOT}, target: ${TARGET_ROOT}}]`,
    `scan: {interval: ${world.scanIntervalMs}ms, fullRescanEvery: ${world.fullRescanEvery}, corruptAfter: 30s}`,
    `copy: {concurrency: ${world.concurrency}, retries: 4, bandwidth: ${world.bandwidth}}`,
    `retain: {min: ${world.retain.min}, max: ${world.retain.max}}`,
    `reap: {tempGrace: 5s}`,
    `lease: {ttl: ${world.leaseTtlMs}ms}`,
    `metrics: {listen: "127.0.0.1:${metricsPort}"}`,
    `log: {level: info}`,
    "",
  ].join("\n");
}

/** A simulated Flink job that checkpoints on its interval until stopped; failed checkpoints are just failed, as in Flink. */
class JobRunner {
  sim: FlinkJobSimulator;
  run = 1;
  taken = 0;
  failed = 0;
  private controller = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly shape: JobShape,
    private readonly make: (shape: JobShape, seed: number, run: number) => FlinkJobSimulator,
  ) {
    this.sim = make(shape, shape.seed, 1);
  }

  start(): void {
    this.controller = new AbortController();
    const signal = this.controller.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        const started = Date.now();
        try {
          await this.sim.checkpointOnce(signal);
          this.taken++;
        } catch {
          if (signal.aborted) return;
          this.failed++;
        }
        const wait = started + this.shape.intervalMs - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  /** A new run under the same job id (checkpoint ids start at 1 again). */
  async restart(seed: number): Promise<void> {
    await this.stop();
    this.run++;
    this.sim = this.make(this.shape, seed, this.run);
    this.start();
  }
}

export async function runChaos(world: World, cliBin: string): Promise<ChaosResult> {
  const startedAt = Date.now();
  const timeline: TimelineEntry[] = [];
  const note = (what: string): void => {
    timeline.push({ t: Date.now() - startedAt, what });
  };
  const stateDir = await mkdtemp(join(tmpdir(), "ckpt-chaos-"));
  const userGroups: Record<string, string[]> = { [TAMPER_USER]: ["supergroup"] };
  for (let i = 0; i < MAX_DAEMONS; i++) userGroups[daemonUser(i)] = ["supergroup"];
  const sandbox = await startSandbox({ stateDir, userGroups });
  const nn = sandbox.endpoints.clusters;
  const adminUrl = sandbox.endpoints.admin;
  const storages: WebHdfsStorage[] = [];
  const truth = new GroundTruth();
  const daemons: DaemonInstance[] = [];
  const jobs: JobRunner[] = [];
  const pending: Promise<unknown>[] = [];
  const targetProbe = new Probe("hdfs2", nn.hdfs2!.namenodes, "chaos-checker");
  const tamperProbe = new Probe("hdfs2", nn.hdfs2!.namenodes, TAMPER_USER);
  const sourceProbe = new Probe("hdfs1", nn.hdfs1!.namenodes, FLINK_USER);
  const rnd = new ChaosRandom(world.seed, "runtime");
  const obligations: { job: string; minId: number; run: number; createdAt: number; what: string }[] = [];
  /** Clusters the schedule has down on purpose (unreachable, safe mode, starting up), until when. */
  const outageUntil = new Map<string, number>();
  let stopping = false;

  const checker = new Checker({
    probe: targetProbe,
    sourceRoot: SOURCE_ROOT,
    targetRoot: TARGET_ROOT,
    sourceUri: "hdfs://hdfs1",
    targetUri: "hdfs://hdfs2",
    truth,
    sourceRetained: (job) => jobs.find((j) => j.shape.jobId === job)?.sim.retained().length ?? 0,
    sourceRetains: (job, run, id) => {
      const j = jobs.find((x) => x.shape.jobId === job);
      return j !== undefined && j.run === run && j.sim.retained().some((c) => c.id === id);
    },
    retainMin: world.retain.min,
    repairWindowMs: world.repairWindowMs,
    sourceWriters: new Set([FLINK_USER]),
    daemonUsers: () => daemons.map((d) => d.user),
    harnessUsers: new Set([TAMPER_USER, "chaos-checker"]),
    startedAt,
  });
  const unobserve = sandbox.faults.observe((r) => checker.onRequest(r));

  const makeSim = (shape: JobShape, seed: number, run: number) => {
    const storage = new WebHdfsStorage(
      new WebHdfsClient({ name: "hdfs1", namenodes: nn.hdfs1!.namenodes, user: FLINK_USER, requestTimeoutMs: 5000, retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 300 } }),
    );
    storages.push(storage);
    return new FlinkJobSimulator({
      storage,
      fsUri: "hdfs://hdfs1",
      root: SOURCE_ROOT,
      jobId: shape.jobId,
      seed,
      intervalMs: shape.intervalMs,
      stateSizeBytes: shape.stateSizeBytes,
      operators: shape.operators,
      parallelism: shape.parallelism,
      retained: shape.retained,
      formatVersion: shape.formatVersion,
      paths: shape.paths,
      channelState: shape.channelState,
      taskOwnedState: shape.taskOwnedState,
      newSharedFilesPerSubtask: shape.newSharedFilesPerSubtask,
      onPlanned: (c) => truth.add(c.metadataSha256, { jobId: c.jobId, checkpointId: c.id, run, metadataPath: c.metadataPath, files: c.files.map((f) => ({ path: f.path, size: f.size })) }),
    });
  };

  // ---- daemons ----
  const current = () => [...daemons].reverse().find((d) => !d.exitedYet && !d.expectExit);
  /** No daemon serving (killed, restarting, failing to start, paused), or a cluster down on purpose. */
  const impaired = (): boolean => {
    const d = current();
    if (!d || !d.started || d.paused) return true;
    const now = Date.now();
    for (const until of outageUntil.values()) if (until > now) return true;
    return false;
  };

  const startDaemon = async (why: string): Promise<DaemonInstance> => {
    const index = daemons.length;
    if (index >= MAX_DAEMONS) throw new Error(`more than ${MAX_DAEMONS} daemon starts`);
    const user = daemonUser(index);
    const port = await freePort();
    const configFile = join(stateDir, `daemon-${index + 1}.yaml`);
    await writeFile(configFile, configYaml(world, nn, user, port));
    const child = spawn(process.execPath, [cliBin, "run", "--config", configFile], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CKPT_LOG_LEVEL: "info" } });
    const d: DaemonInstance = {
      index,
      user,
      child,
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
      tail: [],
      expectExit: false,
      paused: false,
      started: false,
      exitedYet: false,
      exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    };
    const logDir = process.env.CHAOS_DAEMON_LOG_DIR;
    if (logDir) {
      // Full daemon logs for debugging a seed: CHAOS_DAEMON_LOG_DIR=/tmp/chaos-logs
      await mkdir(logDir, { recursive: true });
      const out = createWriteStream(join(logDir, `${world.name.replace(/[^A-Za-z0-9_-]+/g, "_")}-daemon-${index + 1}.log`));
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      child.once("exit", () => out.end());
    }
    let partial = "";
    const onData = (c: Buffer) => {
      partial += c.toString("utf8");
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!d.started && line.includes('"msg":"replicator started"')) d.started = true;
        // Warnings, errors and anything that is not a pino line (a crash's stack trace) are what a failure report needs.
        if (!line.startsWith("{") || /"level":(40|50|60)/.test(line)) d.tail.push(line);
      }
      if (d.tail.length > 300) d.tail.splice(0, d.tail.length - 300);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    daemons.push(d);
    note(`daemon #${index + 1} (${user}, pid ${child.pid}) started: ${why}`);
    void d.exited.then(({ code, signal }) => {
      d.exitedYet = true;
      note(`daemon #${index + 1} exited (code ${code}, signal ${signal})`);
      if (d.expectExit || stopping) return;
      const text = d.tail.join("\n");
      if (code === 1 && !d.started) {
        // A start refused with a one-line error (lease still held, target unreachable at start): systemd and
        // Kubernetes restart it, and so does the harness. Not a violation; it is in the timeline.
        d.expectExit = true;
        const why = /another replicator holds the target lease/.test(text) ? "was refused the lease" : `failed to start: ${lastLines(d.tail, 1).slice(0, 200)}`;
        note(`daemon #${index + 1} ${why}`);
        pending.push(sleep(1000).then(() => (stopping ? undefined : startDaemon(`restart after daemon #${index + 1} ${why.split(":")[0]}`))));
        return;
      }
      checker.violate("daemon", `daemon #${index + 1} died by itself (code ${code}, signal ${signal}); its output:\n${crashExcerpt(d.tail)}`);
      pending.push(sleep(500).then(() => (stopping ? undefined : startDaemon(`restart after daemon #${index + 1} died`))));
    });
    return d;
  };

  const signalDaemon = (d: DaemonInstance, sig: NodeJS.Signals) => {
    if (d.exitedYet || d.child.pid === undefined) return;
    try {
      d.child.kill(sig);
    } catch {
      // already gone
    }
  };

  // ---- actions ----
  const tamper = async (what: string, pick: number) => {
    const last = checker.last;
    const candidates = (last?.verdicts ?? []).filter((v) => v.restorable);
    if (candidates.length === 0) return note(`tamper ${what}: nothing restorable to tamper with yet`);
    const victim = candidates[pick % candidates.length]!;
    let path: string | undefined;
    if (what === "delete-metadata" || what === "truncate-metadata") path = victim.touches[0];
    else {
      const files = victim.touches.slice(1).filter((p) => (what === "delete-exclusive" ? p.startsWith(`${victim.dir}/`) : !p.startsWith(`${victim.dir}/`)));
      path = files.length > 0 ? files[pick % files.length] : undefined;
    }
    if (path === undefined) return note(`tamper ${what}: ${victim.dir} has no such file`);
    checker.recordTamper(what, path);
    if (what.startsWith("delete")) {
      const ok = await tamperProbe.delete(path);
      note(`tamper ${what}: deleted ${path} (${ok ? "done" : "was already gone"})`);
    } else {
      const st = await tamperProbe.stat(path);
      if (st === null) return note(`tamper ${what}: ${path} already gone`);
      const keep = Math.floor(st.length / 2);
      const bytes = (await tamperProbe.read(path))?.subarray(0, keep) ?? Buffer.alloc(keep);
      await tamperProbe.overwrite(path, Buffer.from(bytes));
      note(`tamper ${what}: truncated ${path} from ${st.length} to ${keep} bytes`);
    }
    if (victim.checkpointId !== null) {
      obligations.push({
        job: victim.jobId,
        minId: what === "delete-metadata" ? victim.checkpointId : 0,
        run: jobs.find((j) => j.shape.jobId === victim.jobId)?.run ?? 1,
        createdAt: Date.now(),
        what: `after tamper ${what} of ${path} at t=${Date.now() - startedAt} ms, job ${victim.jobId} must have a restorable checkpoint${what === "delete-metadata" ? ` with id >= ${victim.checkpointId} (republished without a restart)` : ""}`,
      });
    }
  };

  const perform = async (a: ChaosAction): Promise<void> => {
    switch (a.kind) {
      case "failover":
        await admin(adminUrl, "POST", `/clusters/${a.cluster}/failover`);
        return;
      case "unreachable":
        outageUntil.set(`unreachable:${a.cluster}`, Date.now() + a.durationMs);
        await admin(adminUrl, "POST", `/clusters/${a.cluster}/unreachable`, { mode: a.mode, durationMs: a.durationMs });
        return;
      case "safemode":
      case "startup": {
        const route = a.kind === "safemode" ? "safemode" : "startup";
        outageUntil.set(`${route}:${a.cluster}`, Number.POSITIVE_INFINITY);
        await admin(adminUrl, "PUT", `/clusters/${a.cluster}/${route}`, { on: true });
        pending.push(
          sleep(a.durationMs).then(() =>
            admin(adminUrl, "PUT", `/clusters/${a.cluster}/${route}`, { on: false }).then(() => {
              outageUntil.delete(`${route}:${a.cluster}`);
              note(`${route} ${a.cluster} off`);
            }),
          ),
        );
        return;
      }
      case "fault":
        await admin(adminUrl, "POST", "/faults", a.rule);
        return;
      case "kill9": {
        const d = current();
        if (!d) return note("kill9: no daemon running");
        d.expectExit = true;
        signalDaemon(d, "SIGKILL");
        await d.exited;
        await sleep(a.restartAfterMs);
        if (!stopping) await startDaemon(`restart ${a.restartAfterMs} ms after kill -9 of #${d.index + 1}`);
        return;
      }
      case "pause": {
        const d = current();
        if (!d) return note("pause: no daemon running");
        d.paused = true;
        signalDaemon(d, "SIGSTOP");
        await sleep(a.durationMs);
        signalDaemon(d, "SIGCONT");
        d.paused = false;
        note(`SIGCONT daemon #${d.index + 1}`);
        return;
      }
      case "takeover": {
        const d = current();
        if (!d) return note("takeover: no daemon running");
        d.paused = true;
        d.expectExit = true; // once it resumes it must notice the new holder and stop (or at least stop writing)
        signalDaemon(d, "SIGSTOP");
        await sleep(a.pauseMs);
        await startDaemon(`takeover while daemon #${d.index + 1} is stopped`);
        await sleep(Math.min(4000, world.leaseTtlMs));
        signalDaemon(d, "SIGCONT");
        d.paused = false;
        note(`SIGCONT stale daemon #${d.index + 1}`);
        // Give it its chance to misbehave, then make sure it is gone.
        await sleep(world.leaseTtlMs + 2000);
        if (!d.exitedYet) {
          note(`stale daemon #${d.index + 1} still running ${world.leaseTtlMs + 2000} ms after SIGCONT: SIGKILL`);
          signalDaemon(d, "SIGKILL");
        }
        return;
      }
      case "tamper":
        await tamper(a.what, a.pick);
        return;
      case "clear-faults":
        await admin(adminUrl, "DELETE", "/faults");
        return;
      case "stop-jobs":
        for (const j of jobs) await j.stop();
        return;
      case "restart-job": {
        const job = jobs[a.job];
        if (!job) return;
        await job.stop();
        // Flink cancels the job and deletes its checkpoints; the new run starts at chk-1 under the same job id.
        const jobDir = `${SOURCE_ROOT}/${job.shape.jobId}`;
        for (const e of (await sourceProbe.list(jobDir)) ?? []) if (/^chk-\d+$/.test(e.name)) await sourceProbe.delete(`${jobDir}/${e.name}`, true);
        await job.restart(a.seed);
        note(`job ${a.job} restarted with the same id; checkpoint ids start at 1 again (run ${job.run})`);
        return;
      }
    }
  };

  let result: ChaosResult | undefined;
  try {
    note(describeWorld(world));
    for (const shape of world.jobs) jobs.push(new JobRunner(shape, makeSim));
    for (const j of jobs) j.start();
    await startDaemon("initial");

    // Sampler: the checker reads the target the whole time, and compares the daemon's metrics.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          checker.tick(impaired());
          await checker.sample();
          const now = Date.now();
          for (let i = obligations.length - 1; i >= 0; i--) {
            const o = obligations[i]!;
            const ok = (checker.last?.verdicts ?? []).some((v) => v.restorable && v.jobId === o.job && v.run === o.run && (v.checkpointId ?? 0) >= o.minId);
            if (ok) obligations.splice(i, 1);
            else if (checker.serviceSince(o.createdAt, now) > world.repairWindowMs) {
              obligations.splice(i, 1);
              // A job whose source has nothing newer may legitimately have nothing: only when the source retains >= 1.
              const job = jobs.find((j) => j.shape.jobId === o.job);
              if ((job?.sim.retained().length ?? 0) > 0 && job?.run === o.run) {
                checker.violate("closure", `${o.what}; it had none within ${world.repairWindowMs} ms of service (a daemon serving, both clusters up; ${now - o.createdAt} ms wall clock)`);
              }
            }
          }
          const d = current();
          if (world.checkMetrics && d && !d.paused) {
            const m = await httpGetText(d.metricsUrl);
            if (m && m.status === 200) checker.checkMetrics(m.text);
          }
        } catch (err) {
          checker.failedSamples++;
          void err;
        }
        await sleep(250);
      }
    })();

    // The schedule.
    for (const { at, action } of world.schedule) {
      const wait = startedAt + at - Date.now();
      if (wait > 0) await sleep(wait);
      note(describeAction(action));
      const p = perform(action).catch((err: unknown) => note(`${action.kind} failed: ${err instanceof Error ? err.message : String(err)}`));
      if (action.kind === "kill9" || action.kind === "pause" || action.kind === "takeover" || action.kind === "restart-job") pending.push(p);
      else await p;
    }
    const rest = startedAt + world.durationMs - Date.now();
    if (rest > 0) await sleep(rest);

    // Calm: no more faults; Flink stops; the daemon must converge.
    note("chaos over: faults cleared, clusters reachable, Flink jobs stop; waiting for convergence");
    await Promise.allSettled(pending.splice(0));
    await admin(adminUrl, "DELETE", "/faults");
    for (const c of ["hdfs1", "hdfs2"]) {
      await admin(adminUrl, "POST", `/clusters/${c}/reachable`);
      await admin(adminUrl, "PUT", `/clusters/${c}/safemode`, { on: false });
      await admin(adminUrl, "PUT", `/clusters/${c}/startup`, { on: false });
    }
    for (const d of daemons) if (d.paused) signalDaemon(d, "SIGCONT");
    for (const j of jobs) await j.stop();
    await Promise.allSettled(pending.splice(0));
    if (!current()) await startDaemon("none running when the chaos ended");
    const convergeDeadline = Date.now() + world.convergeMs;
    const newestOf = (j: JobRunner) => j.sim.retained().at(-1);
    const converged = () =>
      jobs.every((j) => {
        const newest = newestOf(j);
        if (!newest) return true;
        return (checker.last?.verdicts ?? []).some((v) => v.restorable && v.jobId === j.shape.jobId && v.run === j.run && v.checkpointId === newest.id);
      });
    const convergedAt = await (async () => {
      while (Date.now() < convergeDeadline) {
        await sleep(300);
        if (checker.samples > 0 && converged()) return Date.now();
      }
      return null;
    })();
    if (convergedAt === null) {
      for (const j of jobs) {
        const newest = newestOf(j);
        if (!newest) continue;
        const have = (checker.last?.verdicts ?? []).filter((v) => v.jobId === j.shape.jobId).map((v) => `${v.dir.split("/").pop()}${v.restorable ? "" : " (broken)"}`);
        checker.violate("converge", `job ${j.shape.jobId} (run ${j.run}): newest source checkpoint chk-${newest.id} not published restorable within ${world.convergeMs} ms after the chaos ended; target has [${have.join(", ")}]`);
      }
    } else note(`converged ${convergedAt - (convergeDeadline - world.convergeMs)} ms after the chaos ended`);
    sampling = false;
    await sampler;
    const published = new Set((checker.last?.verdicts ?? []).filter((v) => v.restorable).map((v) => v.dir)).size;
    result = {
      world,
      violations: checker.violations,
      timeline,
      samples: checker.samples,
      failedSamples: checker.failedSamples,
      checkpointsTaken: jobs.reduce((n, j) => n + j.taken, 0),
      published,
      daemonsStarted: daemons.length,
      elapsedMs: Date.now() - startedAt,
      daemonTail: daemons.map((d) => `daemon #${d.index + 1} (${d.user}):\n${lastLines(d.tail, 8) || "(no warnings or errors)"}`).join("\n"),
    };
    void rnd;
  } finally {
    stopping = true;
    unobserve();
    for (const d of daemons) {
      if (d.exitedYet) continue;
      d.expectExit = true;
      signalDaemon(d, "SIGCONT");
      signalDaemon(d, "SIGKILL");
    }
    await Promise.all(daemons.map((d) => Promise.race([d.exited, sleep(5000)])));
    for (const j of jobs) await j.stop().catch(() => undefined);
    await Promise.allSettled(pending);
    for (const s of storages) s.close();
    await sandbox.stop().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true }).catch(() => undefined);
  }
  return result;
}

/** From the first line that is not a pino JSON line (a crash's message and stack), else the last warnings. */
function crashExcerpt(lines: string[]): string {
  const first = lines.findIndex((l) => l !== "" && !l.startsWith("{"));
  if (first < 0) return lastLines(lines, 8);
  return lastLines([...lines.slice(Math.max(0, first - 2), first), ...lines.slice(first, first + 14)], 16);
}

function lastLines(lines: string[], n: number): string {
  return lines
    .filter((l) => l !== "")
    .slice(-n)
    .map((l) => (l.length > 600 ? `${l.slice(0, 600)}...` : l))
    .join("\n");
}

export function formatResult(r: ChaosResult): string {
  const head = `${describeWorld(r.world)}\n${r.samples} samples (${r.failedSamples} failed: target unreachable), ${r.checkpointsTaken} checkpoints taken, ${r.published} restorable on the target at the end, ${r.daemonsStarted} daemon start(s), ${Math.round(r.elapsedMs / 1000)} s`;
  const violations = r.violations.map((v) => `  t=${v.t} ms [${v.invariant}] ${v.message}`).join("\n");
  const timeline = r.timeline.map((e) => `  t=${e.t} ms ${e.what}`).join("\n");
  return `${head}\nVIOLATIONS (${r.violations.length}):\n${violations || "  none"}\nTIMELINE:\n${timeline}\nLAST WARNINGS/ERRORS PER DAEMON:\n${r.daemonTail}`;
}
