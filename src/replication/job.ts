// One job's replication: from the latest scans, pick the newest complete source
// checkpoint not yet on the target (skipping intermediate ones), copy what its
// closure lacks, publish its _metadata only once every file is verified on the
// target, then reap. Savepoints are each published. One sync runs at a time per
// job; errors are contained here and reported in the job's status.

import type { Config } from "../config/load.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { baseName, joinPath, type ReadOnlyStorage, type Storage } from "../storage/types.js";
import type { MetadataCatalog } from "./catalog.js";
import { copyCheckpointFiles, type Copier } from "./copy.js";
import { isTempName, METADATA_FILE, type UnitKind } from "./layout.js";
import type { ClusterLocator } from "./locations.js";
import type { Lease } from "./lease.js";
import { confirmPresentByChecksum, planUnit, type UnitPlan } from "./plan.js";
import { publishCheckpoint } from "./publish.js";
import { executeReap, planReap, type PublishedUnit } from "./reap.js";
import { readRecord, recordFor, writeRecord, type ReplicationRecord } from "./records.js";
import { isBeingSubsumed } from "./subsumption.js";
import { newestFirst, type TreeJob, type TreeSnapshot, type TreeUnit } from "./scan.js";
import { newJobStatus, type EngineHooks, type JobStatus } from "./status.js";
import { CkptError } from "../util/errors.js";

export interface EngineDeps {
  config: Config;
  source: ReadOnlyStorage;
  target: Storage;
  sourceLocator: ClusterLocator;
  targetLocator: ClusterLocator;
  sourceCatalog: MetadataCatalog;
  targetCatalog: MetadataCatalog;
  copier: Copier;
  lease: Lease | null;
  logger: Logger;
  hooks: EngineHooks;
  /** Shared across jobs within one cycle. */
  deleteBudget: { remaining: number };
}

export interface JobView {
  sourceJob: TreeJob | undefined;
  sourceHealthy: boolean;
  targetJob: TreeJob | undefined;
  sourceSnapshot: TreeSnapshot;
  targetSnapshot: TreeSnapshot;
  targetRoot: string;
  /** Set when the target root could not be listed (unreachable): the job only updates its view of the source. */
  targetProblem?: string | undefined;
  /** Target paths other jobs' published checkpoints reference (never deleted by this job's reaper). */
  otherJobs?: { referenced: ReadonlySet<string>; known: boolean } | undefined;
}

export interface SyncOptions {
  dryRun?: boolean;
  /**
   * Full reconcile (resync): publish every complete source checkpoint the target would keep (the newest
   * retain.max), not only the newest one. The daemon leaves this off and skips intermediate checkpoints.
   */
  complete?: boolean;
  signal?: AbortSignal;
}

export interface SyncOutcome {
  /** Complete source checkpoints seen, and which of them are restorable on the target now. */
  sourceComplete: string[];
  publishedNow: string[];
  /** For --dry-run: what the first (newest) planned unit would copy. */
  wouldCopy: PlannedUnit | null;
  /**
   * For --dry-run: every unit the real run would publish, in the order it would, each with the files and
   * bytes it would copy (a file an earlier unit of the list copies is counted once, as the real run does).
   */
  planned: PlannedUnit[];
  upToDate: boolean;
}

export interface PlannedUnit {
  unit: string;
  kind: UnitKind;
  checkpointId: number;
  /** Files and bytes still to copy. */
  files: number;
  bytes: number;
  /** The whole closure: files and bytes the published unit consists of. */
  filesTotal: number;
  bytesTotal: number;
}

/** The reap would delete more than reap.maxDelete / --max-delete allows: it deleted nothing. */
export class ReapAbortedError extends CkptError {
  readonly kind = "reap-aborted";
}

class TargetUnavailableError extends CkptError {
  readonly kind = "target-unavailable";
}

interface Candidate {
  unit: TreeUnit;
  bytes: Buffer;
  references: import("../flink/index.js").FileReference[];
  completedAt: number;
}

export class JobReplicator {
  readonly status: JobStatus;
  private readonly reported = new Set<string>();
  private recordsChecked = false;
  private readonly checksumConfirmed = new Set<string>();
  private readonly log: Logger;

  constructor(
    readonly key: string,
    readonly sourceDir: string,
    readonly targetDir: string,
    private readonly deps: EngineDeps,
  ) {
    this.status = newJobStatus(key, sourceDir, targetDir);
    this.log = deps.logger.child({ job: key });
  }

