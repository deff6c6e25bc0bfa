// The disaster-recovery view of each job that monitoring reports: the newest
// restore point on the target (the restorable checkpoint or savepoint that
// completed last on the source: RPO = now - its completion, which keeps growing
// while either cluster is invisible), the newest restorable checkpoint alone,
// the newest source checkpoint, and the last *verified* count of restorable
// checkpoints and savepoints. Savepoints directly under a root belong to no job
// id (the pseudo-job ""): they give it no RPO.
//
// The engine's status describes its last sync, which while a side cannot be
// listed means "nothing seen": the source checkpoint becomes null and the
// restorable count 0. This view keeps the last known values instead, seeds
// them at start from the replication records on the target
// (<target root>/.ckpt-replicator/records/<job>/<unit>.json), and moves them on
// only with evidence: a publish event, or a sync that listed the target.

import { joinPath, readSmallFile, type Storage } from "../storage/types.js";
import { adminDir, classifyUnitDir } from "../replication/layout.js";
import type { EngineStatus, JobStatus, PublishedEvent, RestorePoint } from "../replication/index.js";
import type { ReplicationRecord } from "../replication/records.js";

export interface CheckpointPoint {
  checkpointId: number;
  /** Source completion time (the source _metadata's modification time), ms. */
  completedAt: number;
}

export interface JobDrState {
  job: string;
  targetDir: string;
  sourceDir: string | null;
  /** Newest checkpoint restorable on the target (last known). */
  restorable: (CheckpointPoint & { publishedAt: number | null }) | null;
  /** Newest restore point (checkpoint or savepoint) on the target, by source completion (last known); the RPO's base. */
  restorePoint: (RestorePoint & { publishedAt: number | null }) | null;
  /** When restorePoint was last set from a listing of the target (ms), or null. */
  restorePointListedAt: number | null;
  /** Newest complete checkpoint on the source (last known). */
  source: CheckpointPoint | null;
  /** Restorable checkpoints on the target, as last verified by a listing (or counted from records at start). */
  restorableCount: number | null;
  restorableVerifiedAt: number | null;
  /** "records" until a sync of this process has listed the target. */
  restorableCountFrom: "records" | "listing" | null;
}

/** The parent directory of a unit directory. */
function parentDir(dir: string): string {
  const i = dir.lastIndexOf("/");
  return i <= 0 ? "/" : dir.slice(0, i);
}

export class DrView {
  private readonly jobs = new Map<string, JobDrState>();
  private targetReachable = true;
  private seeded = false;

  /** True once the records of every target root were read. */
  get recordsLoaded(): boolean {
    return this.seeded;
  }

  get isTargetReachable(): boolean {
    return this.targetReachable;
  }

  private entry(targetDir: string, job: string): JobDrState {
    let e = this.jobs.get(targetDir);
    if (!e) {
      e = { job, targetDir, sourceDir: null, restorable: null, restorePoint: null, restorePointListedAt: null, source: null, restorableCount: null, restorableVerifiedAt: null, restorableCountFrom: null };
      this.jobs.set(targetDir, e);
    }
    return e;
  }

  /** Inexact completion times (derived from a publish event's lag) are replaced by an exact one for the same checkpoint. */
  private readonly inexact = new Set<JobDrState>();

  /** A restore point seen restorable: taken when it completed later than the current one (savepoints of the "" pseudo-job never are). */
  private offerRestorePoint(e: JobDrState, p: RestorePoint & { publishedAt: number | null }): void {
    if (e.job === "" || !Number.isFinite(p.completedAt) || p.completedAt <= 0) return;
    const cur = e.restorePoint;
    if (cur === null || p.completedAt > cur.completedAt) e.restorePoint = { ...p };
    else if (cur.unit === p.unit) {
      if (p.kind === "checkpoint") cur.completedAt = p.completedAt; // an exact time replaces an inexact one
      cur.publishedAt ??= p.publishedAt;
    }
  }

