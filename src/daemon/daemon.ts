// The long-running replicator (`ckpt-replicator run`): serves metrics, takes the
// target lease (waiting out a target that is unavailable at start), cycles scan -> copy -> publish -> reap every scan.interval
// (sooner on filesystem events for a local source), reloads its config on file
// change and SIGHUP (validated first; the old config stays on error), and stops
// gracefully: in-flight copies are aborted within a deadline and their
// temporaries removed, the lease released.

import { setTimeout as delay } from "node:timers/promises";
import { watch, type FSWatcher } from "chokidar";
import { loadConfigFile, type Config } from "../config/load.js";
import { CkptError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { combineHooks, createMetrics } from "../metrics/metrics.js";
import { buildReport } from "../metrics/report.js";
import { startStatusServer } from "../metrics/server.js";
import type { Engine, EngineHooks } from "../replication/index.js";
import { isTransient } from "../storage/errors.js";
import { createEngine } from "./runtime.js";
import { snapshotOf, statsLine } from "./stats.js";

/** Settings a running daemon cannot change: a reload keeps the old values and says so. */
const RESTART_ONLY = ["source", "target", "paths", "rewrite", "lease", "metrics"] as const;

/** The metrics address cannot be bound (in use, not local, no permission). */
export class MetricsListenError extends CkptError {
  readonly kind = "metrics-listen";
  constructor(
    readonly listen: string,
    readonly code: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      code === "EADDRINUSE"
        ? `metrics.listen ${listen}: the address is already in use (another replicator or program listens there); choose another port or stop it`
        : `metrics.listen ${listen}: cannot listen there: ${detail}`,
      options,
    );
  }
}

/** Backoff between start-up attempts to take the lease while the target is unavailable. */
const LEASE_RETRY_BASE_MS = 500;
const LEASE_RETRY_MAX_MS = 15_000;

/** How long a stop waits for in-flight copies to abort and clean up. */
export const STOP_DEADLINE_MS = 10_000;

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Extra hooks (the demo prints published checkpoints). */
  hooks?: EngineHooks;
  /** Watch the config file for changes (off in tests that pass a Config directly). */
  watchConfig?: boolean;
  stopDeadlineMs?: number;
  /**
   * Turn an error nothing else caught (an 'error' event without a listener, a rejection nobody awaited)
   * into a logged, orderly stop instead of a silent crash: copies aborted, temporaries removed, lease
   * released; the engine's stop signal then carries the error (the run command exits 70 with it).
   */
  crashGuard?: boolean;
  /**
   * Command-line overrides (--transfers, --bwlimit) applied to the config at start and to every reloaded
   * one; refreshOverrides() re-applies them (a --bwlimit timetable changes with the time of day).
   */
  transform?: (config: Config) => Config;
  /** Only jobs this accepts are replicated (--include-job / --exclude-job). */
  jobFilter?: (job: string) => boolean;
}

export class Daemon {
  readonly engine: Engine;
  private config: Config;
  private readonly logger: Logger;
  private stopping = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private watchers: FSWatcher[] = [];
  private server: { url: string; close(): Promise<void> } | null = null;
  private readonly metrics = createMetrics();
  private cycles = 0;
  private removeCrashGuard: (() => void) | null = null;
  private stopped: Promise<void> | null = null;
  /** Why the lease could not be taken yet (start-up waiting for an unavailable target), or null. */
  private leaseWait: string | null = null;

  constructor(private readonly o: DaemonOptions) {
    this.config = o.transform ? o.transform(o.config) : o.config;
    this.logger = o.logger;
    this.engine = createEngine(this.config, o.logger, combineHooks(this.metrics.hooks, o.hooks ?? {}));
    this.metrics.bindStatus(() => this.engine.status(), () => this.leaseHeld());
    this.metrics.setRpo(o.config.rpo);
    this.metrics.watchTokens([
      { cluster: o.config.source.name, token: () => this.engine.source.security?.().token ?? null },
      { cluster: o.config.target.name, token: () => this.engine.target.security?.().token ?? null },
    ]);
  }

