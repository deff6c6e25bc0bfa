// The replication engine for one source/target pair: owns the scanners, the
// metadata catalogs, the copier and one JobReplicator per job, and runs cycles
// (scan both sides -> sync each job). `run` keeps cycling; `resync` runs one
// cycle and waits for it. Jobs are independent: one job's failure or long copy
// does not hold the others back.

import { setMaxListeners } from "node:events";
import type { Config } from "../config/load.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { FencedStorage, joinPath, type ReadOnlyStorage, type Storage } from "../storage/types.js";
import { BandwidthLimiter, ByteBudget } from "./bandwidth.js";
import { Copier } from "./copy.js";
import { EventStream, toHooks, type EngineEvent } from "./events.js";
import { JobReplicator, lagSecondsOf, type EngineDeps, type SyncOutcome } from "./job.js";
import { DeleteLimit, filesUnderRoots, type DeleteLimitState } from "./delete-limit.js";
import { ADMIN_DIR } from "./layout.js";
import { LargeCheckpointTurns, Turns, VERIFY_SLOTS } from "./large-checkpoints.js";
import { Lease } from "./lease.js";
import { LeftBehind } from "./left-behind.js";
import { targetPathFor } from "./locations.js";
import { bundleSide, type ReplicationSide } from "./sides.js";
import type { TreeJob, TreeSnapshot } from "./scan.js";
import type { EngineHooks, JobStatus } from "./status.js";

export interface EngineOptions {
  config: Config;
  /** Only ever read: the type has no method that writes. */
  source: ReadOnlyStorage;
  target: Storage;
  logger: Logger;
  hooks?: EngineHooks;
  /** Take the single-writer lease (run, resync); read-only commands do not. */
  useLease?: boolean;
}

export interface CycleOptions {
  /** Wait for every job's sync to finish (resync) instead of leaving long copies running (run). */
  wait?: boolean;
  dryRun?: boolean;
  /** Publish every complete checkpoint the target keeps, not only the newest (see SyncOptions.complete). */
  complete?: boolean;
  job?: string;
  /** Only jobs this accepts (--include-job / --exclude-job patterns); the others are left alone. */
  jobFilter?: (job: string) => boolean;
  signal?: AbortSignal;
}

export interface CycleReport {
  source: TreeSnapshot;
  target: TreeSnapshot;
  outcomes: Map<string, SyncOutcome>;
  started: string[];
  /** The run-wide max-delete threshold (reap.maxDelete) and what the jobs of this cycle used of it. */
  deleteLimit: DeleteLimitState;
}

/** The least time a stop gives each clean-up step after a wait for the copies that used its whole deadline. */
export const STOP_CLEANUP_FLOOR_MS = 2000;

/** What a stop could not clean up (empty lists and true: everything it aborted removed its temporary). */
export interface StopOutcome {
  /** Every job sync had settled by the stop's deadline (else copies may still have held temporaries). */
  drained: boolean;
  /** Temporaries of aborted writes (copies, publications, records) still on the target: their removal failed twice. */
  temporariesLeft: string[];
  /** Further ones not listed (beyond what the engine remembers by name). */
  temporariesLeftUnlisted: number;
}

export interface EngineStatus {
  jobs: JobStatus[];
  lastScanAt: number | null;
  lastScanOk: boolean;
  sourceRootsHealthy: boolean;
  /** False when a target root could not be listed in the last scan (unreachable, listing failed); a missing root is fine. */
  targetRootsHealthy?: boolean;
  copyQueue: number;
  bytesInFlight: number;
  bandwidth: number;
}

export class Engine {
  private config: Config;
  readonly source: ReadOnlyStorage;
  readonly target: Storage;
  private readonly logger: Logger;
  private readonly hooks: EngineHooks;
  /** The two sides as the engine sees them (the target's storage fenced by the lease). */
  readonly sourceSide: ReplicationSide<ReadOnlyStorage>;
  readonly targetSide: ReplicationSide<Storage>;
  private readonly limiter: BandwidthLimiter;
  private readonly budget: ByteBudget;
  private readonly copier: Copier;
  /** Temporaries whose removal failed, of every staged write the engine makes (copies, publications, records, the lease). */
  private readonly leftBehind: LeftBehind;
  private readonly jobs = new Map<string, JobReplicator>();
  private readonly active = new Map<string, Promise<SyncOutcome>>();
  private readonly stopController = (() => {
    const c = new AbortController();
    setMaxListeners(0, c.signal); // every job sync and queued copy listens to it
    return c;
  })();
  readonly lease: Lease | null;
  /**
   * Every job's events (published, abandoned, deleted...; events.ts), after the job's status and log
   * lines heard them. The hooks (metrics, the demo) are its first subscriber.
   */
  readonly events = new EventStream<EngineEvent>();
  private lastScanAt: number | null = null;
  private lastScanOk = true;
  private sourceRootsHealthy = true;
  private targetRootsHealthy = true;

