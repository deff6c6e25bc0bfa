// Prometheus metrics of the replicator, all named ckpt_replicator_*: counters
// fed by the engine's hooks, gauges read at scrape time from the engine's
// status folded into the DR view (last known restorable checkpoint, source
// checkpoint and verified restorable count, which survive outages). Per-job
// series carry the label flink_job (not "job", which Prometheus reserves for the
// scrape job). prom-client's default metrics keep their standard names
// (process_*, nodejs_*) so stock dashboards work. One registry per process (not
// prom-client's global one) so tests can create several.

import { readFileSync } from "node:fs";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { EngineHooks, EngineStatus } from "../replication/index.js";
import type { TokenStatus } from "../webhdfs/index.js";
import { DrView, lagSeconds, rpoSeconds } from "./dr-view.js";

export const METRIC_PREFIX = "ckpt_replicator_";

/** Recovery point objectives (config key rpo), in ms. */
export interface RpoObjectives {
  objective: number;
  jobs: Record<string, number>;
}

export const DEFAULT_RPO: RpoObjectives = { objective: 15 * 60_000, jobs: {} };

export function rpoObjectiveMs(rpo: RpoObjectives, job: string): number {
  return rpo.jobs[job] ?? rpo.objective;
}

/** A cluster whose client may manage a delegation token (its state is read at every scrape). */
export interface TokenWatch {
  cluster: string;
  /** The cluster's delegation-token state, or null when the client manages no token. */
  token(): TokenStatus | null;
}

export interface ReplicatorMetrics {
  registry: Registry;
  hooks: EngineHooks;
  /** Last known DR state per job (the status page reads it too). */
  view: DrView;
  /** Gauges read this at every scrape. */
  bindStatus(read: () => EngineStatus, leaseHeld: () => boolean): void;
  setRpo(rpo: RpoObjectives): void;
  rpo(): RpoObjectives;
  /** The clusters whose delegation tokens the token metrics report. */
  watchTokens(watches: TokenWatch[]): void;
  /** Folds the bound status into the view now (the daemon calls it after every cycle). */
  refresh(): void;
  configReloaded(ok: boolean): void;
}

export interface BuildInfo {
  version: string;
  node: string;
  revision: string;
}

export function buildInfo(): BuildInfo {
  let version = "unknown";
  try {
    version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? version;
  } catch {
    // a bundled or relocated build: the version stays unknown
  }
  return { version, node: process.version, revision: process.env.CKPT_REPLICATOR_REVISION ?? "unknown" };
}

