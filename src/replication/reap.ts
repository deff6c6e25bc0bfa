// Mirroring source deletions on the target, safely. planReap() decides (pure,
// testable) from a target view listed afresh (never from a cache); the engine
// executes in the returned order. Checkpoints are told apart by name and
// completion time (a reused job directory's chk-N is another checkpoint). Rules:
// - the newest retain.min restorable checkpoints of a job are always kept;
//   others are kept while they still exist on the source, up to retain.max
//   (savepoints: every one the source still has);
// - a checkpoint goes record -> _metadata -> its directory (exclusive files);
// - a shared file goes only when no kept checkpoint references it and the
//   source no longer has it;
// - an unpublished directory goes only when it will never be published (the
//   source no longer has it, or has it older than the newest published one and
//   outside the newest retain.max); one with a record loses the record first;
// - nothing but our own stale temporaries is deleted when the source view is
//   unhealthy or incomplete, or when a kept checkpoint's references are unknown.

import type { RootPair } from "../config/load.js";
import { joinPath, type Storage } from "../storage/types.js";
import { isTempName, METADATA_FILE, recordPath } from "./layout.js";
import { rootFor } from "./locations.js";
import { sameCompletion } from "./selection.js";
import { newestFirst, type TreeJob, type TreeUnit } from "./scan.js";

export interface PublishedUnit {
  unit: TreeUnit;
  /** Target paths its _metadata references; null when its _metadata cannot be read (keeps everything). */
  references: Set<string> | null;
}

export interface ReapInput {
  sourceJob: TreeJob | undefined;
  /** False when the source root is missing, unreachable or suspiciously empty. */
  sourceHealthy: boolean;
  /** Completion times of the complete source units, by name. */
  sourceCompleted: ReadonlyMap<string, number>;
  /** The target job as listed afresh for this decision. */
  targetJob: TreeJob;
  targetRoot: string;
  roots: RootPair[];
  published: PublishedUnit[];
  /** Target unit directories with a _metadata that is not (yet) readable: never deleted. */
  unreadable: TreeUnit[];
  /** Units of the job that have a replication record. */
  records: ReadonlySet<string>;
  /** Temporaries of record writes that did not finish, in the job's records directory (removed once stale). */
  recordTemporaries?: ReadonlyArray<{ path: string; mtime: number }>;
  retain: { min: number; max: number };
  tempGraceMs: number;
  now: number;
  /**
   * Target paths that checkpoints of OTHER jobs reference (a job restored from another job's checkpoint
   * keeps referencing its shared files), and whether all of those were readable. Never deleted here.
   */
  otherJobs?: { referenced: ReadonlySet<string>; known: boolean };
}

export interface Deletion {
  path: string;
  recursive: boolean;
  reason: string;
  unit?: string;
}

export interface ReapPlan {
  deletions: Deletion[];
  kept: TreeUnit[];
  /** Why destructive steps were skipped, if they were. */
  held: string | null;
}

