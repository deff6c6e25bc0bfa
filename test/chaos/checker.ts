// The chaos harness's independent invariant checker. It reads the target
// through its own minimal WebHDFS calls (probe.ts) and judges every `_metadata`
// it finds against ground truth the simulator recorded when it planned the
// checkpoint (the SHA-256 of the `_metadata` bytes and every file with its
// length). It never calls the product's client, storage, parser or verify.
//
// Invariants, checked at every sample:
//   closure      every target `_metadata` is a checkpoint the simulator wrote, and every file it
//                references is present with at least the length it needs. A checkpoint broken by our own
//                tampering must be repaired or unpublished within the repair window (counted on the
//                service clock: time with a daemon serving and no cluster down on purpose).
//   newest       a job that had >= 1 restorable checkpoint on the target never has 0 while the source
//                still has checkpoints (unless all of those were tampered with by us).
//   retain       a restorable checkpoint that the source still retains is not deleted from the target while
//                fewer than retain.min newer checkpoints are restorable there.
//   source       nothing but the Flink simulator ever writes to the source cluster (emulator request log).
//   writer       at most one writer: once a newer daemon instance has written to the target, no older
//                instance sends a write that a reader could see again (emulator request log, daemons tagged
//                by user.name; writes that touch only a hidden temporary are the documented window, and
//                so is an instance renewing its own epoch file of the lease, which no reader looks at
//                and which a newer epoch outranks: its writes of anything else, or of another epoch, count).
//   republish    a daemon instance never publishes the same `_metadata` twice while its first copy is still
//                there (a sign that it does not see its own publications: stale listings, issue #7 bug 1).
//   metrics      the daemon's ckpt_restorable_checkpoints never claims more checkpoints than the checker
//                finds restorable for longer than the repair window.

import { createHash } from "node:crypto";
import type { ObservedRequest } from "../../src/sandbox/emulator/index.js";
import type { Probe, ProbeStatus } from "./probe.js";

const TEMP_NAME = /\/\.[^/]*\.ckpt-tmp\.[0-9a-f]+$/;
/** A lease epoch file (its name, as the product writes it: epoch-<n>.json in the lease directory). */
const LEASE_EPOCH = /\/\.ckpt-replicator\/lease\/epoch-(\d+)\.json$/;

export interface TruthFile {
  /** Path on the source cluster. */
  path: string;
  size: number;
}

export interface TruthCheckpoint {
  jobId: string;
  checkpointId: number;
  /** Which simulator run of the job wrote it (a job restarted under the same id starts a new run). */
  run: number;
  metadataPath: string;
  files: TruthFile[];
}

export interface Violation {
  /** Milliseconds since the harness started. */
  t: number;
  invariant: "closure" | "newest" | "retain" | "source" | "writer" | "republish" | "metrics" | "daemon" | "converge";
  message: string;
}

export interface TamperRecord {
  t: number;
  /** Absolute time. */
  at: number;
  kind: string;
  path: string;
}

/** Ground truth the simulators reported, keyed by the SHA-256 of the `_metadata` bytes as Flink wrote them. */
export class GroundTruth {
  readonly byHash = new Map<string, TruthCheckpoint>();
  add(hash: string, c: TruthCheckpoint): void {
    this.byHash.set(hash, c);
  }
}

export interface CheckerOptions {
  probe: Probe;
  sourceRoot: string;
  targetRoot: string;
  /** Flink paths of the source cluster and what the replicator rewrites them to, e.g. hdfs://hdfs1 -> hdfs://hdfs2. */
  sourceUri: string;
  targetUri: string;
  truth: GroundTruth;
  /** Checkpoints each job's source currently retains (from the simulators). */
  sourceRetained: (jobId: string) => number;
  /** Whether the source still retains this checkpoint of this run. */
  sourceRetains: (jobId: string, run: number, checkpointId: number) => boolean;
  /** The daemon's retain.min. */
  retainMin: number;
  /** How long the daemon may take to repair or unpublish a checkpoint we tampered with. */
  repairWindowMs: number;
  /** Users whose writes to the source are Flink's own. */
  sourceWriters: Set<string>;
  /** Users that are daemon instances, in start order (index = instance number). */
  daemonUsers: () => string[];
  /** Users of the harness itself (tampering, checker). */
  harnessUsers: Set<string>;
  startedAt: number;
}

export interface CheckpointVerdict {
  jobId: string;
  dir: string;
  checkpointId: number | null;
  /** The simulator run that wrote it (null when unknown). */
  run: number | null;
  restorable: boolean;
  problems: string[];
  /** Paths of the closure (target side) plus the `_metadata`. */
  touches: string[];
}