  constructor(o: EngineOptions) {
    this.config = o.config;
    this.leftBehind = new LeftBehind(o.logger);
    this.source = o.source;
    // Every write the engine makes is fenced by the lease (checked before each request, retries included);
    // only the lease itself writes through the bare storage.
    this.target = o.useLease === false ? o.target : new FencedStorage(o.target, () => this.lease?.assertHeld());
    this.logger = o.logger;
    this.hooks = o.hooks ?? {};
    this.events.subscribe(toHooks(this.hooks));
    const cfg = o.config;
    this.sourceSide = bundleSide(cfg, "source", o.source, o.logger, { live: true });
    this.targetSide = bundleSide(cfg, "target", this.target, o.logger, { live: true });
    this.limiter = new BandwidthLimiter(cfg.copy.bandwidth);
    this.budget = new ByteBudget(cfg.copy.maxBytesInFlight);
    this.copier = new Copier({
      source: o.source,
      target: this.target,
      limiter: this.limiter,
      budget: this.budget,
      concurrency: cfg.copy.concurrency,
      smallFiles: cfg.copy.smallFiles,
      maxQueued: cfg.copy.maxQueued,
      retries: cfg.copy.retries,
      checksum: cfg.copy.checksum,
      logger: o.logger,
      leftBehind: this.leftBehind,
      onBytes: (n) => this.hooks.onBytes?.("", n),
    });
    const leasePath = cfg.lease.path ?? joinPath(joinPath((cfg.paths[0] as { target: string }).target, ADMIN_DIR), "lease");
    this.lease = o.useLease === false ? null : new Lease(o.target, leasePath, cfg.lease.ttl, o.logger, (err) => this.stopController.abort(err), this.leftBehind);
    this.deps = {
      config: cfg,
      source: o.source,
      target: this.target,
      sourceLocator: this.sourceSide.locator,
      targetLocator: this.targetSide.locator,
      sourceCatalog: this.sourceSide.catalog,
      targetCatalog: this.targetSide.catalog,
      targetScanner: this.targetSide.scanner,
      copier: this.copier,
      lease: this.lease,
      leftBehind: this.leftBehind,
      logger: o.logger,
      hooks: this.hooks,
      events: this.events,
      deleteBudget: { remaining: cfg.reap.maxDeletesPerCycle },
      largeCheckpoints: new LargeCheckpointTurns(),
      verifyTurns: new Turns(VERIFY_SLOTS),
    };
  }

  private readonly deps: EngineDeps;

  /** Takes the target lease; throws LeaseHeldError when another replicator holds it. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.lease?.acquire(signal);
  }

  /** Applies the settings that can change at runtime (concurrency, bandwidth, retention, reaping, scan). */
  applyConfig(next: Config): void {
    this.config = next;
    this.deps.config = next;
    this.copier.setConcurrency(next.copy.concurrency, next.copy.smallFiles);
    this.copier.setChecksum(next.copy.checksum);
    this.limiter.setRate(next.copy.bandwidth);
    this.budget.setLimit(next.copy.maxBytesInFlight);
  }

  get currentConfig(): Config {
    return this.config;
  }

  /** Stops all work at once with `reason` on the stop signal (the owner then calls stop()). */
  abort(reason: Error): void {
    if (!this.stopController.signal.aborted) this.stopController.abort(reason);
  }

  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  status(): EngineStatus {
    return {
      jobs: [...this.jobs.values()].map((j) => ({ ...j.status, lagSeconds: lagSecondsOf(j.status) })),
      lastScanAt: this.lastScanAt,
      lastScanOk: this.lastScanOk,
      sourceRootsHealthy: this.sourceRootsHealthy,
      targetRootsHealthy: this.targetRootsHealthy,
      copyQueue: this.copier.pending,
      bytesInFlight: this.budget.inFlight,
      bandwidth: this.limiter.rate,
    };
  }