export function planReap(input: ReapInput): ReapPlan {
  const deletions: Deletion[] = [];
  const temps = staleTemporaries(input);
  const sourceUnits = new Set(input.sourceJob?.units.map((u) => u.name) ?? []);
  const sorted = [...input.published].sort((a, b) => newestFirst(a.unit, b.unit));
  const onSource = (u: TreeUnit) => {
    const at = input.sourceCompleted.get(u.name);
    return at !== undefined && sameCompletion(at, u.metadata?.mtime ?? Number.NaN);
  };

  let held: string | null = null;
  if (!input.sourceHealthy) held = "the source root looks unhealthy";
  else if (input.sourceJob && !input.sourceJob.complete) held = `the source listing of ${input.sourceJob.dir} is incomplete`;
  else if (!input.targetJob.complete) held = `the target listing of ${input.targetJob.dir} is incomplete`;
  if (held !== null) return { deletions: temps, kept: sorted.map((p) => p.unit), held };

  const kept: PublishedUnit[] = [];
  const dropped: PublishedUnit[] = [];
  sorted.forEach((p, i) => {
    // retain.max does not cap savepoints the source still has: the engine would publish them again.
    const still = onSource(p.unit);
    const keep = i < input.retain.min || (still && (i < input.retain.max || p.unit.kind === "savepoint"));
    (keep ? kept : dropped).push(p);
  });

  const referenced = new Set<string>(input.otherJobs?.referenced ?? []);
  let referencesKnown = input.unreadable.length === 0 && (input.otherJobs?.known ?? true);
  for (const k of kept) {
    if (k.references === null) referencesKnown = false;
    else for (const r of k.references) referenced.add(r);
  }
  // Unknown references could point into any directory or shared file of this job: delete nothing of it.
  if (!referencesKnown) {
    return { deletions: temps, kept: sorted.map((p) => p.unit), held: "a checkpoint's references are unknown (unreadable target _metadata)" };
  }
  const referencedUnder = (dir: string) => [...referenced].some((r) => r.startsWith(`${dir}/`));

  for (const d of dropped) {
    const why = onSource(d.unit) ? `beyond retain.max (${input.retain.max})` : "subsumed on the source";
    deletions.push({ path: recordPath(input.targetRoot, d.unit.jobKey, d.unit.name), recursive: false, reason: why, unit: d.unit.name });
    deletions.push({ path: joinPath(d.unit.dir, METADATA_FILE), recursive: false, reason: why, unit: d.unit.name });
    if (!referencedUnder(d.unit.dir)) deletions.push({ path: d.unit.dir, recursive: true, reason: why, unit: d.unit.name });
  }

  // Unpublished directories: proven so by this fresh listing (no _metadata) and kept while the source may
  // still complete or has the checkpoint among those the target would keep.
  const newestPublishedAt = sorted.find((p) => p.unit.kind === "checkpoint")?.unit.metadata?.mtime ?? Number.NEGATIVE_INFINITY;
  const keptOnSource = new Set(
    [...input.sourceCompleted].filter(([name]) => name.startsWith("chk-")).sort((a, b) => b[1] - a[1]).slice(0, input.retain.max).map(([name]) => name),
  );
  const publishedDirs = new Set(input.published.map((p) => p.unit.dir));
  const unreadableDirs = new Set(input.unreadable.map((u) => u.dir));
  for (const u of input.targetJob.units) {
    if (u.metadata !== null || publishedDirs.has(u.dir) || unreadableDirs.has(u.dir) || referencedUnder(u.dir)) continue;
    const completedAt = input.sourceCompleted.get(u.name);
    const gone = !sourceUnits.has(u.name);
    const superseded = u.kind === "checkpoint" && completedAt !== undefined && completedAt < newestPublishedAt && !keptOnSource.has(u.name);
    if (!gone && !superseded) continue;
    const why = gone ? "unpublished copy of a checkpoint the source no longer has" : "unpublished copy of a superseded checkpoint";
    if (input.records.has(u.name)) deletions.push({ path: recordPath(input.targetRoot, u.jobKey, u.name), recursive: false, reason: why, unit: u.name });
    deletions.push({ path: u.dir, recursive: true, reason: why, unit: u.name });
  }

  for (const [path, entry] of input.targetJob.sharedFiles) {
    if (referenced.has(path) || isTempName(entry.name)) continue;
    if (stillOnSource(path, input)) continue;
    deletions.push({ path, recursive: false, reason: "shared file no kept checkpoint references" });
  }

  const deleted = new Set(deletions.filter((d) => d.recursive).map((d) => d.path));
  const underDeleted = (path: string) => [...deleted].some((d) => path.startsWith(`${d}/`));
  return { deletions: [...deletions, ...temps.filter((t) => !underDeleted(t.path))], kept: kept.map((k) => k.unit), held };
}

function stillOnSource(targetPath: string, input: ReapInput): boolean {
  if (!input.sourceJob) return false;
  const pair = rootFor(targetPath, input.roots, "target");
  if (pair === null) return true; // cannot tell: keep
  const sourcePath = `${pair.source === "/" ? "" : pair.source}${targetPath.slice(pair.target === "/" ? 0 : pair.target.length)}`;
  return input.sourceJob.sharedFiles.has(sourcePath);
}

function staleTemporaries(input: ReapInput): Deletion[] {
  const out: Deletion[] = [];
  const stale = (mtime: number) => input.now - mtime > input.tempGraceMs;
  for (const u of input.targetJob.units) {
    for (const e of u.entries) {
      if (e.type === "file" && isTempName(e.name) && stale(e.mtime)) {
        out.push({ path: joinPath(u.dir, e.name), recursive: false, reason: "stale temporary file" });
      }
    }
  }
  for (const [path, e] of input.targetJob.sharedFiles) {
    if (isTempName(e.name) && stale(e.mtime)) out.push({ path, recursive: false, reason: "stale temporary file" });
  }
  for (const t of input.recordTemporaries ?? []) {
    if (stale(t.mtime)) out.push({ path: t.path, recursive: false, reason: "stale temporary file" });
  }
  return out;
}

export interface ReapExecution {
  target: Pick<Storage, "delete">;
  /** Shared by all jobs within one cycle (reap.maxDeletesPerCycle). */
  budget: { remaining: number };
  assertWritable: () => void;
  onDeleted: (d: Deletion) => void;
  onFailed: (d: Deletion, err: unknown) => void;
  onBudgetExhausted: (left: number) => void;
}

/** Carries out a plan in order; stops at the budget, and at a _metadata that could not be deleted. */
export async function executeReap(plan: ReapPlan, x: ReapExecution): Promise<void> {
  for (const [i, d] of plan.deletions.entries()) {
    if (x.budget.remaining <= 0) {
      x.onBudgetExhausted(plan.deletions.length - i);
      return;
    }
    x.assertWritable();
    try {
      const existed = await x.target.delete(d.path, { recursive: d.recursive });
      x.budget.remaining--;
      if (existed) x.onDeleted(d);
    } catch (err) {
      x.onFailed(d, err);
      if (d.path.endsWith(`/${METADATA_FILE}`)) return; // never delete a checkpoint's files while its _metadata stays
    }
  }
}