  private offerRestorable(e: JobDrState, p: CheckpointPoint & { publishedAt: number | null }, exact = true): void {
    if (!Number.isFinite(p.checkpointId) || !Number.isFinite(p.completedAt) || p.completedAt <= 0) return;
    this.offerRestorePoint(e, { unit: `chk-${p.checkpointId}`, kind: "checkpoint", checkpointId: p.checkpointId, completedAt: p.completedAt, publishedAt: p.publishedAt });
    const cur = e.restorable;
    if (cur === null || p.checkpointId > cur.checkpointId) {
      e.restorable = { checkpointId: p.checkpointId, completedAt: p.completedAt, publishedAt: p.publishedAt };
      if (exact) this.inexact.delete(e);
      else this.inexact.add(e);
    } else if (p.checkpointId === cur.checkpointId) {
      if (exact && this.inexact.has(e)) {
        cur.completedAt = p.completedAt;
        this.inexact.delete(e);
      }
      cur.publishedAt ??= p.publishedAt;
    }
  }

  /**
   * Reads the replication records of every target root: per job, the newest checkpoint's record gives the
   * restorable checkpoint and its source completion time. Throws when the target cannot be listed (call
   * again later); a record that cannot be read or parsed is skipped.
   */
  async seedFromRecords(target: Pick<Storage, "name" | "list" | "read">, targetRoots: string[], signal?: AbortSignal): Promise<void> {
    for (const root of targetRoots) {
      const recordsRoot = joinPath(adminDir(root), "records");
      const jobDirs = await target.list(recordsRoot, signal ? { signal } : undefined);
      for (const jd of jobDirs ?? []) {
        if (jd.type !== "dir") continue;
        const key = jd.name === "_root" ? "" : jd.name;
        const files = (await target.list(joinPath(recordsRoot, jd.name), signal ? { signal } : undefined)) ?? [];
        const units = files
          .filter((f) => f.type === "file" && f.name.endsWith(".json"))
          .map((f) => classifyUnitDir(f.name.slice(0, -".json".length)))
          .filter((u): u is NonNullable<typeof u> => u !== null);
        const checkpoints = units.filter((u) => u.kind === "checkpoint").sort((a, b) => b.checkpointId - a.checkpointId);
        const targetDir = key === "" ? root : joinPath(root, key);
        const e = this.entry(targetDir, key);
        if (e.restorableCountFrom === null) {
          e.restorableCount = units.length;
          e.restorableCountFrom = "records";
        }
        const readUnit = async (name: string) => {
          let record: ReplicationRecord;
          try {
            const bytes = await readSmallFile(target, joinPath(joinPath(recordsRoot, jd.name), `${name}.json`), 1024 * 1024, signal ? { signal } : undefined);
            record = JSON.parse(bytes.toString("utf8")) as ReplicationRecord;
          } catch {
            return null; // advisory
          }
          const completedAt = Date.parse(record.source?.completedAt ?? "");
          const publishedAt = Date.parse(record.publishedAt ?? "");
          if (record.format !== 1 || !Number.isFinite(completedAt)) return null;
          if (record.source?.dir) e.sourceDir ??= parentDir(record.source.dir);
          return { completedAt, publishedAt: Number.isFinite(publishedAt) ? publishedAt : null };
        };
        for (const unit of checkpoints) {
          const r = await readUnit(unit.name);
          if (r === null) continue; // try the next older one
          this.offerRestorable(e, { checkpointId: unit.checkpointId, ...r });
          break;
        }
        // Savepoints are few and ordered by time only: each one's record is read.
        for (const unit of units.filter((u) => u.kind === "savepoint")) {
          const r = await readUnit(unit.name);
          if (r !== null) this.offerRestorePoint(e, { unit: unit.name, kind: "savepoint", checkpointId: null, ...r });
        }
      }
    }
    this.seeded = true;
  }

  /** A checkpoint was just published (it is restorable now). */
  onPublished(e: PublishedEvent, now = Date.now()): void {
    const entry = this.entry(parentDir(e.targetDir), e.job);
    if (e.kind === "savepoint") {
      this.offerRestorePoint(entry, { unit: e.unit, kind: "savepoint", checkpointId: null, completedAt: e.completedAt ?? now - e.lagMs, publishedAt: now });
      return;
    }
    const exact = e.completedAt !== undefined;
    this.offerRestorable(entry, { checkpointId: e.checkpointId, completedAt: e.completedAt ?? now - e.lagMs, publishedAt: now }, exact);
  }

