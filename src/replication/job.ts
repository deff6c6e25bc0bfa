// One job's replication. Each sync lists the job's target directory afresh and
// re-verifies every published checkpoint there (a broken one of ours is
// unpublished, _metadata first, and republished when the source still has it);
// then it picks what to publish (selection.ts: the newest complete source
// checkpoint newer than the newest restorable one, lost ones, savepoints), copies
// what each closure lacks, publishes its _metadata only once every file is
// verified on the target, and reaps from that fresh view plus its own publishes.
// One sync runs at a time per job; errors are contained here and reported in the
// job's status.

import type { Config } from "../config/load.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { baseName, isMissing, joinPath, parentOf, type Entry, type ReadOnlyStorage, type Storage } from "../storage/types.js";
import type { CompleteView, MetadataCatalog } from "./catalog.js";
import { copyCheckpointFiles, priorityForCheckpoint, type Copier } from "./copy.js";
import { isTempName, METADATA_FILE, type UnitKind } from "./layout.js";
import type { ClusterLocator } from "./locations.js";
import type { Lease } from "./lease.js";
import { Backlog } from "./backlog.js";
import type { LargeCheckpointTurns, Turns } from "./large-checkpoints.js";
import { ReapAbortedError, type DeleteLimit } from "./delete-limit.js";
import { confirmPresentByChecksum, missingOnTarget, planUnit, type UnitPlan } from "./plan.js";
import { publishCheckpoint } from "./publish.js";
import { executeReap, planReap, type PublishedUnit } from "./reap.js";
import { listRecords, recordFor, writeRecord, type RecordListing, type ReplicationRecord } from "./records.js";
import { applyToStatus, EventStream, logEvent, type JobEvent } from "./events.js";
import { sameCompletion, selectForPublishing, type TargetUnit } from "./selection.js";
import { assessUnit } from "./verify.js";
import { isBeingSubsumed } from "./subsumption.js";
import { newestFirst, type TreeJob, type TreeScanner, type TreeSnapshot, type TreeUnit } from "./scan.js";
import type { LeftBehind } from "./left-behind.js";
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
  /** Lists a job's target directory afresh (scanJob) and forgets what the job changed. */
  targetScanner: TreeScanner;
  copier: Copier;
  lease: Lease | null;
  /** The engine's record of temporaries whose removal failed (its stop reports them); absent: not tracked. */
  leftBehind?: LeftBehind;
  logger: Logger;
  hooks: EngineHooks;
  /** The engine's event stream: every job's events are published on it too (events.ts). */
  events: Pick<EventStream<JobEvent>, "publish">;
  /** Shared across jobs within one cycle. */
  deleteBudget: { remaining: number };
  /** Engine-wide turns for large checkpoints and for target re-verification (large-checkpoints.ts); absent: no bound. */
  largeCheckpoints?: LargeCheckpointTurns;
  verifyTurns?: Turns;
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
  /** The cycle's run-wide deletion threshold (reap.maxDelete), shared by every job it syncs. */
  deleteLimit?: DeleteLimit | undefined;
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
  /** Set when the run's max-delete threshold stopped this job's deletions (its copies and publishes went on). */
  deletionsAborted?: string;
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

/** What syncOnce returns when the checkpoint it would publish is large and it is not in a large turn. */
const NEEDS_LARGE_TURN = Symbol("needs a large turn");

class TargetUnavailableError extends CkptError {
  readonly kind = "target-unavailable";
}

interface Candidate {
  unit: TreeUnit;
  /** The catalog's view of its _metadata (closure, length, CRC); the bytes are read again to publish. */
  metadata: CompleteView;
  completedAt: number;
}

export class JobReplicator {
  readonly status: JobStatus;
  /** What this job did, as events (see events.ts); status, log lines and hooks are its subscribers. */
  readonly events = new EventStream<JobEvent>();
  private readonly reported = new Set<string>();
  private readonly checksumConfirmed = new Set<string>();
  private readonly log: Logger;
  /** What this sync selected to publish and has not copied yet (status.pending mirrors it). */
  private readonly backlog = new Backlog();