  async cycle(o: CycleOptions = {}): Promise<CycleReport> {
    const signal = o.signal ?? this.stopController.signal;
    this.lease?.assertHeld();
    const t0 = Date.now();
    const [source, target] = await Promise.all([this.sourceSide.scanner.scan(), this.targetSide.scanner.scan()]);
    const scanMs = Date.now() - t0;
    this.lastScanAt = Date.now();
    this.distrustEmptySourceRoots(source, target);
    this.sourceRootsHealthy = source.roots.every((r) => r.healthy);
    this.targetRootsHealthy = target.roots.every((r) => r.healthy || r.reason === "missing");
    this.lastScanOk = this.sourceRootsHealthy && this.targetRootsHealthy;
    this.events.publish({ type: "scan", side: "source", ms: scanMs, requests: source.requests, healthy: this.sourceRootsHealthy });
    this.events.publish({ type: "scan", side: "target", ms: scanMs, requests: target.requests, healthy: this.targetRootsHealthy });
    for (const r of source.roots) if (!r.healthy) this.logger.warn({ root: r.root, problem: r.problem }, "source root unhealthy: nothing is deleted on the target for it");
    this.sourceSide.catalog.retainOnly(unitDirs(source));
    this.targetSide.catalog.retainOnly(unitDirs(target));
    this.deps.deleteBudget.remaining = this.config.reap.maxDeletesPerCycle;

    // One allowance for every job this cycle starts: --max-delete counts the run, as in rclone and rsync.
    const deleteLimit = new DeleteLimit(this.config.reap.maxDelete, filesUnderRoots(target));
    const report: CycleReport = { source, target, outcomes: new Map(), started: [], deleteLimit: deleteLimit.state() };
    const pairs = this.pairJobs(source, target);
    const targetReferences = await this.targetReferencesByJob(target, signal);
    const runs: Promise<void>[] = [];
    for (const p of pairs) {
      if (o.job !== undefined && p.key !== o.job) continue;
      if (o.jobFilter && !o.jobFilter(p.key)) continue;
      if (this.active.has(p.sourceDir)) continue;
      let job = this.jobs.get(p.sourceDir);
      if (!job) {
        job = new JobReplicator(p.key, p.sourceDir, p.targetDir, this.deps);
        this.jobs.set(p.sourceDir, job);
      }
      const run = job.sync(
        {
          sourceJob: p.sourceJob,
          sourceHealthy: source.roots.find((r) => r.root === p.sourceRoot)?.healthy ?? false,
          targetJob: p.targetJob,
          sourceSnapshot: source,
          targetSnapshot: target,
          targetRoot: p.targetRoot,
          targetProblem: targetProblem(target, p.targetRoot),
          otherJobs: referencesOfOthers(targetReferences, p.targetDir),
          deleteLimit,
        },
        { ...(o.dryRun ? { dryRun: true } : {}), ...(o.complete ? { complete: true } : {}), signal },
      );
      this.active.set(p.sourceDir, run);
      report.started.push(p.key);
      runs.push(
        run.then(
          (outcome) => {
            report.outcomes.set(p.key, outcome);
          },
          (err: unknown) => this.logger.error({ job: p.key, err: errorMessage(err) }, "job sync crashed"),
        ).finally(() => this.active.delete(p.sourceDir)),
      );
    }
    if (o.wait) {
      await Promise.all(runs);
      report.deleteLimit = deleteLimit.state();
    }
    return report;
  }

  /**
   * A source root with no job at all while its target holds jobs looks like a wiped or wrongly mounted
   * source, also right after a restart (when the scanner has no memory of earlier scans): hold deletions.
   */
  private distrustEmptySourceRoots(source: TreeSnapshot, target: TreeSnapshot): void {
    for (const r of source.roots) {
      if (!r.healthy || r.jobCount > 0 || [...source.jobs.values()].some((j) => j.root === r.root && j.units.length > 0)) continue;
      const pair = this.config.paths.find((p) => p.source === r.root);
      const targetJobs = [...target.jobs.values()].filter((j) => j.root === pair?.target && j.units.length > 0).length;
      if (targetJobs > 0) {
        r.healthy = false;
        r.problem = `${r.root} holds no job while the target holds ${targetJobs}`;
        r.reason = "emptied";
      }
    }
  }

  /**
   * What every job's published target checkpoints reference outside the job's own directory (cached reads
   * of their _metadata), so that one job's reaper never deletes a file another job's checkpoint still needs
   * (a job restored from another job's checkpoint references that job's shared files). A job's reaper only
   * deletes below its own directory and counts its own checkpoints' references itself, so references into
   * a job's own directory are left out: the sets stay as small as the cross-job references, not the tree.
   * The root's savepoints (key "", the root is their directory) keep all of theirs.
   */
  private async targetReferencesByJob(target: TreeSnapshot, signal: AbortSignal): Promise<Map<string, { referenced: Set<string>; known: boolean }>> {
    const out = new Map<string, { referenced: Set<string>; known: boolean }>();
    for (const job of target.jobs.values()) {
      const entry = { referenced: new Set<string>(), known: true };
      const own = job.key === "" ? null : `${job.dir}/`;
      for (const unit of job.units) {
        if (!unit.metadata) continue;
        try {
          const view = await this.targetSide.catalog.view(unit.dir, unit.metadata, signal);
          if (view.state !== "complete") entry.known = false;
          else for (const r of view.references) {
            const path = this.deps.targetLocator.pathOf(r.location);
            if (path !== null && (own === null || !path.startsWith(own))) entry.referenced.add(path);
          }
        } catch {
          entry.known = false;
        }
      }
      out.set(job.dir, entry);
    }
    return out;
  }