  async sync(view: JobView, o: SyncOptions = {}): Promise<SyncOutcome> {
    const outcome: SyncOutcome = { sourceComplete: [], publishedNow: [], wouldCopy: null, planned: [], upToDate: false };
    try {
      this.status.phase = "planning";
      const candidates = await this.completeSourceUnits(view.sourceJob, o.signal);
      outcome.sourceComplete = candidates.map((c) => c.unit.name);
      const { published, unreadable } = await this.publishedOnTarget(view.targetJob, o.signal);
      if (!o.dryRun) await this.repairRecords(view, published, candidates);
      this.updateNewest(candidates, published);
      if (view.targetProblem !== undefined) throw new TargetUnavailableError(`target unavailable: ${view.targetProblem}`);

      const publishedNames = new Set(published.map((p) => p.unit.name));
      const newestPublished = Math.max(-1, ...published.filter((p) => p.unit.kind === "checkpoint").map((p) => p.unit.checkpointId));
      const kept = new Set(
        candidates.filter((c) => c.unit.kind === "checkpoint").slice(0, this.deps.config.retain.max).map((c) => c.unit.name),
      );
      const todo = candidates.filter((c) => {
        if (c.unit.kind !== "checkpoint" || o.complete) return !publishedNames.has(c.unit.name) && (c.unit.kind !== "checkpoint" || kept.has(c.unit.name));
        return c.unit.checkpointId > newestPublished;
      });
      let checkpointDone = false;
      const subsumedNow = new Set<string>(); // gone from the source while we worked: nothing left to publish
      // Target files an earlier unit of this sync copied (or, in a dry run, would copy), with their lengths:
      // the scan predates those copies, so without this a later unit would copy its shared files again.
      const onTargetNow = new Map<string, number>();
      for (const candidate of todo) {
        if (candidate.unit.kind === "checkpoint" && checkpointDone && !o.complete) continue; // older ones are skipped
        const result = await this.replicateUnit(candidate, view, o, onTargetNow);
        if (typeof result === "object") {
          // Dry run: the same selection as the real run, which goes on to the next unit after this one.
          outcome.wouldCopy ??= result;
          outcome.planned.push(result);
          if (candidate.unit.kind === "checkpoint") checkpointDone = true;
          continue;
        }
        if (result === "subsumed") subsumedNow.add(candidate.unit.name);
        if (result === "published") {
          outcome.publishedNow.push(candidate.unit.name);
          const refs = await this.targetReferences(candidate, view);
          published.push({ unit: { ...candidate.unit, dir: this.targetUnitDir(candidate.unit) }, references: refs });
          if (candidate.unit.kind === "checkpoint") checkpointDone = true;
        }
      }
      this.updateNewest(candidates, published);
      const missing = (c: Candidate) => !outcome.publishedNow.includes(c.unit.name) && !subsumedNow.has(c.unit.name);
      outcome.upToDate = o.complete
        ? !todo.some(missing)
        : !todo.some((c) => c.unit.kind === "savepoint" && missing(c)) &&
          (this.status.newestSourceCheckpoint === null || (this.status.newestPublishedCheckpoint ?? -1) >= this.status.newestSourceCheckpoint);

      if (!o.dryRun && view.targetJob && this.deps.config.reap.enabled) {
        this.status.phase = "reaping";
        await this.reap(view, published, unreadable);
      }
      const listingProblems = [...(view.sourceJob?.problems ?? []), ...(view.targetJob?.problems ?? [])];
      if (listingProblems.length > 0) {
        // What could be seen was replicated; what could not is reported and retried next cycle.
        this.status.lastError = `incomplete listing: ${listingProblems.slice(0, 3).join("; ")}`;
        this.status.lastErrorAt = Date.now();
        this.log.warn({ problems: listingProblems.slice(0, 10) }, "listing of the job incomplete; nothing is deleted for it this cycle");
      } else {
        this.status.lastError = null;
      }
    } catch (err) {
      if (o.signal?.aborted) {
        // Stopping (SIGTERM): the aborted copy is expected, not an error of the job.
        this.log.info({ checkpoint: this.status.current?.unit }, "job sync interrupted by the stop");
        return outcome;
      }
      this.status.totals.errors++;
      this.status.lastError = errorMessage(err);
      this.status.lastErrorAt = Date.now();
      this.log.error({ err: errorMessage(err) }, "job sync failed; retrying next cycle");
      this.deps.hooks.onJobError?.(this.key, err);
    } finally {
      this.status.phase = "idle";
      this.status.current = null;
    }
    return outcome;
  }

  private targetUnitDir(unit: TreeUnit): string {
    return joinPath(this.targetDir, unit.name);
  }