  constructor(
    readonly key: string,
    readonly sourceDir: string,
    readonly targetDir: string,
    private readonly deps: EngineDeps,
  ) {
    this.status = newJobStatus(key, sourceDir, targetDir);
    this.log = deps.logger.child({ job: key });
    // The job's status and log lines hear every event of this job from its stream, then the engine's
    // stream (the hooks: metrics, the demo) hears it, in this order.
    this.events.subscribe((e) => applyToStatus(this.status, e));
    this.events.subscribe((e) => logEvent(this.log, e));
    this.events.subscribe((e) => deps.events.publish(e));
  }

  async sync(view: JobView, o: SyncOptions = {}): Promise<SyncOutcome> {
    const first = await this.syncOnce(view, o, false);
    if (first !== NEEDS_LARGE_TURN) return first;
    // The first pass has returned, so nothing it listed or planned is held while this job waits for its turn.
    const turns = this.deps.largeCheckpoints as LargeCheckpointTurns;
    try {
      this.status.phase = "planning";
      return (await turns.run(() => this.syncOnce(view, o, true), o.signal)) as SyncOutcome;
    } catch (err) {
      if (!o.signal?.aborted) throw err;
      this.log.info({}, "job sync interrupted by the stop while waiting for its turn");
      return { sourceComplete: [], publishedNow: [], wouldCopy: null, planned: [], upToDate: false };
    } finally {
      this.status.phase = "idle";
    }
  }

