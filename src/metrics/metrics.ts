// Prometheus metrics of the replicator: counters fed by the engine's hooks,
// gauges read from the engine's status at scrape time. Per-job series carry
// the label flink_job (not "job", which Prometheus reserves for the scrape job). One registry per
// process (not prom-client's global one) so tests can create several.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { EngineHooks, EngineStatus } from "../replication/index.js";

export interface ReplicatorMetrics {
  registry: Registry;
  hooks: EngineHooks;
  /** Gauges read this at every scrape. */
  bindStatus(read: () => EngineStatus, leaseHeld: () => boolean): void;
}

export function createMetrics(o: { defaultMetrics?: boolean } = {}): ReplicatorMetrics {
  const registry = new Registry();
  if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: "ckpt_" });
  const reg = { registers: [registry] };

  const published = new Counter({ name: "ckpt_checkpoints_published_total", help: "Checkpoints and savepoints published on the target", labelNames: ["flink_job", "kind"], ...reg });
  const filesCopied = new Counter({ name: "ckpt_files_copied_total", help: "Files copied to the target", labelNames: ["flink_job"], ...reg });
  const bytesCopied = new Counter({ name: "ckpt_bytes_copied_total", help: "Bytes of files copied to the target", labelNames: ["flink_job"], ...reg });
  const bytesTransferred = new Counter({ name: "ckpt_bytes_transferred_total", help: "Bytes streamed to the target (including failed attempts)", ...reg });
  const abandoned = new Counter({ name: "ckpt_checkpoints_abandoned_total", help: "Checkpoints given up during the copy (reason: subsumed | missing-file)", labelNames: ["flink_job", "reason"], ...reg });
  const unpublishable = new Counter({ name: "ckpt_checkpoints_unpublishable_total", help: "Checkpoints that reference files outside the replicated roots", labelNames: ["flink_job"], ...reg });
  const corrupt = new Counter({ name: "ckpt_corrupt_metadata_total", help: "Source _metadata files that do not parse", labelNames: ["flink_job"], ...reg });
  const deletes = new Counter({ name: "ckpt_target_deletes_total", help: "Paths deleted on the target by the reaper", labelNames: ["flink_job"], ...reg });
  const jobErrors = new Counter({ name: "ckpt_job_errors_total", help: "Failed job syncs (retried next cycle)", labelNames: ["flink_job"], ...reg });
  const scanDuration = new Histogram({ name: "ckpt_scan_duration_seconds", help: "Duration of a scan of one side", labelNames: ["side"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], ...reg });
  const scanRequests = new Counter({ name: "ckpt_scan_list_requests_total", help: "Listing requests made by scans", labelNames: ["side"], ...reg });
  const publishLag = new Histogram({ name: "ckpt_publish_lag_seconds", help: "Source completion to target publication, per published checkpoint", labelNames: ["flink_job"], buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600], ...reg });

  let readStatus: (() => EngineStatus) | null = null;
  let readLease: () => boolean = () => false;
  const jobGauge = (name: string, help: string, pick: (j: EngineStatus["jobs"][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["flink_job"],
      ...reg,
      collect() {
        this.reset();
        for (const j of readStatus?.().jobs ?? []) {
          const v = pick(j);
          if (v !== null) this.set({ flink_job: j.job }, v);
        }
      },
    });
  jobGauge("ckpt_replication_lag_seconds", "Seconds since the oldest source checkpoint newer than the newest published one completed (0 = caught up)", (j) => j.lagSeconds);
  jobGauge("ckpt_newest_source_checkpoint_id", "Newest complete checkpoint id on the source", (j) => j.newestSourceCheckpoint);
  jobGauge("ckpt_newest_published_checkpoint_id", "Newest checkpoint id published on the target", (j) => j.newestPublishedCheckpoint);
  jobGauge("ckpt_last_publish_timestamp_seconds", "When this daemon last published a checkpoint of the job", (j) => (j.lastPublishAt === null ? null : j.lastPublishAt / 1000));
  jobGauge("ckpt_restorable_checkpoints", "Restorable checkpoints on the target", (j) => j.publishedOnTarget);
  jobGauge("ckpt_job_failing", "1 while the job's last sync failed", (j) => (j.lastError === null ? 0 : 1));
  jobGauge("ckpt_reap_held", "1 while deletions are held back because the source view looks unhealthy", (j) => (j.reapHeld === null ? 0 : 1));
  const globalGauge = (name: string, help: string, pick: (s: EngineStatus) => number) =>
    new Gauge({
      name,
      help,
      ...reg,
      collect() {
        const s = readStatus?.();
        if (s) this.set(pick(s));
      },
    });
  globalGauge("ckpt_copy_queue_files", "Files queued or being copied", (s) => s.copyQueue);
  globalGauge("ckpt_bytes_in_flight", "Bytes of files being copied", (s) => s.bytesInFlight);
  globalGauge("ckpt_bandwidth_limit_bytes_per_second", "Configured bandwidth limit (0 = unlimited)", (s) => s.bandwidth);
  globalGauge("ckpt_source_healthy", "1 when every source root could be listed and looked sane in the last scan", (s) => (s.sourceRootsHealthy ? 1 : 0));
  globalGauge("ckpt_last_scan_timestamp_seconds", "When the last scan finished", (s) => (s.lastScanAt ?? 0) / 1000);
  new Gauge({
    name: "ckpt_lease_held",
    help: "1 while this daemon holds the target's single-writer lease",
    ...reg,
    collect() {
      this.set(readLease() ? 1 : 0);
    },
  });

  const hooks: EngineHooks = {
    onBytes: (_job, n) => bytesTransferred.inc(n),
    onFileCopied: (job, bytes) => {
      filesCopied.inc({ flink_job: job });
      bytesCopied.inc({ flink_job: job }, bytes);
    },
    onPublished: (e) => {
      published.inc({ flink_job: e.job, kind: e.kind });
      publishLag.observe({ flink_job: e.job }, e.lagMs / 1000);
    },
    onAbandoned: (job, _unit, reason) => abandoned.inc({ flink_job: job, reason }),
    onUnpublishable: (job) => unpublishable.inc({ flink_job: job }),
    onCorruptMetadata: (job) => corrupt.inc({ flink_job: job }),
    onDeleted: (job) => deletes.inc({ flink_job: job }),
    onJobError: (job) => jobErrors.inc({ flink_job: job }),
    onScan: (side, ms, requests) => {
      scanDuration.observe({ side }, ms / 1000);
      scanRequests.inc({ side }, requests);
    },
  };
  return {
    registry,
    hooks,
    bindStatus(read, leaseHeld) {
      readStatus = read;
      readLease = leaseHeld;
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