  /** Reads the replication records once, so the newest restorable checkpoint is known before the first sync. */
  private async loadRecords(): Promise<void> {
    if (this.metrics.view.recordsLoaded) return;
    try {
      await this.metrics.view.seedFromRecords(this.engine.target, this.config.paths.map((p) => p.target), this.engine.stopSignal);
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, "cannot read the replication records yet; retrying next cycle");
    }
  }

  /** What /status and the status page show. */
  statusReport() {
    return buildReport({
      status: this.engine.status(),
      view: this.metrics.view,
      rpo: this.metrics.rpo(),
      leaseHeld: this.leaseHeld(),
      sourceName: this.config.source.name,
      targetName: this.config.target.name,
      targetUri: (path) => this.engine.targetSide.uriOf(path),
      configFile: this.config.file,
    });
  }

  get metricsUrl(): string | null {
    return this.server?.url ?? null;
  }

  get completedCycles(): number {
    return this.cycles;
  }

  private leaseHeld(): boolean {
    try {
      this.engine.lease?.assertHeld();
      return this.engine.lease !== null;
    } catch {
      return false;
    }
  }

  /**
   * Starts serving (/readyz says "not ready" until the lease is held), takes the lease and starts cycling.
   * Throws LeaseHeldError if another daemon holds the lease, and any error that waiting will not mend
   * (permission denied, a metrics port in use...). A target that is only unavailable for now (busy, in
   * safe mode, unreachable) is waited for, with backoff, until it answers or `signal` aborts; an abort
   * while waiting returns without starting (stop() then cleans up).
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.o.crashGuard) this.installCrashGuard();
    let leased = false;
    try {
      if (this.config.metrics !== false) {
        this.server = await this.serve(this.config.metrics.listen);
        this.logger.info({ url: this.server.url }, "serving / (status page), /metrics, /healthz, /readyz, /status");
      }
      leased = await this.acquireLease(signal);
    } catch (err) {
      this.removeCrashGuard?.();
      await this.server?.close();
      this.server = null;
      this.engine.source.close();
      this.engine.target.close();
      throw err;
    }
    if (!leased) return;
    await this.loadRecords();
    if (this.o.watchConfig) this.watchConfigFile();
    if (this.config.source.backend.localFiles) this.watchLocalSource();
    this.engine.stopSignal.addEventListener("abort", () => void this.stop("the target lease was lost"));
    this.startStats();
    this.loopDone = this.loop();
    this.logger.info({ source: this.config.source.name, target: this.config.target.name, roots: this.config.paths }, "replicator started");
  }

  /** Takes the lease, waiting out a target that is transiently unavailable; false when `signal` aborted first. */
  private async acquireLease(signal?: AbortSignal): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted || this.stopping) return false;
      try {
        await this.engine.start(signal);
        this.leaseWait = null;
        return true;
      } catch (err) {
        if (signal?.aborted || this.stopping) return false;
        if (!isTransient(err)) throw err;
        const delayMs = Math.min(LEASE_RETRY_MAX_MS, LEASE_RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 10));
        this.leaseWait = errorMessage(err);
        this.logger.warn({ err: this.leaseWait, attempt, retryInMs: delayMs }, "cannot take the target lease yet (target unavailable); waiting for it");
        await delay(delayMs, undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    }
  }

  /** Starts the HTTP endpoint (before the lease is taken: a port in use fails the start with nothing held). */
  private async serve(listen: string): Promise<{ url: string; close(): Promise<void> }> {
    try {
      return await startStatusServer({
        listen,
        registry: this.metrics.registry,
        status: () => this.engine.status(),
        report: () => {
          this.metrics.refresh();
          return this.statusReport();
        },
        ready: () => this.readiness(),
      });
    } catch (err) {
      throw new MetricsListenError(listen, (err as NodeJS.ErrnoException).code ?? "", errorMessage(err), { cause: err });
    }
  }

  private readiness(): { ok: boolean; reason: string } {
    // A refused certificate or credential says why, before its consequences (lost lease, failed scans) do.
    for (const [side, storage] of [["source", this.engine.source], ["target", this.engine.target]] as const) {
      const problem = storage.security?.().credentialProblem ?? null;
      if (problem !== null) return { ok: false, reason: `${side} ${storage.name}: ${problem}` };
    }
    if (!this.leaseHeld()) return { ok: false, reason: this.leaseWait === null ? "target lease not held" : `waiting for the target lease: ${this.leaseWait}` };
    const s = this.engine.status();
    if (s.lastScanAt === null) return { ok: false, reason: "no scan finished yet" };
    const stale = Date.now() - s.lastScanAt > Math.max(3 * this.config.scan.interval, 60_000);
    if (stale) return { ok: false, reason: `last scan finished ${Math.round((Date.now() - s.lastScanAt) / 1000)}s ago` };
    return s.lastScanOk ? { ok: true, reason: "ok" } : { ok: false, reason: "the last scan found an unhealthy root" };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.loadRecords();
        await this.engine.cycle({ wait: false, ...(this.o.jobFilter ? { jobFilter: this.o.jobFilter } : {}) });
      } catch (err) {
        if (this.stopping) break;
        this.logger.error({ err: errorMessage(err) }, "cycle failed; retrying after scan.interval");
      }
      this.metrics.refresh();
      this.cycles++;
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.scan.interval);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Runs the next cycle now instead of after scan.interval. */
  trigger(): void {
    this.wake?.();
  }

  async reload(): Promise<boolean> {
    let next: Config;
    try {
      next = await loadConfigFile(this.config.file);
      if (this.o.transform) next = this.o.transform(next);
    } catch (err) {
      this.metrics.configReloaded(false);
      this.logger.error({ err: errorMessage(err) }, "config reload rejected; keeping the running config");
      return false;
    }
    const fixed = RESTART_ONLY.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(this.config[k]));
    if (fixed.length > 0) this.logger.warn({ keys: fixed }, "these settings take effect only after a restart");
    const applied: Config = { ...next };
    for (const k of RESTART_ONLY) (applied as Record<string, unknown>)[k] = this.config[k];
    this.logger.level = applied.log.level;
    const statsChanged = applied.log.statsInterval !== this.config.log.statsInterval;
    this.config = applied;
    if (statsChanged && !this.stopping) this.startStats();
    this.engine.applyConfig(applied);
    this.metrics.setRpo(applied.rpo);
    this.metrics.configReloaded(true);
    this.logger.info({ concurrency: applied.copy.concurrency, bandwidth: applied.copy.bandwidth, interval: applied.scan.interval }, "config reloaded");
    return true;
  }

  private statsTimer: NodeJS.Timeout | null = null;

  /** The periodic one-line stats log; re-armed when a reload changes log.statsInterval. */
  private startStats(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    let prev = snapshotOf(this.engine.status());
    this.statsTimer = setInterval(() => {
      const { line, next } = statsLine(prev, this.engine.status());
      prev = next;
      this.logger.info(line.fields, line.message);
    }, this.config.log.statsInterval);
    this.statsTimer.unref();
  }

  /** Re-applies the command-line overrides to the running config (the --bwlimit timetable moved on). */
  refreshOverrides(): void {
    if (!this.o.transform || this.stopping) return;
    const next = this.o.transform(this.config);
    if (next.copy.bandwidth === this.config.copy.bandwidth && next.copy.concurrency === this.config.copy.concurrency) return;
    this.config = next;
    this.engine.applyConfig(next);
    this.logger.info({ bandwidth: next.copy.bandwidth, concurrency: next.copy.concurrency }, "command-line bandwidth timetable: new limit in force");
  }

  private watchConfigFile(): void {
    const w = watch(this.config.file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
    w.on("change", () => void this.reload());
    w.on("add", () => void this.reload());
    this.watchers.push(w);
  }

  private watchLocalSource(): void {
    const w = watch(
      this.config.paths.map((p) => p.source),
      { ignoreInitial: true, depth: 4, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 50 } },
    );
    let pending: NodeJS.Timeout | null = null;
    w.on("all", () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        this.trigger();
      }, 100);
    });
    this.watchers.push(w);
  }

  private installCrashGuard(): void {
    const onCrash = (err: unknown) => {
      this.logger.fatal({ err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, "unexpected error: stopping safely");
      this.engine.abort(err instanceof Error ? err : new Error(String(err)));
    };
    process.on("uncaughtException", onCrash);
    process.on("unhandledRejection", onCrash);
    this.removeCrashGuard = () => {
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    };
  }

  /** Stops cycling, aborts copies (temporaries are removed), releases the lease, closes the server. */
  stop(reason = "stop requested"): Promise<void> {
    // Every caller waits for the same, whole stop (lease released, server closed).
    this.stopped ??= this.stopOnce(reason);
    return this.stopped;
  }

  private async stopOnce(reason: string): Promise<void> {
    this.stopping = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.logger.info({ reason }, "replicator stopping");
    this.wake?.();
    await Promise.all(this.watchers.map((w) => w.close()));
    await this.engine.stop(this.o.stopDeadlineMs ?? STOP_DEADLINE_MS);
    await this.loopDone;
    await this.server?.close();
    this.removeCrashGuard?.();
    this.logger.info("replicator stopped");
  }
}