export interface SampleResult {
  t: number;
  verdicts: CheckpointVerdict[];
  restorableByJob: Map<string, number>;
}

const WRITE_METHODS = new Set(["PUT", "POST", "DELETE"]);

export class Checker {
  readonly violations: Violation[] = [];
  readonly tampers: TamperRecord[] = [];
  samples = 0;
  failedSamples = 0;
  private readonly hashCache = new Map<string, string | null>();
  private prevRestorable = new Map<string, { count: number; units: { run: number | null; id: number | null; touches: string[] }[] }>();
  private prevRestorableVerdicts: CheckpointVerdict[] = [];
  /** When a verdict was first seen broken (key: metadata path + fileId). */
  private readonly brokenSince = new Map<string, number>();
  private readonly reported = new Set<string>();
  private readonly firstWrite = new Map<string, number>();
  /** Lease epoch -> the instance that first wrote its file (the one holding that epoch). */
  private readonly epochOwners = new Map<number, string>();
  private readonly metricsOverSince = new Map<string, number>();
  private readonly pendingWrites: ObservedRequest[] = [];
  /** Target `_metadata` paths published (renamed into place) and not deleted since, with the instance that did it. */
  private readonly publishedBy = new Map<string, string>();
  last: SampleResult | null = null;

  constructor(private readonly o: CheckerOptions) {}

  private now(): number {
    return Date.now() - this.o.startedAt;
  }

