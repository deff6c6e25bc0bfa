// What the engine reports about itself: a per-job status object (read by the
// CLI, the demo and the metrics exporter) and the hooks through which it
// announces events as they happen (metrics counters, the demo's output).

import { NO_PENDING_WORK, type PendingWork } from "./backlog.js";

export type { PendingWork };

export type JobPhase = "idle" | "planning" | "copying" | "publishing" | "reaping";

export interface JobTotals {
  published: number;
  filesCopied: number;
  bytesCopied: number;
  filesSkipped: number;
  abandonedSubsumed: number;
  abandonedMissing: number;
  unpublishable: number;
  corruptMetadata: number;
  deleted: number;
  /** Published checkpoints found broken on the target (a file missing or short) and unpublished. */
  unpublishedBroken: number;
  errors: number;
}

export interface JobStatus {
  job: string;
  sourceDir: string;
  targetDir: string;
  phase: JobPhase;
  newestSourceCheckpoint: number | null;
  newestSourceCompletedAt: number | null;
  newestPublishedCheckpoint: number | null;
  /** Source completion time (its _metadata modification time) of the newest published checkpoint. */
  newestPublishedCompletedAt: number | null;
  lastPublishAt: number | null;
  /**
   * The newest restore point on the target: the restorable checkpoint or savepoint whose source completion
   * is newest (as of the last listing of the target; kept while it cannot be listed). RPO is measured from it.
   */
  newestRestorePoint: RestorePoint | null;
  /** Restorable checkpoints on the target (as of the last sync; 0 while the target cannot be listed). */
  publishedOnTarget: number;
  /** When publishedOnTarget was last computed from a successful listing of the target (ms), or null. */
  restorableCheckedAt?: number | null;
  /** How far the target is behind the source (lagSecondsOf); 0 only when the newest source checkpoint is restorable there. */
  lagSeconds: number;
  /** While behind: the source completion time of the newest restorable checkpoint (or of the oldest source one when none is); null when caught up. */
  behindSince: number | null;
  /** The checkpoint being copied right now (what it lacks, what of that is done), or null. */
  current: { unit: string; filesTotal: number; filesDone: number; bytesTotal: number; bytesDone: number } | null;
  /**
   * The job's whole backlog: files and bytes not on the target yet of every checkpoint this sync selected
   * to publish and has not published (shared files counted once); zero when caught up.
   */
  pending: PendingWork;
  lastError: string | null;
  lastErrorAt: number | null;
  reapHeld: string | null;
  /** When the job directory was found reused by a new run (checkpoint ids restarted), if it was. */
  newRunDetectedAt: number | null;
  totals: JobTotals;
}

export interface RestorePoint {
  unit: string;
  kind: "checkpoint" | "savepoint";
  /** The checkpoint id; null for a savepoint (its directory name carries none). */
  checkpointId: number | null;
  /** Source completion time (the _metadata time the copy carries), ms. */
  completedAt: number;
}

export interface PublishedEvent {
  job: string;
  unit: string;
  checkpointId: number;
  kind: "checkpoint" | "savepoint";
  files: number;
  filesCopied: number;
  bytes: number;
  bytesCopied: number;
  /** Source completion -> target publish, ms. */
  lagMs: number;
  /** From planning the checkpoint's copy to its publication, ms. */
  durationMs?: number;
  /** Source completion time (the source _metadata's modification time), ms. */
  completedAt?: number;
  targetDir: string;
}

export interface EngineHooks {
  onBytes?(job: string, n: number): void;
  onFileCopied?(job: string, bytes: number): void;
  onPublished?(event: PublishedEvent): void;
  onAbandoned?(job: string, unit: string, reason: "subsumed" | "missing-file", detail: string): void;
  onUnpublishable?(job: string, unit: string, reasons: string[]): void;
  onCorruptMetadata?(job: string, path: string, reason: string): void;
  onDeleted?(job: string, path: string, reason: string): void;
  /** A published checkpoint is no longer restorable on the target (tampered, lost a file) and is unpublished. */
  onBroken?(job: string, unit: string, problems: string[]): void;
  onJobError?(job: string, err: unknown): void;
  onScan?(side: "source" | "target", ms: number, requests: number, ok: boolean): void;
  /** A side's WebHDFS client switched NameNodes (wired by whoever creates the storages: daemon/runtime.ts). */
  onNamenodeFailover?(cluster: string, from: string, to: string): void;
}

export function emptyTotals(): JobTotals {
  return {
    published: 0,
    filesCopied: 0,
    bytesCopied: 0,
    filesSkipped: 0,
    abandonedSubsumed: 0,
    abandonedMissing: 0,
    unpublishable: 0,
    corruptMetadata: 0,
    deleted: 0,
    unpublishedBroken: 0,
    errors: 0,
  };
}

export function newJobStatus(job: string, sourceDir: string, targetDir: string): JobStatus {
  return {
    job,
    sourceDir,
    targetDir,
    phase: "idle",
    newestSourceCheckpoint: null,
    newestSourceCompletedAt: null,
    newestPublishedCheckpoint: null,
    newestPublishedCompletedAt: null,
    lastPublishAt: null,
    newestRestorePoint: null,
    publishedOnTarget: 0,
    restorableCheckedAt: null,
    lagSeconds: 0,
    behindSince: null,
    current: null,
    pending: NO_PENDING_WORK,
    lastError: null,
    lastErrorAt: null,
    reapHeld: null,
    newRunDetectedAt: null,
    totals: emptyTotals(),
  };
}
