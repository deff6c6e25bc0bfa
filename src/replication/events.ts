// The one stream of what the engine and its job replicators did that others
// need to hear: each event is published once (job.ts for a job's, engine.ts for
// a side's scans, daemon/runtime.ts for a side's NameNode switches), and every
// report is a subscriber of it: the job's status (`applyToStatus`, what /status
// and `jobs` show), its log lines (`logEvent`) and the engine's hooks
// (`toHooks`: the metrics, the demo, tests). Byte and file progress stays plain
// hooks: it is a rate, not an event anyone reports one by one.

import type { Logger } from "../util/log.js";
import type { EngineHooks, JobStatus, PublishedEvent } from "./status.js";

export type JobEvent =
  | ({ type: "published" } & PublishedEvent)
  | { type: "abandoned"; job: string; unit: string; reason: "subsumed" | "missing-file"; path: string }
  | { type: "unpublishable"; job: string; unit: string; reasons: string[] }
  | { type: "corrupt-metadata"; job: string; unit: string; path: string; reason: string }
  | { type: "broken"; job: string; unit: string; problems: string[]; dryRun: boolean }
  | { type: "deleted"; job: string; unit: string | undefined; path: string; reason: string }
  | { type: "job-error"; job: string; error: unknown; message: string };

/** What happened to a side: a scan of its roots, or its client switching to another NameNode of the cluster. */
export type SideEvent =
  | { type: "scan"; side: "source" | "target"; ms: number; requests: number; healthy: boolean }
  | { type: "failover"; cluster: string; from: string; to: string };

export type EngineEvent = JobEvent | SideEvent;

export type Subscriber<E> = (event: E) => void;

/** Synchronous fan-out: `publish` returns once every subscriber has heard the event, in subscription order. */
export class EventStream<E> {
  private readonly subscribers: Subscriber<E>[] = [];

  /** Returns the function that unsubscribes. */
  subscribe(s: Subscriber<E>): () => void {
    this.subscribers.push(s);
    return () => {
      const i = this.subscribers.indexOf(s);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  publish(event: E): void {
    for (const s of [...this.subscribers]) s(event);
  }
}

/** The job status's share of an event: its counters, the last publication, the last error. */
export function applyToStatus(status: JobStatus, e: JobEvent, now = Date.now()): void {
  const t = status.totals;
  switch (e.type) {
    case "published":
      t.published++;
      status.lastPublishAt = now;
      return;
    case "abandoned":
      if (e.reason === "subsumed") t.abandonedSubsumed++;
      else t.abandonedMissing++;
      return;
    case "unpublishable":
      t.unpublishable++;
      return;
    case "corrupt-metadata":
      t.corruptMetadata++;
      return;
    case "broken":
      t.unpublishedBroken++;
      return;
    case "deleted":
      t.deleted++;
      return;
    case "job-error":
      t.errors++;
      status.lastError = e.message;
      status.lastErrorAt = now;
      return;
  }
}

/**
 * The log line of an event, on the job's logger (which carries the job id). Each line names its event in
 * `event` (the JobEvent type): a stable field for log pipelines and tests, where the message is prose.
 */
export function logEvent(log: Logger, e: JobEvent): void {
  switch (e.type) {
    case "published":
      log.info(
        { event: e.type, checkpoint: e.unit, files: e.files, filesCopied: e.filesCopied, bytes: e.bytes, bytesCopied: e.bytesCopied, lagMs: e.lagMs },
        `${e.kind} published on the target`,
      );
      return;
    case "abandoned":
      if (e.reason === "subsumed") log.info({ event: e.type, reason: e.reason, checkpoint: e.unit, path: e.path }, "checkpoint subsumed on the source during the copy; moving on to a newer one");
      else log.warn({ event: e.type, reason: e.reason, checkpoint: e.unit, path: e.path }, "a file the checkpoint needs is gone from the source; checkpoint abandoned");
      return;
    case "unpublishable":
      log.error({ event: e.type, checkpoint: e.unit, reasons: e.reasons.slice(0, 10) }, "checkpoint cannot be published: it references files outside the replicated roots");
      return;
    case "corrupt-metadata":
      log.error({ event: e.type, checkpoint: e.unit, reason: e.reason }, "corrupt _metadata on the source; this checkpoint is skipped");
      return;
    case "broken":
      log.error(
        { event: e.type, dryRun: e.dryRun, checkpoint: e.unit, problems: e.problems.slice(0, 5) },
        e.dryRun ? "published checkpoint is no longer restorable on the target (dry run: left as is)" : "published checkpoint is no longer restorable on the target; unpublishing it (its _metadata first)",
      );
      return;
    case "deleted":
      log.debug({ event: e.type, checkpoint: e.unit, path: e.path, reason: e.reason }, "deleted on the target");
      return;
    case "job-error":
      log.error({ event: e.type, err: e.message }, "job sync failed; retrying next cycle");
      return;
  }
}

/** The hooks' share of an event (the metrics counters, the demo's output). */
export function toHooks(hooks: EngineHooks): Subscriber<EngineEvent> {
  return (e) => {
    switch (e.type) {
      case "scan":
        hooks.onScan?.(e.side, e.ms, e.requests, e.healthy);
        return;
      case "failover":
        hooks.onNamenodeFailover?.(e.cluster, e.from, e.to);
        return;
      case "published": {
        const { type: _type, ...event } = e;
        hooks.onPublished?.(event);
        return;
      }
      case "abandoned":
        hooks.onAbandoned?.(e.job, e.unit, e.reason, e.path);
        return;
      case "unpublishable":
        hooks.onUnpublishable?.(e.job, e.unit, e.reasons);
        return;
      case "corrupt-metadata":
        hooks.onCorruptMetadata?.(e.job, e.path, e.reason);
        return;
      case "broken":
        hooks.onBroken?.(e.job, e.unit, e.problems);
        return;
      case "deleted":
        hooks.onDeleted?.(e.job, e.path, e.reason);
        return;
      case "job-error":
        hooks.onJobError?.(e.job, e.error);
        return;
    }
  };
}
