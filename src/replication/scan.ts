// Scanning a checkpoint tree (source or target): <root>/<job>/chk-<n>/_metadata,
// <root>/<job>/shared|taskowned/**, savepoint-*/ directories. A directory's
// listing is reused only when the modification time that vouches for it was read
// from a fresh listing of its parent (a reused listing's own children carry old
// times and vouch for nothing): roots and job directories are listed on every
// scan, checkpoint and shared directories when they changed. An unchanged tree
// costs one listing per root and per job; every Nth scan lists everything. On a
// storage without directory mtimes (an object store) nothing is cached, and where
// listings do not show the mtime a write set, each _metadata is stat'ed.
// scanJob() lists one job without the cache, for decisions that delete. Listings
// are held compact (listing.ts), in the cache and in the snapshots alike.

import PQueue from "p-queue";
import { errorMessage } from "../util/errors.js";
import { joinPath, type Entry, type ReadOnlyStorage } from "../storage/types.js";
import { classifyUnitDir, isHiddenName, isSharedStateDir, METADATA_FILE, type UnitKind } from "./layout.js";
import { CompactListing } from "./listing.js";

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
  sharedFiles: ReadonlyMap<string, Entry>;
  /** False when some listing of this job failed: its view is incomplete, never delete on its basis. */
  complete: boolean;
  problems: string[];
  /** For a job from scanJob(): its own directory listings (path -> entries by name). */
  listings?: Map<string, ReadonlyMap<string, Entry>>;
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
  listings: Map<string, ReadonlyMap<string, Entry>>;
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
  /** The entries by name, compact, shared with every snapshot that reuses the listing (never copied per scan); null: the directory does not exist. */
  listing: CompactListing | null;
}

/**
 * The files of a job's shared directories as one path -> entry map, backed by the directories' own
 * listings (by name): no per-file key or copy is kept, so a scan holds each listed file once.
 */
export class DirectoryFiles implements ReadonlyMap<string, Entry> {
  private readonly dirs = new Map<string, CompactListing>();
  private count = 0;

  /** Adds the files (not the subdirectories) of one listed directory. */
  addDirectory(dir: string, listing: CompactListing): void {
    if (this.dirs.has(dir)) return;
    this.dirs.set(dir, listing);
    this.count += listing.fileCount;
  }

  get size(): number {
    return this.count;
  }

