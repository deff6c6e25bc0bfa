// The configuration file's schema (YAML, validated with zod) and the normalized
// Config the rest of the daemon reads. Durations and sizes are accepted in human
// form and normalized to milliseconds / bytes; every problem names its key.

import { z } from "zod";
import { formatDuration, parseDuration, parseSize } from "./units.js";

/**
 * A duration with its unit ("500ms", "10s", "5m"). A bare number is rejected: whether `60` meant seconds or
 * milliseconds cannot be told, and a ttl of 60 ms instead of 60 s is a config that fails all day.
 */
const duration = (fallback: string, min?: { ms: number; why: string }) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      if (typeof v === "number" || /^\s*\d+(\.\d+)?\s*$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `${String(v).trim()} has no unit; write a duration with its unit, e.g. ${String(v).trim()}ms or ${String(v).trim()}s` });
        return z.NEVER;
      }
      const parsed = parseDuration(v);
      if (parsed === null) {
        ctx.addIssue({ code: "custom", message: `"${v}" is not a duration (examples: 500ms, 10s, 5m)` });
        return z.NEVER;
      }
      if (min !== undefined && parsed < min.ms) {
        ctx.addIssue({ code: "custom", message: `${v} is below the minimum of ${formatDuration(min.ms)}${min.why ? ` (${min.why})` : ""}` });
        return z.NEVER;
      }
      return parsed;
    });

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

const size = (fallback: string | number) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const parsed = parseSize(v);
      if (parsed === null) {
        ctx.addIssue({ code: "custom", message: `"${v}" is not a size (examples: 0, 512KiB, 64MiB, 1GiB)` });
        return z.NEVER;
      }
      return parsed;
    });

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

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL of a NameNode's HTTP port" });

const filesystemUri = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:\/\/[^/]*\/?$/i, "must be a filesystem URI such as hdfs://ns1 or hdfs://namenode:8020 (no path)")
  .transform((v) => v.replace(/\/$/, ""));

const tokenSource = z
  .strictObject({
    file: z.string().min(1).optional(),
    env: z.string().min(1).optional(),
  })
  .refine((t) => (t.file === undefined) !== (t.env === undefined), "give exactly one of file or env");

/** TLS for https:// NameNodes and DataNodes: PEM files (read at load), and the name certificates are checked against. */
const tlsSettings = z
  .strictObject({
    /** CA bundle (PEM) that signs the cluster's certificates; replaces the system trust store for this side. */
    ca: z.string().min(1).optional(),
    /** Client certificate (PEM) and its unencrypted private key (PEM), for servers that require one. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** Host name the server certificates must name (and SNI), instead of the URL's host. */
    serverName: z.string().regex(/^[A-Za-z0-9.-]+$/, "must be a host name").optional(),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), "give both cert and key, or neither");

const principal = z.string().regex(/^[^@\s]+@[^@\s]+$/, "must be a Kerberos principal name@REALM (or HTTP@host for a service)");

/** SPNEGO with the daemon's own Kerberos identity; delegation tokens are then fetched, renewed and replaced. */
const kerberosSettings = z.strictObject({
  /** The daemon's principal, e.g. replicator/host.example.com@EXAMPLE.COM. */
  principal,
  /** Keytab holding the principal's keys (no kinit); absent: the ticket cache (KRB5CCNAME). */
  keytab: z.string().min(1).optional(),
  /** The NameNodes' HTTP service in GSS form HTTP@host; default HTTP@<host of each NameNode URL>. */
  servicePrincipal: principal.optional(),
  /** Renewer named in GETDELEGATIONTOKEN; default the principal. */
  renewer: z.string().min(1).optional(),
});

/** An S3-compatible object store side (roots are s3://bucket/prefix). */
export const s3Settings = z.strictObject({
  /** e.g. https://obs.cn-north-4.myhuaweicloud.com or http://127.0.0.1:9000; absent for AWS. */
  endpoint: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL of the S3 endpoint" }).optional(),
  region: z.string().min(1).default("us-east-1"),
  /** Path-style addressing (http://host/bucket/key), which MinIO, Ceph RGW and most S3-compatible servers need. */
  pathStyle: z.boolean().default(false),
  /** Static credentials; without them the AWS SDK's chain applies (AWS_* environment variables, ~/.aws files, roles). */
  accessKeyId: tokenSource.optional(),
  secretAccessKey: tokenSource.optional(),
  /** The store honours If-None-Match / If-Match on PUT (AWS S3 does); false makes the lease say it cannot exclude a race. */
  conditionalWrites: z.boolean().default(true),
  /** Multipart part size and parts in flight per upload: a streamed upload holds at most partSize x uploadConcurrency. */
  partSize: size("16MiB"),
  uploadConcurrency: z.number().int().min(1).max(16).default(2),
  /** The scheme Flink uses for the bucket in the published _metadata (flink-s3-fs-hadoop: s3 or s3a). */
  scheme: z.enum(["s3", "s3a"]).default("s3"),
});

const side = z.strictObject({
  /** Label in logs and metrics. */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '.', '_' or '-'").optional(),
  /** NameNode HTTP URLs (HA: list all of them). Absent for a local (file://) side. */
  namenodes: z.array(httpUrl).min(1, "list at least one NameNode URL").optional(),
  /** The filesystem URI Flink writes in its paths for this cluster, e.g. hdfs://ns1. */
  uri: filesystemUri.optional(),
  /** Other spellings of the same cluster in Flink paths, e.g. hdfs://nn1.example.com:8020. */
  aliases: z.array(filesystemUri).default([]),
  user: z.string().regex(/^[A-Za-z_][A-Za-z0-9._-]*[$]?$/, "is not a valid HDFS user name").optional(),
  doAs: z.string().regex(/^[A-Za-z_][A-Za-z0-9._-]*[$]?$/, "is not a valid HDFS user name").optional(),
  delegationToken: tokenSource.optional(),
  kerberos: kerberosSettings.optional(),
  tls: tlsSettings.optional(),
  s3: s3Settings.optional(),
  requestTimeout: duration("30s", DURATION_MINIMUMS.requestTimeout),
  /** Retries of one request on transient failures (standby, safe mode, 5xx, network), across NameNodes. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(50).default(6),
      baseDelay: duration("100ms", DURATION_MINIMUMS["retry.baseDelay"]),
      maxDelay: duration("5s", DURATION_MINIMUMS["retry.maxDelay"]),
    })
    .prefault({}),
});

const absolutePath = z
  .string()
  .refine((p) => p.startsWith("/") || p.startsWith("file:///") || /^s3a?:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(p), "must be an absolute path (/...), a file:/// URI or s3://bucket/prefix")
  .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "must not contain . or .. segments")
  .transform((p) => (p.length > 1 ? p.replace(/\/+$/, "") : p));

export const configSchema = z.strictObject({
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

export type ParsedConfig = z.output<typeof configSchema>;
export type SideConfig = ParsedConfig["source"];
