// Scanning a checkpoint tree (source or target): <root>/<job>/chk-<n>/_metadata,
// <root>/<job>/shared|taskowned/**, savepoint-*/ directories. Listings are cached
// by directory modification time, so an unchanged tree costs one listing per
// root plus one per changed (or recently changed) directory; every Nth scan
// lists everything.

import PQueue from "p-queue";
import { errorMessage } from "../util/errors.js";
import { joinPath, type Entry, type ReadOnlyStorage } from "../storage/types.js";
import { classifyUnitDir, isHiddenName, isSharedStateDir, METADATA_FILE, type UnitKind } from "./layout.js";

export interface TreeUnit {
  /** Job directory relative to the root ("" for savepoints directly under the root). */
  jobKey: string;
  root: string;
  kind: UnitKind;
  name: string;
  checkpointId: number;
  /** Absolute path of the checkpoint/savepoint directory. */
  dir: string;
  /** Status of its _metadata, or null when there is none (yet). */
  metadata: Entry | null;
  /** Entries of the unit directory (exclusive state files, temporaries). */
  entries: Entry[];
}

export interface TreeJob {
  key: string;
  root: string;
  dir: string;
  units: TreeUnit[];
  /** Files below shared/ and taskowned/ (absolute path -> entry). */
  sharedFiles: Map<string, Entry>;
  /** False when some listing of this job failed: its view is incomplete, never delete on its basis. */
  complete: boolean;
  problems: string[];
}

export interface TreeRoot {
  root: string;
  /** False when the root is missing, unreachable or suspiciously empty: never delete on its basis. */
  healthy: boolean;
  problem?: string;
  /** Why the root is unhealthy, typed (callers branch on this, never on `problem`'s text). */
  reason?: TreeRootProblem;
  /** The listing error when reason is "unreadable". */
  error?: unknown;
  jobCount: number;
}

/** missing: the root does not exist; unreadable: listing it failed; emptied: it lost every job (see problem). */
export type TreeRootProblem = "missing" | "unreadable" | "emptied";

export interface TreeSnapshot {
  takenAt: number;
  roots: TreeRoot[];
  /** Keyed by the job directory's absolute path. */
  jobs: Map<string, TreeJob>;
  /** Directory listings taken by this scan, for length look-ups (path -> entries by name). */
  listings: Map<string, Map<string, Entry>>;
  requests: number;
}

export interface ScannerOptions {
  storage: ReadOnlyStorage;
  roots: string[];
  listConcurrency: number;
  fullRescanEvery: number;
  /** For the source: _metadata not yet known complete is stat'ed afresh (it is written in place). */
  refreshMetadata?: (unitDir: string, listed: Entry) => boolean;
  /** How deep to follow subdirectories of shared/ and taskowned/. */
  maxSharedDepth?: number;
}

/**
 * A listing taken this soon after its directory last changed is not cached. Directory mtimes are coarse (a
 * local filesystem stamps them with the kernel's tick clock, 1-10 ms; HDFS with the NameNode's milliseconds),
 * so a child added in the same tick as an earlier listing leaves the mtime as it was. The margin also absorbs
 * modest clock differences between hosts; beyond it the periodic full rescan is the backstop.
 */
export const LISTING_SETTLE_MS = 50;

interface CachedListing {
  mtime: number;
  entries: Entry[] | null;
}

export class TreeScanner {
  private readonly cache = new Map<string, CachedListing>();
  private scans = 0;
  private readonly jobsSeen = new Map<string, number>();

  constructor(private readonly o: ScannerOptions) {}

  /** Forget cached listings (e.g. after this process wrote below `path`). */
  invalidate(path: string): void {
    for (const key of this.cache.keys()) if (key === path || key.startsWith(`${path}/`)) this.cache.delete(key);
  }