  get(path: string): Entry | undefined {
    const slash = path.lastIndexOf("/");
    const e = this.dirs.get(path.slice(0, slash))?.get(path.slice(slash + 1));
    return e?.type === "file" ? e : undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  *entries(): MapIterator<[string, Entry]> {
    for (const [dir, byName] of this.dirs) for (const e of byName.values()) if (e.type === "file") yield [joinPath(dir, e.name), e];
  }

  *keys(): MapIterator<string> {
    for (const [path] of this.entries()) yield path;
  }

  *values(): MapIterator<Entry> {
    for (const [, e] of this.entries()) yield e;
  }

  [Symbol.iterator](): MapIterator<[string, Entry]> {
    return this.entries();
  }

  forEach(fn: (value: Entry, key: string, map: ReadonlyMap<string, Entry>) => void): void {
    for (const [path, e] of this.entries()) fn(e, path, this);
  }
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
    const list = this.lister(queue, snapshot, { useCache: !full && this.o.storage.capabilities.directoryMtimes, seen });

    await Promise.all(
      this.o.roots.map(async (root) => {
        const result: TreeRoot = { root, healthy: true, jobCount: 0 };
        snapshot.roots.push(result);
        let children: Entry[] | null;
        try {
          children = entriesOf(await list(root, null));
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
        const rootSavepoints: TreeJob = newJob("", root, root);
        const jobs: Promise<void>[] = [];
        for (const child of children) {
          if (child.type !== "dir" || isHiddenName(child.name)) continue;
          const unit = classifyUnitDir(child.name);
          if (unit?.kind === "savepoint") {
            jobs.push(this.addUnit(rootSavepoints, child, true, list));
          } else if (unit === null) {
            result.jobCount++;
            const job = newJob(child.name, root, joinPath(root, child.name));
            snapshot.jobs.set(job.dir, job);
            jobs.push(this.walkJob(job, list));
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

  /**
   * One job directory listed afresh, every level, without reading the cache: the view that deletions and
   * re-verification are planned from. Listing failures make the job incomplete (never delete on its basis).
   */
  async scanJob(root: string, key: string): Promise<TreeJob> {
    const queue = new PQueue({ concurrency: this.o.listConcurrency });
    const snapshot: TreeSnapshot = { takenAt: Date.now(), roots: [], jobs: new Map(), listings: new Map(), requests: 0 };
    const list = this.lister(queue, snapshot, { useCache: false });
    const job = newJob(key, root, key === "" ? root : joinPath(root, key));
    if (key === "") {
      // Savepoints directly under the root.
      let children: Entry[] | null;
      try {
        children = entriesOf(await list(root, null));
      } catch (err) {
        job.complete = false;
        job.problems.push(`cannot list ${root}: ${errorMessage(err)}`);
        return job;
      }
      await Promise.all((children ?? []).filter((c) => c.type === "dir" && classifyUnitDir(c.name)?.kind === "savepoint").map((c) => this.addUnit(job, c, true, list)));
    } else {
      await this.walkJob(job, list, { missingIsEmpty: true });
    }
    job.listings = snapshot.listings;
    return job;
  }

  /**
   * The listing function of one scan. `vouch` is the directory's modification time as read from its
   * parent's listing, with whether that listing was fresh; only a fresh one lets the cache answer.
   */
  private lister(queue: PQueue, snapshot: TreeSnapshot, o: { useCache: boolean; seen?: Set<string> }): ListFn {
    return async (path, vouch) => {
      o.seen?.add(path);
      const cached = this.cache.get(path);
      if (o.useCache && vouch !== null && vouch.fresh && cached && cached.mtime === vouch.mtime) {
        if (cached.listing) snapshot.listings.set(path, cached.listing);
        return { listing: cached.listing, fresh: false };
      }
      snapshot.requests++;
      const listedAt = Date.now();
      const entries = await queue.add(() => this.o.storage.list(path));
      // The listing's Entry objects are dropped here: only the compact form is kept, by the cache and the snapshot.
      const listing = entries === null ? null : CompactListing.of(entries);
      // A change made in the same clock tick as the listing leaves the mtime as it was: only a listing
      // taken well after the directory last changed may be reused.
      if (this.o.storage.capabilities.directoryMtimes && vouch !== null && vouch.fresh && listedAt - vouch.mtime > LISTING_SETTLE_MS) this.cache.set(path, { mtime: vouch.mtime, listing });
      else this.cache.delete(path);
      if (listing) snapshot.listings.set(path, listing);
      return { listing, fresh: true };
    };
  }

  private async walkJob(job: TreeJob, list: ListFn, o: { missingIsEmpty?: boolean } = {}): Promise<void> {
    let children: Entry[] | null;
    try {
      // Job directories are always listed afresh: their entries' times vouch for the levels below.
      children = entriesOf(await list(job.dir, null));
    } catch (err) {
      job.complete = false;
      job.problems.push(`cannot list ${job.dir}: ${errorMessage(err)}`);
      return;
    }
    if (children === null) {
      if (o.missingIsEmpty) return; // nothing there yet (a job not replicated before): a complete, empty view
      job.complete = false;
      job.problems.push(`${job.dir} disappeared during the scan`);
      return;
    }
    await Promise.all(
      children.map(async (child) => {
        if (child.type !== "dir") return;
        if (isSharedStateDir(child.name)) return this.walkShared(job, joinPath(job.dir, child.name), { mtime: child.mtime, fresh: true }, 0, list);
        if (classifyUnitDir(child.name) !== null) return this.addUnit(job, child, true, list);
        return undefined;
      }),
    );
  }

  private async addUnit(job: TreeJob, dirEntry: Entry, entryFresh: boolean, list: ListFn): Promise<void> {
    const name = classifyUnitDir(dirEntry.name);
    if (name === null) return;
    const dir = joinPath(job.dir, dirEntry.name);
    let entries: Entry[] | null;
    try {
      entries = entriesOf(await list(dir, { mtime: dirEntry.mtime, fresh: entryFresh }));
    } catch (err) {
      job.complete = false;
      job.problems.push(`cannot list ${dir}: ${errorMessage(err)}`);
      return;
    }
    if (entries === null) return; // deleted between the two listings: it is gone
    let metadata = entries.find((e) => e.name === METADATA_FILE && e.type === "file") ?? null;
    if (metadata && (!this.o.storage.capabilities.listedMtimes || this.o.refreshMetadata?.(dir, metadata))) {
      try {
        metadata = await this.o.storage.stat(joinPath(dir, METADATA_FILE));
      } catch (err) {
        job.complete = false;
        job.problems.push(`cannot stat ${dir}/${METADATA_FILE}: ${errorMessage(err)}`);
      }
    }
    job.units.push({ jobKey: job.key, root: job.root, kind: name.kind, name: name.name, checkpointId: name.checkpointId, dir, metadata, entries });
  }

  private async walkShared(job: TreeJob, dir: string, vouch: Vouch, depth: number, list: ListFn): Promise<void> {
    let listed: Listed;
    try {
      listed = await list(dir, vouch);
    } catch (err) {
      job.complete = false;
      job.problems.push(`cannot list ${dir}: ${errorMessage(err)}`);
      return;
    }
    if (listed.listing === null) return;
    (job.sharedFiles as DirectoryFiles).addDirectory(dir, listed.listing);
    const subdirs: Promise<void>[] = [];
    if (depth < (this.o.maxSharedDepth ?? 4)) {
      for (const e of listed.listing.directories()) subdirs.push(this.walkShared(job, joinPath(dir, e.name), { mtime: e.mtime, fresh: listed.fresh }, depth + 1, list));
    }
    await Promise.all(subdirs);
  }
}

interface Vouch {
  mtime: number;
  /** Read from a listing taken by this scan (not from the cache). */
  fresh: boolean;
}

interface Listed {
  listing: CompactListing | null;
  fresh: boolean;
}

type ListFn = (path: string, vouch: Vouch | null) => Promise<Listed>;

/** A small directory's entries as an array (roots, jobs, checkpoint directories); null when it does not exist. */
function entriesOf(listed: Listed): Entry[] | null {
  return listed.listing === null ? null : listed.listing.toArray();
}

function newJob(key: string, root: string, dir: string): TreeJob {
  return { key, root, dir, units: [], sharedFiles: new DirectoryFiles(), complete: true, problems: [] };
}

/**
 * Newest first by completion: a unit's _metadata time is when it completed (on the target, the publish
 * step gives the copy the source's time), so a job that restarted in the same directory with its ids
 * counting from 1 again orders after its previous run. Equal times fall back to the checkpoint id.
 */
export function newestFirst(a: TreeUnit, b: TreeUnit): number {
  const byTime = (b.metadata?.mtime ?? 0) - (a.metadata?.mtime ?? 0);
  if (byTime !== 0) return byTime;
  if (a.kind === "checkpoint" && b.kind === "checkpoint") return b.checkpointId - a.checkpointId;
  return 0;
}
