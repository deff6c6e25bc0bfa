// What /status answers and the status page at / shows: per job, the newest
// source checkpoint, the newest checkpoint restorable on the target, the newest
// restore point (checkpoint or savepoint) and the RPO measured from it against
// its objective, lag, the verified restorable count, the last error and the
// command that restores the job from the target. Times are given twice: as
// ISO-8601 and as Unix seconds.

import type { EngineStatus, JobStatus } from "../replication/index.js";
import { checkpointRpoSeconds, DrView, lagSeconds, rpoSeconds, type JobDrState } from "./dr-view.js";
import { DEFAULT_RPO, rpoObjectiveMs, type RpoObjectives } from "./metrics.js";

export interface Instant {
  iso: string;
  seconds: number;
}

export function instant(ms: number | null | undefined): Instant | null {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return null;
  return { iso: new Date(ms).toISOString(), seconds: Math.round(ms) / 1000 };
}

export interface JobReport {
  job: string;
  sourceDir: string | null;
  targetDir: string;
  phase: JobStatus["phase"] | null;
  newestSourceCheckpoint: { id: number; completedAt: Instant } | null;
  newestRestorableCheckpoint: { id: number; uri: string; completedAt: Instant; publishedAt: Instant | null } | null;
  /** The newest restore point: the restorable checkpoint or savepoint that completed last on the source. */
  newestRestorePoint: { unit: string; kind: "checkpoint" | "savepoint"; uri: string; completedAt: Instant; publishedAt: Instant | null } | null;
  /** Age of the newest restore point (what a restore would lose now), seconds. */
  rpoSeconds: number | null;
  /** Age of the newest restorable checkpoint alone, savepoints aside, seconds. */
  checkpointRpoSeconds: number | null;
  rpoObjectiveSeconds: number;
  rpoMet: boolean | null;
  /** Newest source completion minus newest restorable completion, seconds. */
  lagSeconds: number | null;
  restorableCheckpoints: number | null;
  restorableVerifiedAt: Instant | null;
  /**
   * The job's backlog: files and bytes not on the target yet of every checkpoint selected to publish and
   * not published (`checkpoints`), shared files counted once; `copying` is the one being copied now.
   * Zeros when caught up.
   */
  pending: { files: number; bytes: number; checkpoints: string[]; copying: string | null };
  lastError: string | null;
  lastErrorAt: Instant | null;
  reapHeld: string | null;
  /** Restores the job from the newest restore point (NO_CLAIM); null while there is none. */
  restoreCommand: string | null;
  /** Verifies the target now and prints the same command. */
  verifyCommand: string;
  totals: JobStatus["totals"] | null;
}

export interface StatusReport {
  generatedAt: Instant;
  source: { name: string; healthy: boolean };
  target: { name: string; reachable: boolean };
  leaseHeld: boolean;
  lastScanAt: Instant | null;
  lastScanOk: boolean;
  copyQueueFiles: number;
  bytesInFlight: number;
  bandwidthLimitBytesPerSecond: number;
  jobs: JobReport[];
}

export interface ReportInputs {
  status: EngineStatus;
  view?: DrView;
  rpo?: RpoObjectives;
  leaseHeld?: boolean;
  sourceName?: string;
  targetName?: string;
  /** Filesystem URI of a target path, as Flink reads it (e.g. hdfs://dr-ns/flink/job/chk-4). */
  targetUri?: (path: string) => string;
  configFile?: string;
  now?: number;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function buildReport(i: ReportInputs): StatusReport {
  const now = i.now ?? Date.now();
  const view = i.view ?? new DrView();
  if (!i.view) view.observe(i.status);
  const rpo = i.rpo ?? DEFAULT_RPO;
  const uriOf = i.targetUri ?? ((p: string) => p);
  const config = shellQuote(i.configFile ?? "/etc/ckpt-replicator/config.yaml");
  const jobs = view.list().map((d: JobDrState): JobReport => {
    const s = i.status.jobs.find((j) => j.targetDir === d.targetDir) ?? null;
    const rpoS = rpoSeconds(d, now);
    const objective = rpoObjectiveMs(rpo, d.job) / 1000;
    const chkUri = d.restorable ? uriOf(`${d.targetDir}/chk-${d.restorable.checkpointId}`) : null;
    const pointUri = d.restorePoint ? uriOf(`${d.targetDir}/${d.restorePoint.unit}`) : null;
    return {
      job: d.job,
      sourceDir: d.sourceDir,
      targetDir: d.targetDir,
      phase: s?.phase ?? null,
      newestSourceCheckpoint: d.source ? { id: d.source.checkpointId, completedAt: instant(d.source.completedAt) as Instant } : null,
      newestRestorableCheckpoint:
        d.restorable && chkUri
          ? { id: d.restorable.checkpointId, uri: chkUri, completedAt: instant(d.restorable.completedAt) as Instant, publishedAt: instant(d.restorable.publishedAt) }
          : null,
      newestRestorePoint:
        d.restorePoint && pointUri
          ? { unit: d.restorePoint.unit, kind: d.restorePoint.kind, uri: pointUri, completedAt: instant(d.restorePoint.completedAt) as Instant, publishedAt: instant(d.restorePoint.publishedAt) }
          : null,
      rpoSeconds: rpoS,
      checkpointRpoSeconds: checkpointRpoSeconds(d, now),
      rpoObjectiveSeconds: objective,
      rpoMet: rpoS === null ? null : rpoS <= objective,
      lagSeconds: lagSeconds(d),
      restorableCheckpoints: d.restorableCount,
      restorableVerifiedAt: instant(d.restorableVerifiedAt),
      pending: { files: s?.pending.files ?? 0, bytes: s?.pending.bytes ?? 0, checkpoints: s?.pending.checkpoints ?? [], copying: s?.current?.unit ?? null },
      lastError: s?.lastError ?? null,
      lastErrorAt: instant(s?.lastErrorAt),
      reapHeld: s?.reapHeld ?? null,
      restoreCommand: pointUri ? `flink run --fromSavepoint ${shellQuote(pointUri)} --restoreMode no_claim <your-job.jar>` : null,
      verifyCommand: `ckpt-replicator latest --config ${config} --job ${shellQuote(d.job)} --format flink`,
      totals: s?.totals ?? null,
    };
  });
  return {
    generatedAt: instant(now) as Instant,
    source: { name: i.sourceName ?? "source", healthy: i.status.sourceRootsHealthy },
    target: { name: i.targetName ?? "target", reachable: i.status.targetRootsHealthy !== false },
    leaseHeld: i.leaseHeld ?? false,
    lastScanAt: instant(i.status.lastScanAt),
    lastScanOk: i.status.lastScanOk,
    copyQueueFiles: i.status.copyQueue,
    bytesInFlight: i.status.bytesInFlight,
    bandwidthLimitBytesPerSecond: i.status.bandwidth,
    jobs,
  };
}