  async scan(): Promise<TreeSnapshot> {
    const full = this.scans % this.o.fullRescanEvery === 0;
    this.scans++;
    const queue = new PQueue({ concurrency: this.o.listConcurrency });
    const snapshot: TreeSnapshot = { takenAt: Date.now(), roots: [], jobs: new Map(), listings: new Map(), requests: 0 };
    const seen = new Set<string>();

    const list = async (path: string, mtime: number | undefined): Promise<Entry[] | null> => {
      seen.add(path);
      const cached = this.cache.get(path);
      let entries: Entry[] | null;
      if (!full && cached && mtime !== undefined && cached.mtime === mtime) {
        entries = cached.entries;
      } else {
        snapshot.requests++;
        const listedAt = Date.now();
        entries = await queue.add(() => this.o.storage.list(path));
        // A change made in the same clock tick as the listing leaves the mtime as it was: only a listing
        // taken well after the directory last changed may be reused.
        if (mtime !== undefined && listedAt - mtime > LISTING_SETTLE_MS) this.cache.set(path, { mtime, entries });
        else this.cache.delete(path);
      }
      if (entries) snapshot.listings.set(path, new Map(entries.map((e) => [e.name, e])));
      return entries;
    };

    await Promise.all(
      this.o.roots.map(async (root) => {
        const result: TreeRoot = { root, healthy: true, jobCount: 0 };
        snapshot.roots.push(result);
        let children: Entry[] | null;
        try {
          snapshot.requests++;
          children = await queue.add(() => this.o.storage.list(root));
        } catch (err) {
          result.healthy = false;
          result.problem = `cannot list ${root}: ${errorMessage(err)}`;
          result.reason = "unreadable";
          result.error = err;
          return;
        }
        if (children === null) {
          result.healthy = false;
          result.problem = `${root} does not exist`;
          result.reason = "missing";
          return;
        }
        snapshot.listings.set(root, new Map(children.map((e) => [e.name, e])));
        const rootSavepoints: TreeJob = newJob("", root, root);
        const jobs: Promise<void>[] = [];
        for (const child of children) {
          if (child.type !== "dir" || isHiddenName(child.name)) continue;
          const unit = classifyUnitDir(child.name);
          if (unit?.kind === "savepoint") {
            jobs.push(this.addUnit(rootSavepoints, child, list));
          } else if (unit === null) {
            result.jobCount++;
            const job = newJob(child.name, root, joinPath(root, child.name));
            snapshot.jobs.set(job.dir, job);
            jobs.push(this.walkJob(job, child.mtime, list));
          }
        }
        await Promise.all(jobs);
        if (rootSavepoints.units.length > 0) snapshot.jobs.set(root, rootSavepoints);
        const before = this.jobsSeen.get(root) ?? 0;
        if (result.jobCount === 0 && rootSavepoints.units.length === 0 && before > 0) {
          result.healthy = false;
          result.problem = `${root} is empty but held ${before} job(s) in the previous scan`;
          result.reason = "emptied";
        }
        this.jobsSeen.set(root, result.jobCount + rootSavepoints.units.length);
      }),
    );
    for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
    return snapshot;
  }

  private async walkJob(job: TreeJob, mtime: number, list: (p: string, m: number | undefined) => Promise<Entry[] | null>): Promise<void> {
    let children: Entry[] | null;
    try {
      children = await list(job.dir, mtime);
    } catch (err) {
      job.complete = false;
      job.problems.push(`cannot list ${job.dir}: ${errorMessage(err)}`);
      return;
    }
    if (children === null) {
      job.complete = false;
      job.problems.push(`${job.dir} disappeared during the scan`);
      return;
    }
    await Promise.all(
      children.map(async (child) => {
        if (child.type !== "dir") return;
        if (isSharedStateDir(child.name)) return this.walkShared(job, joinPath(job.dir, child.name), child.mtime, 0, list);
        if (classifyUnitDir(child.name) !== null) return this.addUnit(job, child, list);
        return undefined;
      }),
    );
  }

  private async addUnit(job: TreeJob, dirEntry: Entry, list: (p: string, m: number | undefined) => Promise<Entry[] | null>): Promise<void> {
    const name = classifyUnitDir(dirEntry.name);
    if (name === null) return;
    const dir = joinPath(job.dir, dirEntry.name);
    let entries: Entry[] | null;
    try {
      entries = await list(dir, dirEntry.mtime);
    } catch (err) {
      job.complete = false;
      job.problems.push(`cannot list ${dir}: ${errorMessage(err)}`);
      return;
    }
    if (entries === null) return; // deleted between the two listings: it is gone
    let metadata = entries.find((e) => e.name === METADATA_FILE && e.type === "file") ?? null;
    if (metadata && this.o.refreshMetadata?.(dir, metadata)) {
      try {
        metadata = await this.o.storage.stat(joinPath(dir, METADATA_FILE));
      } catch (err) {
        job.complete = false;
        job.problems.push(`cannot stat ${dir}/${METADATA_FILE}: ${errorMessage(err)}`);
      }
    }
    job.units.push({ jobKey: job.key, root: job.root, kind: name.kind, name: name.name, checkpointId: name.checkpointId, dir, metadata, entries });
  }

  private async walkShared(
    job: TreeJob,
    dir: string,
    mtime: number,
    depth: number,
    list: (p: string, m: number | undefined) => Promise<Entry[] | null>,
  ): Promise<void> {
    let entries: Entry[] | null;
    try {
      entries = await list(dir, mtime);
    } catch (err) {
      job.complete = false;
      job.problems.push(`cannot list ${dir}: ${errorMessage(err)}`);
      return;
    }
    if (entries === null) return;
    const subdirs: Promise<void>[] = [];
    for (const e of entries) {
      const path = joinPath(dir, e.name);
      if (e.type === "file") job.sharedFiles.set(path, e);
      else if (depth < (this.o.maxSharedDepth ?? 4)) subdirs.push(this.walkShared(job, path, e.mtime, depth + 1, list));
    }
    await Promise.all(subdirs);
  }
}

function newJob(key: string, root: string, dir: string): TreeJob {
  return { key, root, dir, units: [], sharedFiles: new Map(), complete: true, problems: [] };
}

/** Newest first: checkpoints by id, savepoints by _metadata time. */
export function newestFirst(a: TreeUnit, b: TreeUnit): number {
  if (a.kind === "checkpoint" && b.kind === "checkpoint") return b.checkpointId - a.checkpointId;
  return (b.metadata?.mtime ?? 0) - (a.metadata?.mtime ?? 0);
}
