// The daemon's periodic one-line stats log (every log.statsInterval): what was
// copied since the last line (files, bytes, rate in IEC units), what is
// pending (every job's backlog: files and bytes of the checkpoints selected to
// publish that are not on the target yet) and in flight, how many checkpoints were published and deleted, failing jobs, and
// each job's RPO: seconds since the source completed the newest restore point
// on the target, checkpoint or savepoint (null while a job has none).

import { formatBytes, formatRate } from "../util/units.js";
import type { EngineStatus } from "../replication/index.js";

export interface StatsSnapshot {
  at: number;
  filesCopied: number;
  bytesCopied: number;
  published: number;
  deleted: number;
}

export interface StatsLine {
  message: string;
  fields: {
    filesCopied: number;
    bytesCopied: number;
    bytesPerSecond: number;
    published: number;
    deleted: number;
    /** Sum of every job's backlog (status.pending). */
    pendingFiles: number;
    pendingBytes: number;
    pendingCheckpoints: number;
    /** The copy queue right now: files queued or being copied, and the bytes of those being copied. */
    queuedFiles: number;
    bytesInFlight: number;
    jobs: number;
    failingJobs: number;
    /** Per job: seconds since the newest restore point on the target (checkpoint or savepoint) completed on the source. */
    rpoSeconds: Record<string, number | null>;
  };
}

export function snapshotOf(s: EngineStatus, at = Date.now()): StatsSnapshot {
  const sum = (f: (t: EngineStatus["jobs"][number]["totals"]) => number) => s.jobs.reduce((n, j) => n + f(j.totals), 0);
  return { at, filesCopied: sum((t) => t.filesCopied), bytesCopied: sum((t) => t.bytesCopied), published: sum((t) => t.published), deleted: sum((t) => t.deleted) };
}

export function statsLine(prev: StatsSnapshot, s: EngineStatus, now = Date.now()): { line: StatsLine; next: StatsSnapshot } {
  const next = snapshotOf(s, now);
  const secs = Math.max(0.001, (now - prev.at) / 1000);
  const files = next.filesCopied - prev.filesCopied;
  const bytes = next.bytesCopied - prev.bytesCopied;
  const rpo: Record<string, number | null> = {};
  // Savepoints directly under a root (the pseudo-job "") belong to no job: no RPO.
  for (const j of s.jobs) if (j.job !== "") rpo[j.job] = j.newestRestorePoint === null ? null : Math.max(0, Math.round((now - j.newestRestorePoint.completedAt) / 1000));
  const failing = s.jobs.filter((j) => j.lastError !== null).length;
  const known = Object.values(rpo).filter((v): v is number => v !== null);
  const worst = known.length > 0 ? Math.max(...known) : null;
  const none = Object.values(rpo).filter((v) => v === null).length;
  const pendingFiles = s.jobs.reduce((n, j) => n + j.pending.files, 0);
  const pendingBytes = s.jobs.reduce((n, j) => n + j.pending.bytes, 0);
  const pendingCheckpoints = s.jobs.reduce((n, j) => n + j.pending.checkpoints.length, 0);
  const message =
    `stats: copied ${files} files (${formatBytes(bytes)}, ${formatRate(bytes / secs)}) in ${Math.round(secs)}s, ` +
    `published ${next.published - prev.published}, deleted ${next.deleted - prev.deleted}; ` +
    `pending ${pendingFiles} files (${formatBytes(pendingBytes)}) of ${pendingCheckpoints} checkpoint(s), ${s.copyQueue} queued (${formatBytes(s.bytesInFlight)} in flight); ` +
    `${s.jobs.length} job(s), ${failing} failing, worst RPO ${worst === null ? "-" : `${worst}s`}${none > 0 ? `, ${none} with nothing restorable` : ""}`;
  return {
    line: {
      message,
      fields: {
        filesCopied: files,
        bytesCopied: bytes,
        bytesPerSecond: Math.round(bytes / secs),
        published: next.published - prev.published,
        deleted: next.deleted - prev.deleted,
        pendingFiles,
        pendingBytes,
        pendingCheckpoints,
        queuedFiles: s.copyQueue,
        bytesInFlight: s.bytesInFlight,
        jobs: s.jobs.length,
        failingJobs: failing,
        rpoSeconds: rpo,
      },
    },
    next,
  };
}
