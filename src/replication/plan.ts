// Planning the publication of one checkpoint: map each file of its reference
// closure from its source location to a source path and a target path, find
// the source length, and decide which files the target still lacks. A reference
// that cannot be mapped makes the checkpoint unpublishable (reported, no crash).

import type { RootPair } from "../config/load.js";
import type { ClosureFile } from "./closure-files.js";
import { baseName, parentOf, type Entry, type ReadOnlyStorage } from "../storage/types.js";
import { targetPathFor, type ClusterLocator } from "./locations.js";
import type { TreeSnapshot } from "./scan.js";

export interface PlannedFile {
  source: string;
  target: string;
  /** Bytes the checkpoint needs (state size, or a segment's end offset). */
  required: number;
  shared: boolean;
  /** Source length and block size; absent when the source file is gone. */
  sourceEntry: Entry | null;
  /** True when the target already has the file with the source's length. */
  present: boolean;
}

export interface UnitPlan {
  files: PlannedFile[];
  /** Why the checkpoint cannot be published at all (unmappable references). */
  unpublishable: string[];
  /** Source files the closure needs that are gone or shorter than needed. */
  vanished: string[];
}

export interface PlanContext {
  source: ReadOnlyStorage;
  sourceLocator: ClusterLocator;
  roots: RootPair[];
  sourceSnapshot: TreeSnapshot;
  targetSnapshot: TreeSnapshot;
  /** Fresh target listings (the job's own directories, this sync): they answer before the snapshot. */
  targetListings?: ReadonlyMap<string, ReadonlyMap<string, Entry>>;
  signal?: AbortSignal;
}

export function mapReferences(references: Iterable<ClosureFile>, locator: ClusterLocator, roots: RootPair[]) {
  const mapped = new Map<string, { source: string; target: string; required: number; shared: boolean }>();
  const unpublishable: string[] = [];
  for (const ref of references) {
    const sourcePath = locator.pathOf(ref.location);
    if (sourcePath === null) {
      unpublishable.push(`references ${ref.location}, which is not on the source cluster`);
      continue;
    }
    const target = targetPathFor(sourcePath, roots);
    if (target === null) {
      unpublishable.push(`references ${sourcePath}, outside every configured source root`);
      continue;
    }
    const prior = mapped.get(target);
    if (prior) prior.required = Math.max(prior.required, ref.size, 0);
    else mapped.set(target, { source: sourcePath, target, required: Math.max(0, ref.size), shared: ref.shared });
  }
  return { mapped: [...mapped.values()], unpublishable };
}

export async function planUnit(references: Iterable<ClosureFile>, ctx: PlanContext): Promise<UnitPlan> {
  const { mapped, unpublishable } = mapReferences(references, ctx.sourceLocator, ctx.roots);
  const vanished: string[] = [];
  const files = await Promise.all(
    mapped.map(async (m): Promise<PlannedFile> => {
      let sourceEntry: Entry | null | undefined = lookup(ctx.sourceSnapshot, m.source);
      // A listing taken while the file was still being written shows it short: ask again.
      if (sourceEntry === undefined || sourceEntry === null || sourceEntry.length < m.required) {
        sourceEntry = await ctx.source.stat(m.source, ctx.signal ? { signal: ctx.signal } : {});
      }
      if (sourceEntry === null || sourceEntry.type !== "file" || sourceEntry.length < m.required) vanished.push(m.source);
      const targetEntry = targetEntryOf(ctx, m.target);
      const present = !!sourceEntry && !!targetEntry && targetEntry.type === "file" && targetEntry.length === sourceEntry.length;
      return { ...m, sourceEntry: sourceEntry ?? null, present };
    }),
  );
  return { files, unpublishable, vanished };
}

/**
 * What a unit's closure lacks on the target, from the listings at hand (no request is made): target path ->
 * source length (the size the checkpoint needs when the source listing does not show the file). The
 * backlog's estimate; planUnit decides the actual copy when the unit's turn comes.
 */
export function missingOnTarget(references: Iterable<ClosureFile>, ctx: Omit<PlanContext, "source" | "signal">): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of mapReferences(references, ctx.sourceLocator, ctx.roots).mapped) {
    const sourceEntry = lookup(ctx.sourceSnapshot, m.source);
    const length = sourceEntry && sourceEntry.type === "file" && sourceEntry.length >= m.required ? sourceEntry.length : m.required;
    const targetEntry = targetEntryOf(ctx, m.target);
    if (targetEntry && targetEntry.type === "file" && targetEntry.length === length) continue;
    out.set(m.target, length);
  }
  return out;
}

/** A target path's entry: from the fresh listings of the job when they cover its directory, else from the snapshot. */
function targetEntryOf(ctx: Pick<PlanContext, "targetListings" | "targetSnapshot">, path: string): Entry | null | undefined {
  return ctx.targetListings?.has(parentOf(path)) ? (ctx.targetListings.get(parentOf(path))?.get(baseName(path)) ?? null) : lookup(ctx.targetSnapshot, path);
}

/** Entry of a path from the snapshot's listings: undefined when its directory was not listed. */
function lookup(snapshot: TreeSnapshot, path: string): Entry | null | undefined {
  const dir = snapshot.listings.get(parentOf(path));
  if (dir === undefined) return undefined;
  return dir.get(baseName(path)) ?? null;
}

/**
 * With copy.checksum on, a file counts as present only when its HDFS checksum also equals the source's
 * (different algorithms, e.g. other block sizes, are not comparable and fall back to length). Each
 * (target path, length) pair is confirmed once per process: checksums make the DataNodes read whole files.
 */
export async function confirmPresentByChecksum(
  files: PlannedFile[],
  source: Pick<ReadOnlyStorage, "checksum">,
  target: Pick<ReadOnlyStorage, "checksum">,
  confirmed: Set<string>,
  signal?: AbortSignal,
): Promise<void> {
  const io = signal ? { signal } : {};
  await Promise.all(
    files.map(async (f) => {
      if (!f.present || !f.sourceEntry) return;
      const key = `${f.target}:${f.sourceEntry.length}`;
      if (confirmed.has(key)) return;
      const [a, b] = await Promise.all([source.checksum(f.source, io), target.checksum(f.target, io)]);
      if (a !== null && b !== null && a.split(":")[0] === b.split(":")[0] && a !== b) {
        f.present = false;
        return;
      }
      confirmed.add(key);
    }),
  );
}