  /** Complete source units, newest first; corrupt ones reported once. */
  private async completeSourceUnits(job: TreeJob | undefined, signal?: AbortSignal): Promise<Candidate[]> {
    if (!job) return [];
    const out: Candidate[] = [];
    for (const unit of job.units) {
      if (!unit.metadata) continue;
      const view = await this.deps.sourceCatalog.view(unit.dir, unit.metadata, signal);
      if (view.state === "complete") {
        out.push({ unit, bytes: view.bytes, references: view.references, completedAt: view.entry.mtime });
      } else if (view.state === "corrupt" && this.reportOnce(`corrupt:${unit.dir}:${view.entry.mtime}`)) {
        this.status.totals.corruptMetadata++;
        this.log.error({ checkpoint: unit.name, reason: view.reason }, "corrupt _metadata on the source; this checkpoint is skipped");
        this.deps.hooks.onCorruptMetadata?.(this.key, joinPath(unit.dir, METADATA_FILE), view.reason);
      }
    }
    return out.sort((a, b) => newestFirst(a.unit, b.unit));
  }

  private async publishedOnTarget(job: TreeJob | undefined, signal?: AbortSignal) {
    const published: PublishedUnit[] = [];
    const unreadable: TreeUnit[] = [];
    for (const unit of job?.units ?? []) {
      if (!unit.metadata) continue;
      const view = await this.deps.targetCatalog.view(unit.dir, unit.metadata, signal);
      if (view.state === "complete") {
        published.push({ unit, references: this.mapTargetReferences(view.references) });
      } else {
        unreadable.push(unit);
      }
    }
    this.status.publishedOnTarget = published.length;
    return { published, unreadable };
  }

  private mapTargetReferences(refs: { location: string }[]): Set<string> {
    const out = new Set<string>();
    for (const r of refs) {
      const p = this.deps.targetLocator.pathOf(r.location);
      if (p !== null) out.add(p);
    }
    return out;
  }

  private async targetReferences(c: Candidate, view: JobView): Promise<Set<string>> {
    const unitDir = this.targetUnitDir(c.unit);
    const st = await this.deps.target.stat(joinPath(unitDir, METADATA_FILE));
    if (st === null) return new Set();
    const tv = await this.deps.targetCatalog.view(unitDir, st);
    void view;
    return tv.state === "complete" ? this.mapTargetReferences(tv.references) : new Set();
  }

  /** After a crash between publishing a _metadata and writing its record, write the record. */
  private async repairRecords(view: JobView, published: PublishedUnit[], candidates: Candidate[]): Promise<void> {
    if (this.recordsChecked) return;
    for (const p of published) {
      const existing = await readRecord(this.deps.target, view.targetRoot, this.key, p.unit.name);
      if (existing) continue;
      const src = candidates.find((c) => c.unit.name === p.unit.name);
      this.assertLease();
      await writeRecord(this.deps.target, view.targetRoot, this.record(p.unit, src?.completedAt ?? p.unit.metadata?.mtime ?? 0, p.references?.size ?? 0, 0, src?.bytes.length ?? 0));
      this.log.info({ checkpoint: p.unit.name }, "wrote the missing replication record of a published checkpoint");
    }
    this.recordsChecked = true;
  }

  private record(unit: TreeUnit, completedAt: number, files: number, bytes: number, metadataLength: number): ReplicationRecord {
    return recordFor({
      job: this.key,
      unit,
      sourceCluster: this.deps.source.name,
      sourceDir: joinPath(this.sourceDir, unit.name),
      targetCluster: this.deps.target.name,
      targetDir: this.targetUnitDir(unit),
      completedAt,
      metadataLength,
      files,
      bytes,
    });
  }

  private updateNewest(candidates: Candidate[], published: PublishedUnit[]): void {
    const checkpoints = candidates.filter((c) => c.unit.kind === "checkpoint");
    const newestSource = checkpoints[0];
    this.status.newestSourceCheckpoint = newestSource?.unit.checkpointId ?? null;
    this.status.newestSourceCompletedAt = newestSource?.completedAt ?? null;
    const newestPub = published.filter((p) => p.unit.kind === "checkpoint").sort((a, b) => newestFirst(a.unit, b.unit))[0];
    if (newestPub) {
      this.status.newestPublishedCheckpoint = newestPub.unit.checkpointId;
      const src = candidates.find((c) => c.unit.name === newestPub.unit.name);
      if (src) this.status.newestPublishedCompletedAt = src.completedAt;
    }
    const behind = checkpoints.filter((c) => c.unit.checkpointId > (this.status.newestPublishedCheckpoint ?? -1));
    const oldestBehind = behind[behind.length - 1];
    this.status.publishedOnTarget = published.length;
    this.status.behindSince = oldestBehind ? oldestBehind.completedAt : null;
    this.status.lagSeconds = lagSecondsOf(this.status);
  }