  /**
   * One sync. A job listing and re-verifying its target does so in a verification turn; a sync that would
   * publish a large checkpoint outside a large turn returns NEEDS_LARGE_TURN at once (sync() then waits for
   * the turn and syncs afresh in it), so that it holds no listing and no plan while it waits.
   */
  private async syncOnce(view: JobView, o: SyncOptions, inLargeTurn: boolean): Promise<SyncOutcome | typeof NEEDS_LARGE_TURN> {
    const outcome: SyncOutcome = { sourceComplete: [], publishedNow: [], wouldCopy: null, planned: [], upToDate: false };
    let verifying: (() => void) | null = null;
    const endVerify = () => {
      verifying?.();
      verifying = null;
    };
    try {
      this.status.phase = "planning";
      if (this.deps.verifyTurns) verifying = await this.deps.verifyTurns.acquire(o.signal);
      const candidates = await this.completeSourceUnits(view.sourceJob, o.signal);
      outcome.sourceComplete = candidates.map((c) => c.unit.name);
      if (view.targetProblem !== undefined) {
        this.updateNewest(candidates, null);
        throw new TargetUnavailableError(`target unavailable: ${view.targetProblem}`);
      }

      // The target as it is now, not as a cache remembers it: every decision below that deletes or
      // republishes stands on this listing.
      const fresh = await this.deps.targetScanner.scanJob(view.targetRoot, this.key);
      if (!fresh.complete) throw new TargetUnavailableError(`target listing of ${this.targetDir} incomplete: ${fresh.problems.slice(0, 3).join("; ")}`);
      const recordListing = await listRecords(this.deps.target, view.targetRoot, this.key);
      const records = recordListing.names;
      const target = await this.assessTarget(fresh, records, o);
      this.status.restorableCheckedAt = Date.now(); // the restorable count below comes from a listing taken now
      if (!o.dryRun) await this.repairRecords(view, target.restorable, candidates, records);
      this.updateNewest(candidates, target.restorable);

      const selection = selectForPublishing({
        source: candidates.map((c) => ({ name: c.unit.name, kind: c.unit.kind, checkpointId: c.unit.checkpointId, completedAt: c.completedAt })),
        restorable: target.restorable.map((p) => targetUnitOf(p.unit)),
        lost: target.lost,
        retainMax: this.deps.config.retain.max,
        complete: o.complete === true,
      });
      if (selection.newRun && this.reportOnce(`new-run:${selection.newRun.newestId}:${selection.newRun.previousId}`)) {
        this.status.newRunDetectedAt = Date.now();
        this.log.warn(
          { checkpoint: `chk-${selection.newRun.newestId}`, previous: `chk-${selection.newRun.previousId}` },
          "the job directory is used by a new run (checkpoint ids restarted); ordering by completion time",
        );
      }
      const byName = new Map(candidates.map((c) => [c.unit.name, c]));
      const pick = (names: { name: string }[]) => names.map((n) => byName.get(n.name)).filter((c): c is Candidate => c !== undefined);
      const plannedDirs = fresh.listings ?? new Map<string, ReadonlyMap<string, Entry>>();
      const subsumedNow = new Set<string>(); // gone from the source while we worked: nothing left to publish
      const attempted: Candidate[] = [];
      // Target files an earlier unit of this sync copied (or, in a dry run, would copy), with their lengths:
      // the listing predates those copies, so without this a later unit would copy its shared files again.
      const onTargetNow = new Map<string, number>();
      // Files each selected unit lacks on the target by the listings (the backlog's estimate): a unit lacking
      // many waits for its turn among the engine's large checkpoints before it is planned.
      const lacking = new Map<string, number>();
      const select = (c: Candidate) => {
        if (lacking.has(c.unit.name)) return;
        const missing = missingOnTarget(c.metadata.references, { sourceLocator: this.deps.sourceLocator, roots: this.deps.config.paths, sourceSnapshot: view.sourceSnapshot, targetSnapshot: view.targetSnapshot, targetListings: plannedDirs });
        lacking.set(c.unit.name, missing.size);
        if (o.dryRun) return;
        this.backlog.add(c.unit.name, missing);
        this.status.pending = this.backlog.summary();
      };
      // The backlog: the newest newer checkpoint (every kept one for resync), lost ones and savepoints. When
      // the daemon's newest is subsumed mid-copy, the next newer one joins it as it is attempted.
      const selected = [...pick(o.complete ? selection.newer : selection.newer.slice(0, 1)), ...pick(selection.backfill), ...pick(selection.savepoints)];
      for (const c of selected) select(c);
      if (selected.length > 0) endVerify(); // what follows is copying: it runs beside other jobs' verification
      const turns = this.deps.largeCheckpoints;
      if (turns && !inLargeTurn && selected.some((c) => turns.isLarge(lacking.get(c.unit.name) ?? 0, c.metadata.references.length))) {
        return NEEDS_LARGE_TURN;
      }
      const attempt = async (c: Candidate): Promise<"published" | "skipped" | "subsumed" | "dry-run"> => {
        attempted.push(c);
        select(c);
        const result = await this.replicateUnit(c, view, plannedDirs, o, onTargetNow).finally(() => {
          this.backlog.drop(c.unit.name, false);
          this.status.pending = this.backlog.summary();
        });
        if (typeof result === "object") {
          // Dry run: the same selection as the real run, each unit with what it would copy.
          outcome.wouldCopy ??= result;
          outcome.planned.push(result);
          return "dry-run";
        }
        if (result === "subsumed") subsumedNow.add(c.unit.name);
        if (result === "published") {
          outcome.publishedNow.push(c.unit.name);
          const unitDir = this.targetUnitDir(c.unit);
          target.restorable.push({ unit: { ...c.unit, dir: unitDir, metadata: c.unit.metadata ? { ...c.unit.metadata } : null }, references: await this.targetReferences(c) });
          records.add(c.unit.name);
        }
        return result;
      };
      for (const c of pick(selection.newer)) {
        const r = await attempt(c);
        if ((r === "published" || r === "dry-run") && !o.complete) break; // older ones are skipped
      }
      for (const c of [...pick(selection.backfill), ...pick(selection.savepoints)]) await attempt(c);

      this.updateNewest(candidates, target.restorable);
      const missing = (c: Candidate) => !outcome.publishedNow.includes(c.unit.name) && !subsumedNow.has(c.unit.name);
      outcome.upToDate = o.dryRun
        ? attempted.length === 0
        : !attempted.some((c) => (o.complete || c.unit.kind === "savepoint" || selection.backfill.some((b) => b.name === c.unit.name)) && missing(c)) &&
          this.status.behindSince === null;

      if (!o.dryRun && this.deps.config.reap.enabled && (view.targetJob || fresh.units.length > 0 || fresh.sharedFiles.size > 0)) {
        this.status.phase = "reaping";
        await this.reap(view, fresh, target.restorable, target.unreadable, recordListing, candidates);
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
      if (err instanceof ReapAbortedError) outcome.deletionsAborted = err.message;
      this.events.publish({ type: "job-error", job: this.key, error: err, message: errorMessage(err) });
    } finally {
      endVerify();
      this.status.phase = "idle";
      this.status.current = null;
      this.backlog.clear();
      this.status.pending = this.backlog.summary();
    }
    return outcome;
  }

  /**
   * Re-verifies every published checkpoint of the fresh target view (listings and lengths, no data read).
   * One of ours (it has a replication record) that is broken or unreadable is unpublished, _metadata first,
   * so the target never offers it; it is then "lost" and republished when the source still has it.
   */
  private async assessTarget(fresh: TreeJob, records: Set<string>, o: SyncOptions) {
    const restorable: PublishedUnit[] = [];
    const unreadable: TreeUnit[] = [];
    const lost = new Set<string>();
    for (const unit of fresh.units) {
      if (!unit.metadata) {
        if (records.has(unit.name)) lost.add(unit.name);
        continue;
      }
      const a = await assessUnit(unit, {
        storage: this.deps.target,
        locator: this.deps.targetLocator,
        catalog: this.deps.targetCatalog,
        ...(fresh.listings ? { listings: fresh.listings } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (a.state === "restorable") {
        restorable.push({ unit, references: new Set(a.required.map((r) => r.path)) });
        continue;
      }
      if (a.retryable) {
        // Its _metadata cannot be read right now (a DataNode restarting, a cluster failing over): no verdict
        // on the checkpoint. Kept as it is, not counted restorable, and it holds back deletions until a sync
        // reads it; unpublishing it could take the target's newest restorable checkpoint away for good.
        unreadable.push(unit);
        if (this.reportOnce(`unreadable-now:${unit.dir}:${unit.metadata.mtime}`)) {
          this.log.warn({ checkpoint: unit.name, problems: a.problems.slice(0, 3).map((p) => p.text) }, "cannot read a _metadata on the target right now; kept as it is and checked again next sync");
        }
        continue;
      }
      if (!records.has(unit.name)) {
        // Not ours (or from before records existed): left alone, and it holds back deletions.
        unreadable.push(unit);
        if (this.reportOnce(`foreign-broken:${unit.dir}:${unit.metadata.mtime}`)) {
          this.log.warn({ checkpoint: unit.name, problems: a.problems.slice(0, 5).map((p) => p.text) }, "a _metadata on the target that the replicator did not publish is not restorable; left alone");
        }
        continue;
      }
      lost.add(unit.name);
      this.events.publish({ type: "broken", job: this.key, unit: unit.name, problems: a.problems.map((p) => p.text), dryRun: o.dryRun === true });
      if (o.dryRun) continue;
      await this.deps.lease?.confirm(o.signal);
      await this.deps.target.delete(joinPath(unit.dir, METADATA_FILE));
      this.deps.targetScanner.invalidate(unit.dir);
      for (const p of a.problems) if (p.file) this.deps.targetScanner.invalidate(parentOf(p.file.path));
      // The fresh view must not offer it either: it has no _metadata now.
      unit.metadata = null;
    }
    this.status.publishedOnTarget = restorable.length;
    return { restorable, unreadable, lost };
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
        out.push({ unit, metadata: view, completedAt: view.entry.mtime });
      } else if (view.state === "corrupt" && this.reportOnce(`corrupt:${unit.dir}:${view.entry.mtime}`)) {
        this.events.publish({ type: "corrupt-metadata", job: this.key, unit: unit.name, path: joinPath(unit.dir, METADATA_FILE), reason: view.reason });
      }
    }
    return out.sort((a, b) => newestFirst(a.unit, b.unit));
  }

  private mapTargetReferences(refs: Iterable<{ location: string }>): Set<string> {
    const out = new Set<string>();
    for (const r of refs) {
      const p = this.deps.targetLocator.pathOf(r.location);
      if (p !== null) out.add(p);
    }
    return out;
  }

  private async targetReferences(c: Candidate): Promise<Set<string>> {
    const unitDir = this.targetUnitDir(c.unit);
    const st = await this.deps.target.stat(joinPath(unitDir, METADATA_FILE));
    if (st === null) return new Set();
    const tv = await this.deps.targetCatalog.view(unitDir, st);
    return tv.state === "complete" ? this.mapTargetReferences(tv.references) : new Set();
  }

  /** After a crash between publishing a _metadata and writing its record, write the record. */
  private async repairRecords(view: JobView, restorable: PublishedUnit[], candidates: Candidate[], records: Set<string>): Promise<void> {
    for (const p of restorable) {
      if (records.has(p.unit.name)) continue;
      const src = candidates.find((c) => c.unit.name === p.unit.name && sameCompletion(c.completedAt, p.unit.metadata?.mtime ?? 0));
      if (!src) continue; // not a copy of a source checkpoint we can vouch for: left alone
      this.assertLease();
      await writeRecord(this.deps.target, view.targetRoot, this.record(p.unit, src.completedAt, p.references?.size ?? 0, 0, src.metadata.length), { leftBehind: this.deps.leftBehind });
      records.add(p.unit.name);
      this.log.info({ checkpoint: p.unit.name }, "wrote the missing replication record of a published checkpoint");
    }
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

  /**
   * Newest source and newest restorable checkpoint, by completion time. `restorable` null: the target
   * could not be seen, and what was last verified there stands (an outage is not "nothing restorable").
   */
  private updateNewest(candidates: Candidate[], restorable: PublishedUnit[] | null): void {
    const checkpoints = candidates.filter((c) => c.unit.kind === "checkpoint");
    const newestSource = checkpoints[0];
    if (newestSource) {
      this.status.newestSourceCheckpoint = newestSource.unit.checkpointId;
      this.status.newestSourceCompletedAt = newestSource.completedAt;
    } else if (restorable !== null) {
      this.status.newestSourceCheckpoint = null;
      this.status.newestSourceCompletedAt = null;
    }
    if (restorable !== null) {
      const newestPub = restorable.filter((p) => p.unit.kind === "checkpoint").sort((a, b) => newestFirst(a.unit, b.unit))[0];
      this.status.newestPublishedCheckpoint = newestPub?.unit.checkpointId ?? null;
      this.status.newestPublishedCompletedAt = newestPub?.unit.metadata?.mtime ?? null;
      this.status.publishedOnTarget = restorable.length;
      // Checkpoint or savepoint: whichever completed last on the source is what a restore would start from.
      const point = [...restorable].sort((a, b) => newestFirst(a.unit, b.unit))[0];
      this.status.newestRestorePoint =
        point?.unit.metadata == null
          ? null
          : { unit: point.unit.name, kind: point.unit.kind, checkpointId: point.unit.kind === "checkpoint" ? point.unit.checkpointId : null, completedAt: point.unit.metadata.mtime };
    }
    const published = this.status.newestPublishedCompletedAt;
    const publishedName = this.status.newestPublishedCheckpoint === null ? null : `chk-${this.status.newestPublishedCheckpoint}`;
    const behind = checkpoints.filter(
      (c) => published === null || (c.completedAt > published && !(c.unit.name === publishedName && sameCompletion(c.completedAt, published))),
    );
    const oldestBehind = behind[behind.length - 1];
    this.status.behindSince = oldestBehind ? (published ?? oldestBehind.completedAt) : null;
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

  private async plan(c: Candidate, view: JobView, targetListings: ReadonlyMap<string, ReadonlyMap<string, Entry>>, signal?: AbortSignal): Promise<UnitPlan> {
    return planUnit(c.metadata.references, {
      source: this.deps.source,
      sourceLocator: this.deps.sourceLocator,
      roots: this.deps.config.paths,
      sourceSnapshot: view.sourceSnapshot,
      targetSnapshot: view.targetSnapshot,
      targetListings,
      ...(signal ? { signal } : {}),
    });
  }

  private async replicateUnit(
    c: Candidate,
    view: JobView,
    targetListings: ReadonlyMap<string, ReadonlyMap<string, Entry>>,
    o: SyncOptions,
    onTargetNow: Map<string, number> = new Map(),
  ): Promise<"published" | "skipped" | "subsumed" | PlannedUnit> {
    const unit = c.unit;
    const startedAt = Date.now();
    const plan = await this.plan(c, view, targetListings, o.signal);
    if (plan.unpublishable.length > 0) {
      if (this.reportOnce(`unpublishable:${unit.dir}`)) {
        this.events.publish({ type: "unpublishable", job: this.key, unit: unit.name, reasons: plan.unpublishable });
      }
      return "skipped";
    }
    if (plan.vanished.length > 0) {
      return this.abandon(unit, c.completedAt, plan.vanished[0] as string);
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

    // The bytes to publish, read before the copy and held only while this checkpoint is copied (the catalog
    // keeps none): the version whose closure was planned (length and CRC-32C checked), or a typed error. Read
    // now, a checkpoint Flink subsumes during its copy is still published once its files are all there.
    let metadata: Buffer;
    try {
      metadata = await this.deps.sourceCatalog.readVerified(unit.dir, c.metadata, o.signal);
    } catch (err) {
      if (isMissing(err)) return this.abandon(unit, c.completedAt, joinPath(unit.dir, METADATA_FILE));
      throw err;
    }
    const toCopy = plan.files.filter((f) => !f.present);
    const bytesTotal = toCopy.reduce((n, f) => n + (f.sourceEntry?.length ?? 0), 0);
    this.status.phase = "copying";
    this.status.current = { unit: unit.name, filesTotal: toCopy.length, filesDone: 0, bytesTotal, bytesDone: 0 };
    this.status.totals.filesSkipped += plan.files.length - toCopy.length;
    const priority = priorityForCheckpoint(toCopy.length); // a small checkpoint's copies go before a big backlog's
    const tasks = toCopy.map((f) => ({
      source: f.source,
      target: f.target,
      length: f.sourceEntry?.length ?? 0,
      ...(f.sourceEntry?.blockSize ? { blockSize: f.sourceEntry.blockSize } : {}),
      ...(this.deps.config.copy.preserve.permission && f.sourceEntry?.permission ? { permission: f.sourceEntry.permission } : {}),
      ...(this.deps.config.copy.preserve.replication && f.sourceEntry?.replication ? { replication: f.sourceEntry.replication } : {}),
      job: this.key,
      unit: unit.name,
      priority,
    }));
    this.assertLease();
    const vanished = await copyCheckpointFiles(this.deps.copier, tasks, o.signal, (task) => this.countCopied(task.target, task.length));
    if (vanished !== null) {
      return this.abandon(unit, c.completedAt, vanished.path);
    }

    this.status.phase = "publishing";
    await this.deps.lease?.confirm(o.signal); // no newer epoch: the commit point is ours to write
    const bytes = plan.files.reduce((n, f) => n + (f.sourceEntry?.length ?? 0), 0);
    await publishCheckpoint({
      target: this.deps.target,
      files: plan.files,
      metadata,
      rewrite: this.deps.config.rewrite,
      unitDir: this.targetUnitDir(unit),
      targetRoot: view.targetRoot,
      record: this.record(unit, c.completedAt, plan.files.length, bytes, c.metadata.length),
      completedAt: c.completedAt,
      assertWritable: () => this.assertLease(),
      signal: o.signal,
      leftBehind: this.deps.leftBehind,
    });
    remember(); // published: its whole closure is on the target, verified
    this.backlog.drop(unit.name, true);
    this.events.publish({
      type: "published",
      job: this.key,
      unit: unit.name,
      checkpointId: unit.checkpointId,
      kind: unit.kind,
      files: plan.files.length,
      filesCopied: toCopy.length,
      bytes,
      bytesCopied: bytesTotal,
      lagMs: Date.now() - c.completedAt,
      durationMs: Date.now() - startedAt,
      completedAt: c.completedAt,
      targetDir: this.targetUnitDir(unit),
    });
    return "published";
  }

  /** Gives up on a checkpoint whose source file is gone; said once per checkpoint, not every cycle. */
  private async abandon(unit: TreeUnit, completedAt: number, missingPath: string): Promise<"subsumed" | "skipped"> {
    const reason = (await isBeingSubsumed(this.deps.source, unit, this.sourceDir)) ? "subsumed" : "missing-file";
    if (!this.reportOnce(`abandoned:${unit.name}:${completedAt}`)) return reason === "subsumed" ? "subsumed" : "skipped";
    this.events.publish({ type: "abandoned", job: this.key, unit: unit.name, reason, path: missingPath });
    return reason === "subsumed" ? "subsumed" : "skipped";
  }

  private async reap(view: JobView, fresh: TreeJob, restorable: PublishedUnit[], unreadable: TreeUnit[], records: RecordListing, candidates: Candidate[]): Promise<void> {
    const plan = planReap({
      sourceJob: view.sourceJob,
      sourceHealthy: view.sourceHealthy,
      sourceCompleted: new Map(candidates.map((c) => [c.unit.name, c.completedAt])),
      targetJob: fresh, // listed afresh this sync: no deletion is planned from a cached view
      targetRoot: view.targetRoot,
      roots: this.deps.config.paths,
      published: restorable, // includes what this sync just published: its files are referenced and count towards retention
      unreadable,
      records: records.names,
      recordTemporaries: records.temporaries,
      retain: this.deps.config.retain,
      tempGraceMs: this.deps.config.reap.tempGrace,
      ...(view.otherJobs ? { otherJobs: view.otherJobs } : {}),
      now: Date.now(),
    });
    this.status.reapHeld = plan.held;
    // An abort threshold for the whole run, not a cap: past it nothing is deleted (our stale temporaries do not count).
    view.deleteLimit?.reserve(this.key, plan.deletions.filter((d) => !isTempName(baseName(d.path))).length);
    if (plan.deletions.length > 0) await this.deps.lease?.confirm();
    let deleted = 0;
    await executeReap(plan, {
      target: this.deps.target,
      budget: this.deps.deleteBudget,
      assertWritable: () => this.assertLease(),
      onDeleted: (d) => {
        deleted++;
        this.events.publish({ type: "deleted", job: this.key, unit: d.unit, path: d.path, reason: d.reason });
      },
      onFailed: (d, err) => this.log.warn({ path: d.path, err: errorMessage(err) }, "delete failed; retrying next cycle"),
      onBudgetExhausted: (left) => this.log.warn({ left }, "reap.maxDeletesPerCycle reached; continuing next cycle"),
    });
    if (deleted > 0) {
      const units = [...new Set(plan.deletions.map((d) => d.unit).filter((u): u is string => u !== undefined))];
      this.log.info({ deleted, checkpoints: units.slice(0, 10) }, "reaped on the target");
    }
    for (const d of plan.deletions) this.deps.targetScanner.invalidate(d.recursive ? d.path : parentOf(d.path));
  }

  private countCopied(target: string, length: number): void {
    this.backlog.copied(target);
    this.status.pending = this.backlog.summary();
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

function targetUnitOf(u: TreeUnit): TargetUnit {
  return { name: u.name, kind: u.kind, checkpointId: u.checkpointId, completedAt: u.metadata?.mtime ?? 0 };
}

/**
 * How far the target is behind: 0 when its newest restorable checkpoint is the source's newest, otherwise
 * the time since `behindSince` (the newest restorable checkpoint's completion) and never less than the
 * distance between the two completion times, which both come from the source's clock: a daemon whose
 * clock runs behind the NameNodes never reads 0 while the target is behind.
 */
export function lagSecondsOf(s: JobStatus, now = Date.now()): number {
  if (s.behindSince === null) return 0;
  const sourceGap = s.newestSourceCompletedAt === null ? 0 : s.newestSourceCompletedAt - s.behindSince;
  return Math.max(0.001, now - s.behindSince, sourceGap) / 1000;
}