  /** Folds in the engine's current status (called at every scrape and after every cycle). */
  observe(status: EngineStatus): void {
    if (status.targetRootsHealthy !== undefined) this.targetReachable = status.targetRootsHealthy;
    for (const j of status.jobs) this.observeJob(j);
  }

  private observeJob(j: JobStatus): void {
    const e = this.entry(j.targetDir, j.job);
    e.sourceDir = j.sourceDir;
    if (j.newestSourceCheckpoint !== null && j.newestSourceCompletedAt !== null) {
      // A newer one, or the same id seen again. An older id is taken too: the job was reset/restored on the source.
      e.source = { checkpointId: j.newestSourceCheckpoint, completedAt: j.newestSourceCompletedAt };
    }
    if (j.newestPublishedCheckpoint !== null && j.newestPublishedCompletedAt !== null) {
      this.offerRestorable(e, { checkpointId: j.newestPublishedCheckpoint, completedAt: j.newestPublishedCompletedAt, publishedAt: j.lastPublishAt });
    }
    // From a listing of the target the restore point is taken as it is, also when it moved back (a newer
    // savepoint was reaped along with its source); otherwise it only moves forward.
    const listedAt = j.restorableCheckedAt ?? null;
    if (listedAt !== null && (e.restorePointListedAt === null || listedAt > e.restorePointListedAt)) {
      e.restorePointListedAt = listedAt;
      const p = j.newestRestorePoint;
      const fallback = e.restorable === null ? null : { unit: `chk-${e.restorable.checkpointId}`, kind: "checkpoint" as const, checkpointId: e.restorable.checkpointId, completedAt: e.restorable.completedAt };
      const next = p ?? fallback; // never less than the checkpoint-only figure, which stays as it was
      if (e.job !== "") e.restorePoint = next === null ? null : { ...next, publishedAt: next.unit === e.restorePoint?.unit ? e.restorePoint.publishedAt : null };
    } else if (j.newestRestorePoint !== null) {
      this.offerRestorePoint(e, { ...j.newestRestorePoint, publishedAt: null });
    }
    // The count is trusted only when it comes from a sync that listed the target: a sync that could not
    // list it reports 0, which says nothing about what is restorable there.
    const checkedAt = j.restorableCheckedAt ?? null;
    if (checkedAt !== null && (e.restorableVerifiedAt === null || checkedAt > e.restorableVerifiedAt || (this.targetReachable && j.lastError === null))) {
      e.restorableCount = j.publishedOnTarget;
      e.restorableVerifiedAt = Math.max(checkedAt, e.restorableVerifiedAt ?? 0);
      e.restorableCountFrom = "listing";
    }
  }

  /** Every job known from records or status, ordered by job id. */
  list(): JobDrState[] {
    return [...this.jobs.values()].sort((a, b) => a.job.localeCompare(b.job) || a.targetDir.localeCompare(b.targetDir));
  }
}

/** Seconds of source history the DR copy lacks: newest source completion minus newest restorable completion (both NameNode clocks). */
export function lagSeconds(e: JobDrState): number | null {
  if (e.source === null) return e.restorePoint === null ? null : 0; // no source checkpoint to be behind: a savepoint-only job
  if (e.restorable === null) return null;
  return Math.max(0, (e.source.completedAt - e.restorable.completedAt) / 1000);
}

/** Age of the newest restore point (checkpoint or savepoint): what a restore from the target would lose now. */
export function rpoSeconds(e: JobDrState, now = Date.now()): number | null {
  return e.restorePoint === null ? null : Math.max(0, (now - e.restorePoint.completedAt) / 1000);
}

/** The same from the newest restorable checkpoint alone (what a restore that ignores savepoints would lose). */
export function checkpointRpoSeconds(e: JobDrState, now = Date.now()): number | null {
  return e.restorable === null ? null : Math.max(0, (now - e.restorable.completedAt) / 1000);
}