  private reportOnce(key: string): boolean {
    if (this.reported.has(key)) return false;
    this.reported.add(key);
    return true;
  }

  private assertLease(): void {
    this.deps.lease?.assertHeld();
  }

  private async plan(c: Candidate, view: JobView, signal?: AbortSignal): Promise<UnitPlan> {
    return planUnit(c.references, {
      source: this.deps.source,
      sourceLocator: this.deps.sourceLocator,
      roots: this.deps.config.paths,
      sourceSnapshot: view.sourceSnapshot,
      targetSnapshot: view.targetSnapshot,
      ...(signal ? { signal } : {}),
    });
  }

  private async replicateUnit(
    c: Candidate,
    view: JobView,
    o: SyncOptions,
    onTargetNow: Map<string, number> = new Map(),
  ): Promise<"published" | "skipped" | "subsumed" | PlannedUnit> {
    const unit = c.unit;
    const plan = await this.plan(c, view, o.signal);
    if (plan.unpublishable.length > 0) {
      if (this.reportOnce(`unpublishable:${unit.dir}`)) {
        this.status.totals.unpublishable++;
        this.log.error({ checkpoint: unit.name, reasons: plan.unpublishable.slice(0, 10) }, "checkpoint cannot be published: it references files outside the replicated roots");
        this.deps.hooks.onUnpublishable?.(this.key, unit.name, plan.unpublishable);
      }
      return "skipped";
    }
    if (plan.vanished.length > 0) {
      return this.abandon(unit, plan.vanished[0] as string);
    }
    for (const f of plan.files) {
      if (!f.present && f.sourceEntry !== null && onTargetNow.get(f.target) === f.sourceEntry.length) f.present = true;
    }
    if (this.deps.config.copy.checksum) {
      await confirmPresentByChecksum(plan.files, this.deps.source, this.deps.target, this.checksumConfirmed, o.signal);
    }
    const remember = () => {
      for (const f of plan.files) if (f.sourceEntry !== null) onTargetNow.set(f.target, f.sourceEntry.length);
    };
    if (o.dryRun) {
      remember();
      const missing = plan.files.filter((f) => !f.present);
      const length = (f: (typeof plan.files)[number]) => f.sourceEntry?.length ?? 0;
      return {
        unit: unit.name,
        kind: unit.kind,
        checkpointId: unit.checkpointId,
        files: missing.length,
        bytes: missing.reduce((n, f) => n + length(f), 0),
        filesTotal: plan.files.length,
        bytesTotal: plan.files.reduce((n, f) => n + length(f), 0),
      };
    }

    const toCopy = plan.files.filter((f) => !f.present);
    const bytesTotal = toCopy.reduce((n, f) => n + (f.sourceEntry?.length ?? 0), 0);
    this.status.phase = "copying";
    this.status.current = { unit: unit.name, filesTotal: toCopy.length, filesDone: 0, bytesTotal, bytesDone: 0 };
    this.status.totals.filesSkipped += plan.files.length - toCopy.length;
    const tasks = toCopy.map((f) => ({
      source: f.source,
      target: f.target,
      length: f.sourceEntry?.length ?? 0,
      ...(f.sourceEntry?.blockSize ? { blockSize: f.sourceEntry.blockSize } : {}),
      ...(this.deps.config.copy.preserve.permission && f.sourceEntry?.permission ? { permission: f.sourceEntry.permission } : {}),
      ...(this.deps.config.copy.preserve.replication && f.sourceEntry?.replication ? { replication: f.sourceEntry.replication } : {}),
      job: this.key,
      unit: unit.name,
    }));
    this.assertLease();
    const vanished = await copyCheckpointFiles(this.deps.copier, tasks, o.signal, (task) => this.countCopied(task.length));
    if (vanished !== null) {
      return this.abandon(unit, vanished.path);
    }

    this.status.phase = "publishing";
    const bytes = plan.files.reduce((n, f) => n + (f.sourceEntry?.length ?? 0), 0);
    await publishCheckpoint({
      target: this.deps.target,
      files: plan.files,
      metadata: c.bytes,
      rewrite: this.deps.config.rewrite,
      unitDir: this.targetUnitDir(unit),
      targetRoot: view.targetRoot,
      record: this.record(unit, c.completedAt, plan.files.length, bytes, c.bytes.length),
      completedAt: c.completedAt,
      assertWritable: () => this.assertLease(),
      signal: o.signal,
    });
    remember(); // published: its whole closure is on the target, verified
    this.status.totals.published++;
    this.status.lastPublishAt = Date.now();
    const lagMs = Date.now() - c.completedAt;
    this.log.info(
      { checkpoint: unit.name, files: plan.files.length, filesCopied: toCopy.length, bytes, bytesCopied: bytesTotal, lagMs },
      `${unit.kind} published on the target`,
    );
    this.deps.hooks.onPublished?.({
      job: this.key,
      unit: unit.name,
      checkpointId: unit.checkpointId,
      kind: unit.kind,
      files: plan.files.length,
      filesCopied: toCopy.length,
      bytes,
      bytesCopied: bytesTotal,
      lagMs,
      targetDir: this.targetUnitDir(unit),
    });
    return "published";
  }

