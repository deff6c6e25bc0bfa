// Mirroring source deletions on the target, safely. planReap() decides (pure,
// testable); the engine executes in the returned order. Rules:
// - the newest retain.min restorable checkpoints of a job are always kept;
//   others are kept while they still exist on the source, up to retain.max
//   (savepoints: every one the source still has);
// - a checkpoint goes record -> _metadata -> its directory (exclusive files);
// - a shared file goes only when no kept checkpoint references it and the
//   source no longer has it;
// - nothing but our own stale temporaries is deleted when the source view is
//   unhealthy or incomplete, or when a kept checkpoint's references are unknown.

import type { RootPair } from "../config/load.js";
import { joinPath, type Storage } from "../storage/types.js";
import { isTempName, METADATA_FILE, recordPath } from "./layout.js";
import { rootFor } from "./locations.js";
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
  targetJob: TreeJob;
  targetRoot: string;
  roots: RootPair[];
  published: PublishedUnit[];
  /** Target unit directories with a _metadata that is not (yet) readable: never deleted. */
  unreadable: TreeUnit[];
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

  let held: string | null = null;
  if (!input.sourceHealthy) held = "the source root looks unhealthy";
  else if (input.sourceJob && !input.sourceJob.complete) held = `the source listing of ${input.sourceJob.dir} is incomplete`;
  else if (!input.targetJob.complete) held = `the target listing of ${input.targetJob.dir} is incomplete`;
  if (held !== null) return { deletions: temps, kept: sorted.map((p) => p.unit), held };

  const kept: PublishedUnit[] = [];
  const dropped: PublishedUnit[] = [];
  sorted.forEach((p, i) => {
    // retain.max does not cap savepoints the source still has: the engine would publish them again.
    const onSource = sourceUnits.has(p.unit.name);
    const keep = i < input.retain.min || (onSource && (i < input.retain.max || p.unit.kind === "savepoint"));
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
    const why = sourceUnits.has(d.unit.name) ? `beyond retain.max (${input.retain.max})` : "subsumed on the source";
    deletions.push({ path: recordPath(input.targetRoot, d.unit.jobKey, d.unit.name), recursive: false, reason: why, unit: d.unit.name });
    deletions.push({ path: joinPath(d.unit.dir, METADATA_FILE), recursive: false, reason: why, unit: d.unit.name });
    if (!referencedUnder(d.unit.dir)) deletions.push({ path: d.unit.dir, recursive: true, reason: why, unit: d.unit.name });
  }

  const newestPublished = sorted.find((p) => p.unit.kind === "checkpoint")?.unit.checkpointId ?? -1;
  const publishedDirs = new Set(input.published.map((p) => p.unit.dir));
  const unreadableDirs = new Set(input.unreadable.map((u) => u.dir));
  for (const u of input.targetJob.units) {
    if (publishedDirs.has(u.dir) || unreadableDirs.has(u.dir) || referencedUnder(u.dir)) continue;
    const superseded = u.kind === "checkpoint" && u.checkpointId < newestPublished;
    if (!sourceUnits.has(u.name) || superseded) {
      deletions.push({ path: u.dir, recursive: true, reason: "unpublished copy that will never be published", unit: u.name });
    }
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
