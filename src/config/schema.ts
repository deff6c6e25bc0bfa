// The configuration file's schema (YAML, validated with zod) and the normalized
// Config the rest of the daemon reads. Durations and sizes are accepted in human
// form and normalized to milliseconds / bytes; every problem names its key.

import { z } from "zod";
import type { BackendDefinition } from "../storage/backend.js";
import { BACKENDS } from "../storage/factory.js";
import { duration, size } from "../util/settings.js";

/** Smallest accepted values of the durations that drive loops and deadlines (documented in the README). */
export const DURATION_MINIMUMS = {
  "scan.interval": { ms: 100, why: "a shorter interval only multiplies requests and failure logs" },
  "lease.ttl": { ms: 500, why: "the lease is renewed every ttl/4 and writes pause at ttl/2" },
  requestTimeout: { ms: 100, why: "" },
  "retry.baseDelay": { ms: 1, why: "" },
  "retry.maxDelay": { ms: 1, why: "" },
  "reap.tempGrace": { ms: 1000, why: "a younger temporary may still be being written" },
  "log.statsInterval": { ms: 1000, why: "" },
} as const;

/** A count (>= 0) or a percentage "N%" (0-100); normalized to {count} or {percent}. */
export const maxDelete = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const parsed = parseMaxDelete(v);
  if (parsed === null) {
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(v)} is not a count or a percentage (examples: 100, 10%)` });
    return z.NEVER;
  }
  return parsed;
});

export type MaxDelete = { count: number } | { percent: number };

export function parseMaxDelete(v: string | number): MaxDelete | null {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? { count: v } : null;
  const t = v.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) return Number(pct[1]) <= 100 ? { percent: Number(pct[1]) } : null;
  return /^\d+$/.test(t) ? { count: Number(t) } : null;
}

/** The keys of a side that every backend has; each backend adds its own (BackendDefinition.settings). */
const commonSide = {
  /** Label in logs and metrics. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '.', '_' or '-'").optional(),
  requestTimeout: duration("30s", DURATION_MINIMUMS.requestTimeout),
  /** Retries of one request on transient failures (standby, safe mode, 5xx, network), across NameNodes. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(50).default(6),
      baseDelay: duration("100ms", DURATION_MINIMUMS["retry.baseDelay"]),
      maxDelay: duration("5s", DURATION_MINIMUMS["retry.maxDelay"]),
    })
    .prefault({}),
};

/** A side as parsed: the common keys, and whichever backend's keys the file gave. */
export type SideConfig = z.output<z.ZodObject<typeof commonSide>> & Record<string, unknown>;

/** The schema of a side: the common keys and every listed backend's own (a key claimed twice is a programming error). */
function sideSchema(backends: readonly BackendDefinition[]): z.ZodType<SideConfig> {
  const shape: Record<string, z.core.$ZodType> = { ...commonSide };
  for (const b of backends) {
    for (const [key, schema] of Object.entries(b.settings)) {
      if (key in shape) throw new Error(`storage backend ${b.kind}: its setting "${key}" is a key another backend or every side already has`);
      shape[key] = schema;
    }
  }
  return z.strictObject(shape as z.ZodRawShape) as unknown as z.ZodType<SideConfig>;
}

const absolutePath = z
  .string()
  // Which backend serves a root, and whether its form is one it takes, is the backends' to say (config/load.ts).
  .refine((p) => p.startsWith("/") || /^[a-z][a-z0-9+.-]*:\/\//i.test(p), `must be an absolute path (/...) or a URI such as ${BACKENDS.map((b) => b.rootForm).filter((f) => !f.startsWith("/")).join(" or ")}`)
  .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "must not contain . or .. segments")
  .transform((p) => (p.length > 1 ? p.replace(/\/+$/, "") : p));

/** The file's schema, with the sides' keys of the given backends. */
export function configSchemaFor(backends: readonly BackendDefinition[]) {
  const side = sideSchema(backends);
  return z.strictObject({
    source: side,
    target: side,
    paths: z.array(z.strictObject({ source: absolutePath, target: absolutePath })).min(1, "list at least one {source, target} root"),
    rewrite: z.array(z.strictObject({ from: z.string().min(1), to: z.string().min(1) })).optional(),
    scan: z
      .strictObject({
        interval: duration("10s", DURATION_MINIMUMS["scan.interval"]),
        /** Every Nth scan ignores the listing cache and lists everything. */
        fullRescanEvery: z.number().int().min(1).default(30),
        listConcurrency: z.number().int().min(1).max(64).default(8),
        maxMetadataSize: size("64MiB"),
        /** A _metadata that has not parsed for this long without changing is reported as corrupt. */
        corruptAfter: duration("2m"),
      })
      .prefault({}),
    copy: z
      .strictObject({
        concurrency: z.number().int().min(1).max(256).default(4),
        /**
         * Files up to maxSize are copied in their own lane of `concurrency` transfers: a small file costs round
         * trips, not bandwidth, so many run at once (same byte budget and bandwidth limit).
         */
        smallFiles: z
          .strictObject({
            maxSize: size("1MiB"),
            concurrency: z.number().int().min(1).max(256).default(16),
          })
          .prefault({}),
        maxQueued: z.number().int().min(1).default(1000),
        maxBytesInFlight: size("1GiB"),
        /** Global bandwidth limit in bytes per second; 0 = unlimited. */
        bandwidth: size(0),
        /** Compare HDFS file checksums after each copy (both sides must be HDFS with equal block sizes). */
        checksum: z.boolean().default(false),
        retries: z.number().int().min(0).max(20).default(3),
        /** Like distcp -p: give copied files the source file's permission and/or replication factor. */
        preserve: z
          .strictObject({
            permission: z.boolean().default(false),
            replication: z.boolean().default(false),
          })
          .prefault({}),
      })
      .prefault({}),
    retain: z
      .strictObject({
        min: z.number().int().min(1, "must be at least 1: the newest restorable checkpoint is always kept").default(1),
        max: z.number().int().min(1).default(3),
      })
      .prefault({})
      .refine((r) => r.max >= r.min, { message: "max must be >= min", path: ["max"] }),
    reap: z
      .strictObject({
        enabled: z.boolean().default(true),
        maxDeletesPerCycle: z.number().int().min(1).default(1000),
        /** Own temporary files older than this are removed (crash leftovers). */
        tempGrace: duration("10m", DURATION_MINIMUMS["reap.tempGrace"]),
        /**
         * Abort threshold (rclone's --max-delete), for the whole run or daemon cycle: a count of paths deleted
         * by all jobs together, or a percentage ("10%") of the files on the target under the configured roots.
         * The reap that would go past it deletes nothing, nor does any later one of the run (see delete-limit.ts).
         */
        maxDelete: maxDelete.optional(),
      })
      .prefault({}),
    lease: z
      .strictObject({
        ttl: duration("60s", DURATION_MINIMUMS["lease.ttl"]),
        /** Where the single-writer lease lives; default <first target root>/.ckpt-replicator/lease. */
        path: absolutePath.optional(),
      })
      .prefault({}),
    metrics: z
      .union([
        z.literal(false),
        z.strictObject({
          listen: z
            .union([z.string(), z.number()])
            .default("127.0.0.1:9464")
            .transform((v, ctx) => {
              if (typeof v === "number" || /^\d+$/.test(v)) {
                ctx.addIssue({
                  code: "custom",
                  message: `${v} is a bare port; write host:port as a string, e.g. "127.0.0.1:${v}" (this host only) or "0.0.0.0:${v}" (every interface)`,
                });
                return z.NEVER;
              }
              const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(v);
              if (m === null || Number(m[2]) > 65535) {
                ctx.addIssue({ code: "custom", message: `"${v}" must be host:port with a port from 0 to 65535, e.g. 127.0.0.1:9464` });
                return z.NEVER;
              }
              return v;
            }),
        }),
      ], { error: 'must be false (no metrics endpoint) or a mapping such as {listen: "127.0.0.1:9464"}' })
      .default({ listen: "127.0.0.1:9464" }),
    /** Recovery point objectives: how old the newest restore point (restorable checkpoint or savepoint) on the target may be. */
    rpo: z
      .strictObject({
        /** For every job without its own entry in jobs. */
        objective: duration("15m"),
        /** Per Flink job id: its own objective. */
        jobs: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a Flink job id (the job directory name)"), duration("15m")).default({}),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        /** The daemon logs a one-line summary (copied, pending, per-job RPO) this often. */
        statsInterval: duration("1m", DURATION_MINIMUMS["log.statsInterval"]),
      })
      .prefault({}),
  });
}

export const configSchema = configSchemaFor(BACKENDS);

export type ParsedConfig = z.output<typeof configSchema>;