  private async abandon(unit: TreeUnit, missingPath: string): Promise<"subsumed" | "skipped"> {
    const reason = (await isBeingSubsumed(this.deps.source, unit, this.sourceDir)) ? "subsumed" : "missing-file";
    if (reason === "subsumed") {
      this.status.totals.abandonedSubsumed++;
      this.log.info({ checkpoint: unit.name, path: missingPath }, "checkpoint subsumed on the source during the copy; moving on to a newer one");
    } else {
      this.status.totals.abandonedMissing++;
      this.log.warn({ checkpoint: unit.name, path: missingPath }, "a file the checkpoint needs is gone from the source; checkpoint abandoned");
    }
    this.deps.hooks.onAbandoned?.(this.key, unit.name, reason, missingPath);
    return reason === "subsumed" ? "subsumed" : "skipped";
  }

  private async reap(view: JobView, published: PublishedUnit[], unreadable: TreeUnit[]): Promise<void> {
    const targetJob = view.targetJob as TreeJob;
    const plan = planReap({
      sourceJob: view.sourceJob,
      sourceHealthy: view.sourceHealthy,
      targetJob,
      targetRoot: view.targetRoot,
      roots: this.deps.config.paths,
      published, // includes what this sync just published: its files are referenced and count towards retention
      unreadable,
      retain: this.deps.config.retain,
      tempGraceMs: this.deps.config.reap.tempGrace,
      ...(view.otherJobs ? { otherJobs: view.otherJobs } : {}),
      now: Date.now(),
    });
    this.status.reapHeld = plan.held;
    const limit = this.deps.config.reap.maxDelete;
    if (limit !== undefined) {
      // An abort threshold, not a cap: past it nothing is deleted (our stale temporaries do not count).
      const destructive = plan.deletions.filter((d) => !isTempName(baseName(d.path))).length;
      const files = targetJob.sharedFiles.size + targetJob.units.reduce((n, u) => n + u.entries.length, 0);
      const max = "count" in limit ? limit.count : Math.floor((files * limit.percent) / 100);
      if (destructive > max) {
        const what = "count" in limit ? `${limit.count}` : `${limit.percent}% of ${files} files = ${max}`;
        throw new ReapAbortedError(`reap would delete ${destructive} paths on the target, more than max-delete (${what}): nothing deleted`);
      }
    }
    let deleted = 0;
    await executeReap(plan, {
      target: this.deps.target,
      budget: this.deps.deleteBudget,
      assertWritable: () => this.assertLease(),
      onDeleted: (d) => {
        this.status.totals.deleted++;
        deleted++;
        this.log.debug({ checkpoint: d.unit, path: d.path, reason: d.reason }, "deleted on the target");
        this.deps.hooks.onDeleted?.(this.key, d.path, d.reason);
      },
      onFailed: (d, err) => this.log.warn({ path: d.path, err: errorMessage(err) }, "delete failed; retrying next cycle"),
      onBudgetExhausted: (left) => this.log.warn({ left }, "reap.maxDeletesPerCycle reached; continuing next cycle"),
    });
    if (deleted > 0) this.log.info({ deleted }, "reaped on the target (each path at debug level)");
  }

  private countCopied(length: number): void {
    if (this.status.current) {
      this.status.current.filesDone++;
      this.status.current.bytesDone += length;
    }
    this.status.totals.filesCopied++;
    this.status.totals.bytesCopied += length;
    this.deps.hooks.onFileCopied?.(this.key, length);
  }
}

export type { UnitKind };

export function lagSecondsOf(s: JobStatus, now = Date.now()): number {
  return s.behindSince === null ? 0 : Math.max(0, (now - s.behindSince) / 1000);
}
