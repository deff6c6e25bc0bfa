// Pure helpers of the interop run: reading the checker's samples, RPO, percentiles. Unit-tested in
// interop.test.ts, so the figures in interop-results.json come from tested arithmetic.

import { logRecords } from "../helpers/log-lines.js";

export { logRecords };

export interface CheckedCheckpoint {
  root: string;
  /** hdfs://.../<job>/chk-<n> */
  path?: string;
  ok?: boolean;
  files?: number;
  /** Input-channel and result-subpartition handles: the in-flight data of an unaligned checkpoint. */
  channelStateHandles?: number;
  missing?: string[];
  missingCount?: number;
  loadError?: string;
  listError?: string;
  /** The checker could not reach the cluster to check a file of this checkpoint (connection refused, standby): no verdict. */
  unavailable?: string;
}

export interface CheckerSample {
  t: number;
  checkpoints: CheckedCheckpoint[];
}

export function parseSample(line: string): CheckerSample | null {
  if (!line.startsWith("{\"t\":")) return null;
  try {
    return JSON.parse(line) as CheckerSample;
  } catch {
    return null;
  }
}

/** job id and checkpoint number of ".../<job>/chk-<n>", or null. */
export function chkOf(path: string): { job: string; chk: number } | null {
  const m = /\/([0-9a-f]{32})\/chk-(\d+)\/?$/.exec(path);
  return m && m[1] && m[2] ? { job: m[1], chk: Number(m[2]) } : null;
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx] ?? null;
}

export interface RootSummary {
  samples: number;
  /** Samples in which the root could not be listed (cluster down). */
  unavailable: number;
  /** Checkpoints seen broken (a referenced file missing or short, or unloadable) while their _metadata stayed. */
  violations: string[];
  /** Per sample and job: seconds since the newest restorable copy's source completion. */
  rpoSeconds: number[];
  /**
   * Samples (per job, after the job's first checkpoint completed) with no restorable copy at all. Their
   * RPO is the age of the job's first checkpoint: a disaster then loses everything.
   */
  noneRestorable: number;
}

/**
 * Summarises the samples of one root. `completed` maps job -> checkpoint -> completion time (ms)
 * as recorded by the job itself. Only jobs in `completed` count for RPO.
 */
export function summarise(samples: CheckerSample[], root: string, completed: Map<string, Map<number, number>>): RootSummary {
  const out: RootSummary = { samples: 0, unavailable: 0, violations: [], rpoSeconds: [], noneRestorable: 0 };
  const seenViolation = new Set<string>();
  for (const s of samples) {
    const mine = s.checkpoints.filter((c) => c.root === root);
    out.samples++;
    if (mine.some((c) => c.listError !== undefined || c.unavailable !== undefined)) {
      out.unavailable++;
      continue;
    }
    const newest = new Map<string, number>();
    for (const c of mine) {
      const id = c.path ? chkOf(c.path) : null;
      if (c.ok === true && id) newest.set(id.job, Math.max(newest.get(id.job) ?? -1, id.chk));
      if (c.ok === false && c.path && !seenViolation.has(c.path)) {
        seenViolation.add(c.path);
        out.violations.push(`${c.path}: ${c.loadError ?? (c.missing ?? []).join(", ")}`);
      }
    }
    for (const [job, times] of completed) {
      if (times.size === 0) continue;
      const first = Math.min(...times.values());
      if (s.t < first) continue;
      const n = newest.get(job);
      const t = n === undefined ? undefined : times.get(n);
      if (t === undefined) out.noneRestorable++;
      out.rpoSeconds.push(Math.max(0, (s.t - (t ?? first)) / 1000));
    }
  }
  return out;
}

/** completed.jsonl of a job ({"chk":n,"t":ms} lines) as a map. */
export function parseCompleted(text: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { chk: number; t: number };
      m.set(o.chk, o.t);
    } catch {
      // a torn last line
    }
  }
  return m;
}

/** The first record index a restore from checkpoint `chk` must see: one past the last index counted. */
export function expectedFirstIndex(lastIndexBySubtask: number[]): number {
  return Math.max(...lastIndexBySubtask) + 1;
}

/** Distinct checkpoints of `job` under `root` that the checker saw carrying in-flight data (unaligned). */
export function checkpointsWithChannelState(samples: CheckerSample[], root: string, job: string): number {
  const paths = new Set<string>();
  for (const s of samples) {
    for (const c of s.checkpoints) {
      if (c.root === root && c.path !== undefined && chkOf(c.path)?.job === job && (c.channelStateHandles ?? 0) > 0) paths.add(c.path);
    }
  }
  return paths.size;
}

/**
 * The daemon's log lines of published checkpoints it found no longer restorable and unpublished: its
 * `broken` events (events.ts), a dry run's excepted. Read by the event's field, not by its message.
 */
export function unpublishedByDaemon(text: string): Record<string, unknown>[] {
  return logRecords(text).filter((r) => r.event === "broken" && r.dryRun !== true);
}