  /** Waits for every running job sync to finish. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.active.values()]);
  }

  /**
   * Stops: aborts in-flight copies (each removes its temporary), waits up to deadlineMs for them, tries again
   * to remove the temporaries whose removal failed, releases the lease. Says what it could not clean up.
   * One deadline for the whole stop: the retry and the tokens' release get what the wait left of it, at
   * least STOP_CLEANUP_FLOOR_MS each (so a stop takes at most deadlineMs + 2 floors + the lease's release).
   */
  async stop(deadlineMs = 10_000): Promise<StopOutcome> {
    const end = Date.now() + deadlineMs;
    const remaining = () => Math.max(end - Date.now(), STOP_CLEANUP_FLOOR_MS);
    this.stopController.abort(new Error("replicator stopping"));
    this.copier.clear();
    const drained = await Promise.race([this.drain().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), deadlineMs).unref())]);
    const left = await this.leftBehind.retry(AbortSignal.timeout(remaining()));
    const outcome: StopOutcome = { drained, temporariesLeft: left.paths, temporariesLeftUnlisted: left.unlisted };
    if (!drained) this.logger.warn({ deadlineMs }, "copies were still running at the stop's deadline; their temporaries may be left (a later run removes them once stale)");
    if (left.paths.length + left.unlisted > 0) {
      this.logger.warn(
        { count: left.paths.length + left.unlisted, paths: left.paths.slice(0, 20) },
        "temporaries of aborted writes could not be removed; a later run removes them once stale",
      );
    }
    await this.lease?.release();
    // Cancel the delegation tokens this process fetched (bounded: a stop must not hang on a dead NameNode).
    const released = Promise.allSettled([this.source.release?.(), this.target.release?.()]);
    await Promise.race([released, new Promise((r) => setTimeout(r, remaining()).unref())]);
    this.source.close();
    this.target.close();
    return outcome;
  }

  private pairJobs(source: TreeSnapshot, target: TreeSnapshot) {
    const pairs: Array<{
      key: string;
      sourceDir: string;
      targetDir: string;
      sourceRoot: string;
      targetRoot: string;
      sourceJob: TreeJob | undefined;
      targetJob: TreeJob | undefined;
    }> = [];
    const seenTargets = new Set<string>();
    for (const job of source.jobs.values()) {
      const targetDir = targetPathFor(job.dir, this.config.paths);
      const pair = this.config.paths.find((p) => p.source === job.root);
      if (targetDir === null || !pair) continue;
      seenTargets.add(targetDir);
      pairs.push({ key: job.key, sourceDir: job.dir, targetDir, sourceRoot: job.root, targetRoot: pair.target, sourceJob: job, targetJob: target.jobs.get(targetDir) });
    }
    for (const job of target.jobs.values()) {
      if (seenTargets.has(job.dir)) continue;
      const pair = this.config.paths.find((p) => p.target === job.root);
      if (!pair) continue;
      const sourceDir = job.key === "" ? pair.source : joinPath(pair.source, job.key);
      pairs.push({ key: job.key, sourceDir, targetDir: job.dir, sourceRoot: pair.source, targetRoot: pair.target, sourceJob: undefined, targetJob: job });
    }
    return pairs;
  }
}

function referencesOfOthers(all: Map<string, { referenced: Set<string>; known: boolean }>, jobDir: string) {
  const referenced = new Set<string>();
  let known = true;
  for (const [dir, entry] of all) {
    if (dir === jobDir) continue;
    known &&= entry.known;
    for (const r of entry.referenced) referenced.add(r);
  }
  return { referenced, known };
}

/** Why a target root cannot be used this cycle (unreachable, listing failed), or undefined. A missing root is fine: it is created. */
function targetProblem(target: TreeSnapshot, root: string): string | undefined {
  const r = target.roots.find((x) => x.root === root);
  if (!r || r.healthy || r.reason === "missing") return undefined;
  return r.problem;
}

function unitDirs(s: TreeSnapshot): Set<string> {
  const out = new Set<string>();
  for (const j of s.jobs.values()) for (const u of j.units) out.add(u.dir);
  return out;
}