export function createMetrics(o: { defaultMetrics?: boolean } = {}): ReplicatorMetrics {
  const registry = new Registry();
  if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
  const n = (name: string) => `${METRIC_PREFIX}${name}`;
  const view = new DrView();

  const published = new Counter({ name: n("checkpoints_published_total"), help: "Checkpoints and savepoints published on the target", labelNames: ["flink_job", "kind"], ...reg });
  const filesCopied = new Counter({ name: n("files_copied_total"), help: "Files copied to the target", labelNames: ["flink_job"], ...reg });
  const bytesCopied = new Counter({ name: n("bytes_copied_total"), help: "Bytes of files copied to the target", labelNames: ["flink_job"], ...reg });
  const bytesTransferred = new Counter({ name: n("bytes_transferred_total"), help: "Bytes streamed to the target (including failed attempts)", ...reg });
  const abandoned = new Counter({ name: n("checkpoints_abandoned_total"), help: "Checkpoints given up during the copy (reason: subsumed | missing-file)", labelNames: ["flink_job", "reason"], ...reg });
  const vanished = new Counter({ name: n("source_files_vanished_total"), help: "Source files found gone while their checkpoint was being copied (each abandons the checkpoint)", labelNames: ["flink_job"], ...reg });
  const unpublishable = new Counter({ name: n("checkpoints_unpublishable_total"), help: "Checkpoints that reference files outside the replicated roots", labelNames: ["flink_job"], ...reg });
  const corrupt = new Counter({ name: n("corrupt_metadata_total"), help: "Source _metadata files that do not parse", labelNames: ["flink_job"], ...reg });
  const deletes = new Counter({ name: n("target_deletes_total"), help: "Paths deleted on the target by the reaper", labelNames: ["flink_job"], ...reg });
  const jobErrors = new Counter({ name: n("job_errors_total"), help: "Failed job syncs (retried next cycle)", labelNames: ["flink_job"], ...reg });
  const scanDuration = new Histogram({ name: n("scan_duration_seconds"), help: "Duration of a scan of one side", labelNames: ["side"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], ...reg });
  const scanRequests = new Counter({ name: n("scan_list_requests_total"), help: "Listing requests made by scans", labelNames: ["side"], ...reg });
  const publishLag = new Histogram({ name: n("publish_lag_seconds"), help: "Source completion to target publication, per published checkpoint", labelNames: ["flink_job"], buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600], ...reg });
  const publishDuration = new Histogram({ name: n("publish_duration_seconds"), help: "From planning a checkpoint's copy to its publication on the target", labelNames: ["flink_job"], buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600], ...reg });
  const failovers = new Counter({
    name: n("namenode_failovers_total"),
    help: "Times this daemon's WebHDFS client switched to another NameNode of the cluster (standby or unreachable answers)",
    labelNames: ["cluster"],
    ...reg,
  });
  const reloads = new Counter({ name: n("config_reloads_total"), help: "Config reloads attempted (SIGHUP or a change of the file)", ...reg });
  const reloadFailures = new Counter({ name: n("config_reload_failures_total"), help: "Config reloads rejected (the running config stays)", ...reg });
  const lastReloadOk = new Gauge({ name: n("config_last_reload_successful"), help: "0 when the last config reload was rejected, 1 otherwise", ...reg });
  lastReloadOk.set(1);
  const info = buildInfo();
  new Gauge({ name: n("build_info"), help: "Always 1; the labels say which build runs", labelNames: ["version", "node_version", "revision"], ...reg }).set(
    { version: info.version, node_version: info.node, revision: info.revision },
    1,
  );

  // Delegation tokens, read from the clients at every scrape (nothing while a side manages no token).
  const tokenStates = () =>
    watches.flatMap((w) => {
      const t = w.token();
      return t === null ? [] : [{ cluster: w.cluster, t }];
    });
  new Gauge({
    name: n("delegation_token_expiry_timestamp_seconds"),
    help: "When the cluster's current delegation token expires unless renewed (its max date for a token from a file)",
    labelNames: ["cluster", "source"],
    ...reg,
    collect() {
      this.reset();
      for (const { cluster, t } of tokenStates()) {
        const at = t.expiresAt ?? t.maxDate;
        if (at !== null) this.set({ cluster, source: t.source }, at / 1000);
      }
    },
  });
  const tokenCounter = (name: string, help: string, pick: (t: TokenStatus) => number) =>
    new Counter({
      name: n(name),
      help,
      labelNames: ["cluster"],
      ...reg,
      collect() {
        this.reset();
        for (const { cluster, t } of tokenStates()) this.inc({ cluster }, pick(t));
      },
    });
  tokenCounter("delegation_token_renewals_total", "Delegation token renewals (RENEWDELEGATIONTOKEN) that succeeded", (t) => t.renewals);
  tokenCounter("delegation_token_refetches_total", "Delegation tokens replaced by a new one (max lifetime, refused token, changed token file)", (t) => t.refetches);
  tokenCounter("delegation_token_failures_total", "Delegation token fetches, renewals or token-file reads that failed (a token the NameNode refused, replaced at once, counts as a re-fetch)", (t) => t.failures);

  let watches: TokenWatch[] = [];
  let readStatus: (() => EngineStatus) | null = null;
  let readLease: () => boolean = () => false;
  let rpo: RpoObjectives = DEFAULT_RPO;
  const refresh = () => {
    const s = readStatus?.();
    if (s) view.observe(s);
  };
  type Job = ReturnType<DrView["list"]>[number];
  type Status = EngineStatus["jobs"][number];
  // Every collect reads the status once and folds it in (idempotent), so each gauge shows this scrape's state.
  const jobGauge = (name: string, help: string, pick: (j: Job, now: number, status: Status | null) => number | null) =>
    new Gauge({
      name: n(name),
      help,
      labelNames: ["flink_job"],
      ...reg,
      collect() {
        this.reset();
        const s = readStatus?.();
        if (s) view.observe(s);
        const byDir = new Map((s?.jobs ?? []).map((j) => [j.targetDir, j]));
        const now = Date.now();
        for (const j of view.list()) {
          const v = pick(j, now, byDir.get(j.targetDir) ?? null);
          if (v !== null) this.set({ flink_job: j.job }, v);
        }
      },
    });
  jobGauge(
    "newest_restorable_checkpoint_completed_timestamp_seconds",
    "Source completion time of the newest checkpoint restorable on the target, savepoints aside (last known; time() - this is the checkpoint-only RPO)",
    (j) => (j.restorable === null ? null : j.restorable.completedAt / 1000),
  );
  jobGauge(
    "newest_restore_point_completed_timestamp_seconds",
    "Source completion time of the newest restore point on the target: the restorable checkpoint or savepoint that completed last (last known; RPO = time() - this)",
    (j) => (j.restorePoint === null ? null : j.restorePoint.completedAt / 1000),
  );
  jobGauge("newest_restore_point_is_savepoint", "1 when the newest restore point is a savepoint, 0 when it is a checkpoint", (j) =>
    j.restorePoint === null ? null : j.restorePoint.kind === "savepoint" ? 1 : 0,
  );
  jobGauge("newest_restorable_checkpoint_id", "Newest checkpoint id restorable on the target (last known)", (j) => j.restorable?.checkpointId ?? null);
  jobGauge("rpo_seconds", "Age of the newest restore point (checkpoint or savepoint) by this daemon's clock: what a restore from the target would lose now", (j, now) => rpoSeconds(j, now));
  jobGauge("rpo_objective_seconds", "The job's recovery point objective (config rpo.objective or rpo.jobs.<job>)", (j) => rpoObjectiveMs(rpo, j.job) / 1000);
  jobGauge("newest_source_checkpoint_id", "Newest complete checkpoint id on the source (last known)", (j) => j.source?.checkpointId ?? null);
  jobGauge(
    "newest_source_checkpoint_completed_timestamp_seconds",
    "Completion time of the newest complete checkpoint on the source (last known)",
    (j) => (j.source === null ? null : j.source.completedAt / 1000),
  );
  jobGauge("replication_lag_seconds", "Newest source checkpoint's completion minus the newest restorable one's (both NameNode times; 0 = caught up)", (j) => lagSeconds(j));
  jobGauge("restorable_checkpoints", "Restorable checkpoints on the target, as last verified (kept while the target cannot be listed)", (j) => j.restorableCount);
  jobGauge("restorable_checkpoints_verified_timestamp_seconds", "When the restorable count was last verified by listing the target", (j) =>
    j.restorableVerifiedAt === null ? null : j.restorableVerifiedAt / 1000,
  );
  jobGauge("last_publish_timestamp_seconds", "When the newest restorable checkpoint was published on the target", (j) =>
    j.restorable?.publishedAt == null ? null : j.restorable.publishedAt / 1000,
  );
  jobGauge("pending_files", "Files not on the target yet of every checkpoint the job selected to publish and has not published (0 when caught up)", (_j, _now, s) => s?.pending.files ?? 0);
  jobGauge("pending_bytes", "Bytes of those files (shared files counted once; 0 when caught up)", (_j, _now, s) => s?.pending.bytes ?? 0);
  jobGauge("job_failing", "1 while the job's last sync failed", (_j, _now, s) => {
    return s === null ? null : s.lastError === null ? 0 : 1;
  });
  jobGauge("reap_held", "1 while deletions are held back because the source view looks unhealthy", (_j, _now, s) => {
    return s === null ? null : s.reapHeld === null ? 0 : 1;
  });
  const globalGauge = (name: string, help: string, pick: (s: EngineStatus) => number) =>
    new Gauge({
      name: n(name),
      help,
      ...reg,
      collect() {
        const s = readStatus?.();
        if (s) this.set(pick(s));
      },
    });
  globalGauge("copy_queue_files", "Files queued or being copied", (s) => s.copyQueue);
  globalGauge("bytes_in_flight", "Bytes of files being copied", (s) => s.bytesInFlight);
  globalGauge("bandwidth_limit_bytes_per_second", "Configured bandwidth limit (0 = unlimited)", (s) => s.bandwidth);
  globalGauge("source_healthy", "1 when every source root could be listed and looked sane in the last scan", (s) => (s.sourceRootsHealthy ? 1 : 0));
  globalGauge("target_reachable", "1 when every target root could be listed in the last scan", (s) => (s.targetRootsHealthy === false ? 0 : 1));
  globalGauge("last_scan_timestamp_seconds", "When the last scan finished", (s) => (s.lastScanAt ?? 0) / 1000);
  new Gauge({
    name: n("lease_held"),
    help: "1 while this daemon holds the target's single-writer lease",
    ...reg,
    collect() {
      this.set(readLease() ? 1 : 0);
    },
  });

  const hooks: EngineHooks = {
    onBytes: (_job, bytes) => bytesTransferred.inc(bytes),
    onFileCopied: (job, bytes) => {
      filesCopied.inc({ flink_job: job });
      bytesCopied.inc({ flink_job: job }, bytes);
    },
    onPublished: (e) => {
      published.inc({ flink_job: e.job, kind: e.kind });
      publishLag.observe({ flink_job: e.job }, e.lagMs / 1000);
      if (e.durationMs !== undefined) publishDuration.observe({ flink_job: e.job }, e.durationMs / 1000);
      view.onPublished(e);
    },
    onAbandoned: (job, _unit, reason) => {
      abandoned.inc({ flink_job: job, reason });
      vanished.inc({ flink_job: job });
    },
    onUnpublishable: (job) => unpublishable.inc({ flink_job: job }),
    onCorruptMetadata: (job) => corrupt.inc({ flink_job: job }),
    onDeleted: (job) => deletes.inc({ flink_job: job }),
    onJobError: (job) => jobErrors.inc({ flink_job: job }),
    onScan: (side, ms, requests) => {
      scanDuration.observe({ side }, ms / 1000);
      scanRequests.inc({ side }, requests);
    },
    onNamenodeFailover: (cluster) => failovers.inc({ cluster }),
  };
  return {
    registry,
    hooks,
    view,
    bindStatus(read, leaseHeld) {
      readStatus = read;
      readLease = leaseHeld;
    },
    setRpo(next) {
      rpo = next;
    },
    rpo: () => rpo,
    watchTokens(next) {
      watches = next;
    },
    refresh,
    configReloaded(ok) {
      reloads.inc();
      if (!ok) reloadFailures.inc();
      lastReloadOk.set(ok ? 1 : 0);
    },
  };
}

/** Calls every hook of each set, in order. */
export function combineHooks(...sets: EngineHooks[]): EngineHooks {
  const out: EngineHooks = {};
  const keys = new Set(sets.flatMap((s) => Object.keys(s))) as Set<keyof EngineHooks>;
  for (const key of keys) {
    (out as Record<string, unknown>)[key] = (...args: unknown[]) => {
      for (const s of sets) (s[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  }
  return out;
}
