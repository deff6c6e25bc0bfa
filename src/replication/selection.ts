// Which source checkpoints a job sync tries to publish, and in what order: a pure
// decision from the complete source checkpoints, the checkpoints verified
// restorable on the target and those the target lost (a replication record whose
// _metadata is gone or broken). Checkpoints are told apart by name and completion
// time, so a job that restarted in the same directory (ids counting from 1 again)
// is a new run, not an old one.

import type { UnitKind } from "./layout.js";

export interface SourceUnit {
  name: string;
  kind: UnitKind;
  checkpointId: number;
  /** Source _metadata modification time, ms: when the checkpoint completed. */
  completedAt: number;
}

export interface TargetUnit {
  name: string;
  kind: UnitKind;
  checkpointId: number;
  /** The source completion time the published copy carries (its _metadata time). */
  completedAt: number;
}

export interface SelectionInput {
  /** Complete source units, any order. */
  source: SourceUnit[];
  /** Units verified restorable on the target. */
  restorable: TargetUnit[];
  /** Names of units the target has a replication record for but no restorable _metadata. */
  lost: ReadonlySet<string>;
  /** retain.max: how many of the newest source checkpoints the target keeps. */
  retainMax: number;
  /** resync: every kept checkpoint, not only the newest. */
  complete: boolean;
}

export interface Selection {
  /**
   * Checkpoints newer than the newest restorable one, newest first: the daemon publishes the first that
   * succeeds and skips the older ones (in complete mode every kept one is published).
   */
  newer: SourceUnit[];
  /** Kept checkpoints to publish (again) whatever their age: lost ones, and in complete mode every unpublished kept one. */
  backfill: SourceUnit[];
  /** Savepoints the target does not have. */
  savepoints: SourceUnit[];
  /** Set when the newest source checkpoint has a lower id than the newest restorable one: the job restarted in place. */
  newRun: { newestId: number; previousId: number } | null;
}

/** Two completion times of one checkpoint (the copy's time is set to the source's; allow for coarse clocks). */
export function sameCompletion(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1000;
}

export function newestByCompletion<T extends { completedAt: number; checkpointId: number }>(a: T, b: T): number {
  return b.completedAt - a.completedAt || b.checkpointId - a.checkpointId;
}

export function isSameUnit(s: SourceUnit, t: TargetUnit): boolean {
  return s.name === t.name && sameCompletion(s.completedAt, t.completedAt);
}

export function selectForPublishing(input: SelectionInput): Selection {
  const has = (s: SourceUnit) => input.restorable.some((t) => isSameUnit(s, t));
  const checkpoints = input.source.filter((s) => s.kind === "checkpoint").sort(newestByCompletion);
  const kept = checkpoints.slice(0, Math.max(1, input.retainMax));
  const newestTarget = input.restorable.filter((t) => t.kind === "checkpoint").sort(newestByCompletion)[0];

  const newer = checkpoints.filter((s) => !has(s) && (newestTarget === undefined || s.completedAt > newestTarget.completedAt));
  const inNewer = new Set(newer.map((s) => s.name));
  const backfill = kept.filter((s) => !has(s) && !inNewer.has(s.name) && (input.complete || input.lost.has(s.name)));
  const savepoints = input.source.filter((s) => s.kind === "savepoint" && !has(s)).sort(newestByCompletion);

  const newestSource = checkpoints[0];
  const newRun =
    newestSource !== undefined && newestTarget !== undefined && newestSource.completedAt > newestTarget.completedAt && newestSource.checkpointId < newestTarget.checkpointId
      ? { newestId: newestSource.checkpointId, previousId: newestTarget.checkpointId }
      : null;
  return { newer: input.complete ? newer.filter((s) => kept.includes(s)) : newer, backfill, savepoints, newRun };
}