  violate(invariant: Violation["invariant"], message: string, key = `${invariant}:${message}`): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.violations.push({ t: this.now(), invariant, message });
  }

  // ---- the service clock: repair windows count only time in which the daemon could act ----

  private impairedTotal = 0;
  private lastTick = Date.now();
  private readonly impairedMarks: { at: number; total: number }[] = [{ at: Date.now(), total: 0 }];

  /**
   * Called by the harness at every sample: `impaired` says whether, since the previous tick, no daemon was
   * serving (killed, not restarted yet, failing to start, paused) or the schedule had a cluster down on
   * purpose (unreachable, safe mode, starting up). A repair window is a promise about the daemon's time,
   * not about time in which it was not given a chance.
   */
  tick(impaired: boolean): void {
    const now = Date.now();
    if (impaired) this.impairedTotal += now - this.lastTick;
    this.lastTick = now;
    this.impairedMarks.push({ at: now, total: this.impairedTotal });
  }

  /** Milliseconds since `from` (wall clock) that were not impaired. */
  serviceSince(from: number, now = Date.now()): number {
    let lo = 0;
    let hi = this.impairedMarks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.impairedMarks[mid]!.at <= from) lo = mid;
      else hi = mid - 1;
    }
    const before = this.impairedMarks[lo]!.at <= from ? this.impairedMarks[lo]!.total : 0;
    return now - from - (this.impairedTotal - before);
  }

  recordTamper(kind: string, path: string): void {
    this.tampers.push({ t: this.now(), at: Date.now(), kind, path });
    // A daemon that repairs a tampered checkpoint may rightly publish its _metadata again: forget the job's publications.
    const job = path.slice(this.o.targetRoot.length + 1).split("/")[0];
    if (job) for (const p of [...this.publishedBy.keys()]) if (p.startsWith(`${this.o.targetRoot}/${job}/`)) this.publishedBy.delete(p);
  }

  /** The newest tampering of any of these paths before `before`, if any. */
  private tamperedAt(paths: string[], before = Date.now()): number | null {
    let newest: number | null = null;
    const set = new Set(paths);
    for (const t of this.tampers) if (set.has(t.path) && t.at <= before && (newest === null || t.at > newest)) newest = t.at;
    return newest;
  }

  // ---- request log (source untouched, single writer) ----


  /** Feed every emulator request here (sandbox.faults.observe). */
  onRequest(r: ObservedRequest): void {
    if (!WRITE_METHODS.has(r.method)) return;
    const user = r.doAs ?? r.userName ?? "(none)";
    const effective = (r.completed && r.status < 400) || (r.role === "datanode" && (r.op === "CREATE" || r.op === "APPEND") && !r.completed);
    if (r.cluster === "hdfs1") {
      if (!this.o.sourceWriters.has(user)) {
        this.violate("source", `${user} sent ${r.method} ${r.op} ${r.path} to the source (${r.role}, HTTP ${r.completed ? r.status : "cut"}, at t=${r.endedAt - this.o.startedAt} ms)`, `source:${user}:${r.op}:${r.path}`);
      }
      return;
    }
    if (r.completed && r.status < 400) this.trackPublications(r, user);
    if (this.o.harnessUsers.has(user) || !effective) return;
    // MKDIRS is idempotent (a daemon refused at start still creates .ckpt-replicator/): not a write that competes.
    if (r.op === "MKDIRS") return;
    // A write that touches only a hidden temporary changes nothing a reader sees (the documented window: a
    // process paused between its lease check and its request reaching the server). What becomes visible is a
    // RENAME to a final name, a DELETE or a write of a final name: those still count.
    if (TEMP_NAME.test(r.path) && (r.destination === null || TEMP_NAME.test(r.destination))) return;
    // The lease: whoever first writes epoch n holds it; that instance renewing its own epoch file later (even
    // after a newer epoch took over: the renewal raced the takeover) changes nothing a reader or a newer holder
    // relies on. A delete, or a write of any other epoch's file, still counts.
    const epochFile = r.op === "DELETE" ? null : LEASE_EPOCH.exec(r.destination ?? r.path);
    if (epochFile) {
      const epoch = Number(epochFile[1]);
      const owner = this.epochOwners.get(epoch);
      if (owner === undefined) this.epochOwners.set(epoch, user);
      else if (owner === user) return;
    }
    this.pendingWrites.push(r);
  }

  private trackPublications(r: ObservedRequest, user: string): void {
    // Anything that deletes or replaces a published _metadata (the reaper, our tampering) ends that publication.
    if (r.op === "DELETE" || (r.op === "CREATE" && this.o.harnessUsers.has(user))) {
      for (const path of [...this.publishedBy.keys()]) if (path === r.path || path.startsWith(`${r.path}/`)) this.publishedBy.delete(path);
      return;
    }
    if (r.op !== "RENAME" || r.destination === null || !r.destination.endsWith("/_metadata") || this.o.harnessUsers.has(user)) return;
    const before = this.publishedBy.get(r.destination);
    if (before === user) {
      this.violate("republish", `${user} published ${r.destination} again (t=${r.endedAt - this.o.startedAt} ms) although its earlier publication is still in place: it does not see its own published checkpoint`, `republish:${user}:${r.destination}`);
    }
    this.publishedBy.set(r.destination, user);
  }

  /** Evaluates the writes seen so far: a write by an instance after a newer instance first wrote is a violation. */
  private checkWriters(): void {
    const writes = this.pendingWrites.splice(0).sort((a, b) => a.endedAt - b.endedAt);
    const order = this.o.daemonUsers();
    for (const w of writes) {
      const user = w.doAs ?? w.userName ?? "(none)";
      if (!this.firstWrite.has(user)) this.firstWrite.set(user, w.startedAt);
    }
    for (const w of writes) {
      const user = w.doAs ?? w.userName ?? "(none)";
      const mine = order.indexOf(user);
      for (const [other, first] of this.firstWrite) {
        if (other === user) continue;
        const theirs = order.indexOf(other);
        // A request the stale instance sent before the takeover may still end after it (an upload resumed by
        // SIGCONT lands in its temporary): fencing cannot stop bytes already in flight. Any request it *sends*
        // after the newer instance has written is a violation.
        if (theirs > mine && first < w.startedAt) {
          this.violate(
            "writer",
            `${user} (daemon #${mine + 1}) wrote ${w.op} ${w.path} (HTTP ${w.completed ? w.status : "cut"}, t=${w.startedAt - this.o.startedAt}..${w.endedAt - this.o.startedAt} ms) after ${other} (daemon #${theirs + 1}) had taken over and written at t=${first - this.o.startedAt} ms`,
            `writer:${user}:${other}`,
          );
        }
      }
    }
  }

  // ---- the target ----

  private async identify(path: string, st: ProbeStatus): Promise<string | null> {
    const key = `${path}|${st.fileId}|${st.length}|${st.modificationTime}`;
    if (this.hashCache.has(key)) return this.hashCache.get(key) ?? null;
    const bytes = await this.o.probe.read(path);
    if (bytes === null) return null;
    // The replicator rewrites absolute paths hdfs://hdfs1/... -> hdfs://hdfs2/...; undo it to compare with what Flink wrote.
    const from = Buffer.from(`${this.o.targetUri}${this.o.targetRoot}`);
    const to = Buffer.from(`${this.o.sourceUri}${this.o.sourceRoot}`);
    const hash = createHash("sha256").update(replaceAll(bytes, from, to)).digest("hex");
    this.hashCache.set(key, hash);
    return hash;
  }

  private toTarget(sourcePath: string): string {
    if (!sourcePath.startsWith(`${this.o.sourceRoot}/`)) return sourcePath;
    return this.o.targetRoot + sourcePath.slice(this.o.sourceRoot.length);
  }

  /** One pass over the target: a verdict for every `_metadata`, then every invariant. Throws when the target cannot be read. */
  async sample(): Promise<SampleResult> {
    const probe = this.o.probe;
    const t = this.now();
    const listings = new Map<string, Promise<ProbeStatus[] | null>>();
    const listDir = (dir: string) => {
      let p = listings.get(dir);
      if (!p) {
        p = probe.list(dir);
        listings.set(dir, p);
      }
      return p;
    };
    const verdicts: CheckpointVerdict[] = [];
    const jobs = ((await probe.list(this.o.targetRoot)) ?? []).filter((e) => e.type === "DIRECTORY" && /^[0-9a-f]{32}$/.test(e.name));
    for (const job of jobs) {
      const jobDir = `${this.o.targetRoot}/${job.name}`;
      const entries = (await listDir(jobDir)) ?? [];
      for (const chk of entries.filter((e) => e.type === "DIRECTORY" && /^chk-\d+$/.test(e.name))) {
        const dir = `${jobDir}/${chk.name}`;
        const inDir = await listDir(dir);
        const meta = inDir?.find((e) => e.name === "_metadata" && e.type === "FILE");
        if (!meta) continue;
        const metadataPath = `${dir}/_metadata`;
        const verdict = await this.judge(job.name, dir, metadataPath, meta, listDir);
        if (verdict) verdicts.push(verdict);
      }
    }
    this.samples++;
    const result: SampleResult = { t, verdicts, restorableByJob: new Map() };
    for (const v of verdicts) if (v.restorable) result.restorableByJob.set(v.jobId, (result.restorableByJob.get(v.jobId) ?? 0) + 1);
    this.evaluate(result);
    this.checkWriters();
    this.last = result;
    return result;
  }

  private async judge(
    jobId: string,
    dir: string,
    metadataPath: string,
    meta: ProbeStatus,
    listDir: (d: string) => Promise<ProbeStatus[] | null>,
  ): Promise<CheckpointVerdict | null> {
    const probe = this.o.probe;
    const problems: string[] = [];
    const touches = [metadataPath];
    let checkpointId: number | null = null;
    let run: number | null = null;
    const hash = meta.length === 0 ? null : await this.identify(metadataPath, meta);
    const truth = hash === null ? undefined : this.o.truth.byHash.get(hash);
    if (truth === undefined) {
      problems.push(meta.length === 0 ? "_metadata is empty" : `_metadata (${meta.length} bytes) is no checkpoint the simulator wrote (sha256 ${hash ?? "unreadable"})`);
    } else {
      checkpointId = truth.checkpointId;
      run = truth.run;
      if (truth.jobId !== jobId) problems.push(`_metadata belongs to job ${truth.jobId}`);
      for (const f of truth.files) {
        const path = this.toTarget(f.path);
        touches.push(path);
        const parent = path.slice(0, path.lastIndexOf("/"));
        const name = path.slice(path.lastIndexOf("/") + 1);
        const found = (await listDir(parent))?.find((e) => e.name === name);
        if (!found) problems.push(`missing ${path} (needs ${f.size} bytes)`);
        else if (found.type !== "FILE") problems.push(`${path} is a ${found.type}`);
        else if (found.length < f.size) problems.push(`${path} has ${found.length} of ${f.size} bytes`);
      }
    }
    if (problems.length > 0) {
      // The listing of a file may predate a concurrent unpublish (the reaper deletes the _metadata first):
      // a broken verdict counts only when the same _metadata is still there now.
      const again = await probe.stat(metadataPath).catch(() => null);
      if (again === null || again.fileId !== meta.fileId || again.length !== meta.length) return null;
    }
    return { jobId, dir, checkpointId, run, restorable: problems.length === 0, problems, touches };
  }

  private evaluate(s: SampleResult): void {
    const now = Date.now();
    const seenBroken = new Set<string>();
    for (const v of s.verdicts) {
      if (v.restorable) continue;
      const key = `${v.dir}`;
      seenBroken.add(key);
      const since = this.brokenSince.get(key) ?? now;
      this.brokenSince.set(key, since);
      const tampered = this.tamperedAt(v.touches);
      if (tampered === null) {
        this.violate("closure", `${v.dir} is visible but not restorable and we did not touch it: ${v.problems.slice(0, 4).join("; ")}`, `closure:${v.dir}:${v.problems[0]}`);
      } else if (this.serviceSince(tampered, now) > this.o.repairWindowMs) {
        this.violate(
          "closure",
          `${v.dir} was broken by tampering at t=${tampered - this.o.startedAt} ms and is still visible and broken ${now - tampered} ms later, ${this.serviceSince(tampered, now)} ms of them with a daemon serving and both clusters up (repair window ${this.o.repairWindowMs} ms): ${v.problems.slice(0, 4).join("; ")}`,
          `closure-window:${v.dir}:${tampered}`,
        );
      }
    }
    for (const k of this.brokenSince.keys()) if (!seenBroken.has(k)) this.brokenSince.delete(k);

    // newest restorable never disappears
    const restorableNow = new Map<string, { count: number; units: { run: number | null; id: number | null; touches: string[] }[] }>();
    for (const v of s.verdicts) {
      if (!v.restorable) continue;
      const e = restorableNow.get(v.jobId) ?? { count: 0, units: [] };
      e.count++;
      e.units.push({ run: v.run, id: v.checkpointId ?? null, touches: v.touches });
      restorableNow.set(v.jobId, e);
    }
    for (const [job, prev] of this.prevRestorable) {
      if (prev.count === 0 || (restorableNow.get(job)?.count ?? 0) > 0) continue;
      if (this.o.sourceRetained(job) === 0) continue;
      // Excused when every one of them the source still retains was broken by our tampering (those the source
      // dropped may rightly be reaped meanwhile); with none still retained, when all of them were.
      const retained = prev.units.filter((u) => u.id !== null && u.run !== null && this.o.sourceRetains(job, u.run, u.id));
      const judged = retained.length > 0 ? retained : prev.units;
      const allTampered = judged.every((u) => this.tamperedAt(u.touches) !== null);
      if (allTampered) continue;
      this.violate("newest", `job ${job}: the target went from ${prev.count} restorable checkpoint(s) to none while the source retains ${this.o.sourceRetained(job)}`, `newest:${job}:${s.t}`);
    }
    // retain.min: a restorable checkpoint the source still has vanished while fewer than retain.min newer ones are restorable.
    const visible = new Set(s.verdicts.map((v) => v.dir));
    for (const p of this.prevRestorableVerdicts) {
      if (visible.has(p.dir) || p.checkpointId === null || p.run === null) continue;
      if (this.tamperedAt(p.touches) !== null) continue;
      if (!this.o.sourceRetains(p.jobId, p.run, p.checkpointId)) continue;
      const newer = s.verdicts.filter((v) => v.restorable && v.jobId === p.jobId && v.run !== null && v.checkpointId !== null && (v.run > p.run! || (v.run === p.run && v.checkpointId > p.checkpointId!)));
      if (newer.length < this.o.retainMin) {
        this.violate(
          "retain",
          `${p.dir} (restorable, still retained by Flink on the source) was deleted from the target while only ${newer.length} newer checkpoint(s) are restorable there (retain.min ${this.o.retainMin})`,
          `retain:${p.dir}`,
        );
      }
    }
    this.prevRestorableVerdicts = s.verdicts.filter((v) => v.restorable);

    // Keep the last non-empty view per job so a gap of unreadable samples does not hide a loss.
    for (const [job, e] of restorableNow) this.prevRestorable.set(job, e);
    for (const job of this.prevRestorable.keys()) if (!restorableNow.has(job)) this.prevRestorable.set(job, { count: 0, units: [] });
  }

  /** Compares the daemon's ckpt_restorable_checkpoints with what the last sample found. */
  checkMetrics(metricsText: string): void {
    if (this.last === null) return;
    const now = Date.now();
    const claimed = new Map<string, number>();
    for (const m of metricsText.matchAll(/^ckpt_restorable_checkpoints\{[^}]*flink_job="([0-9a-f]{32})"[^}]*\} ([0-9.e+-]+)$/gm)) {
      claimed.set(m[1]!, Number(m[2]));
    }
    for (const [job, n] of claimed) {
      const real = this.last.restorableByJob.get(job) ?? 0;
      if (n > real) {
        const since = this.metricsOverSince.get(job) ?? now;
        this.metricsOverSince.set(job, since);
        if (now - since > this.o.repairWindowMs) {
          this.violate("metrics", `job ${job}: ckpt_restorable_checkpoints says ${n} but only ${real} checkpoint(s) on the target are restorable, for ${now - since} ms`, `metrics:${job}:${since}`);
        }
      } else this.metricsOverSince.delete(job);
    }
  }
}

function replaceAll(haystack: Buffer, from: Buffer, to: Buffer): Buffer {
  if (from.length !== to.length) throw new Error("same-length rewrite expected (keep source and target roots and authorities the same length)");
  const out = Buffer.from(haystack);
  let i = out.indexOf(from);
  while (i >= 0) {
    to.copy(out, i);
    i = out.indexOf(from, i + from.length);
  }
  return out;
}
