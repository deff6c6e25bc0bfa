// The S3 backend's definition: the `s3:` settings block of a side whose roots
// are s3://bucket/prefix (endpoint, region, addressing, credentials, whether
// the store honours conditional writes, multipart sizes, the scheme Flink uses
// for the bucket), how they are checked and resolved, and the Storage
// (storage/s3.ts) built from them.

import { z } from "zod";
import { readSecret, secretSource, size } from "../util/settings.js";
import { defineBackend, settingsOf, type ClusterSide } from "./backend.js";
import { S3Storage, STALE_UPLOAD_AFTER_MS } from "./s3.js";

export const S3_KIND = "s3";

/** A resolved S3 side: the bucket its s3:// roots name, and how to reach it. */
export interface S3SideSettings {
  bucket: string;
  endpoint: string | undefined;
  region: string;
  pathStyle: boolean;
  /** Resolved secrets; never logged. Absent: the AWS SDK's credential chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  conditionalWrites: boolean;
  partSize: number;
  uploadConcurrency: number;
}

export function s3Settings(side: ClusterSide): S3SideSettings {
  return settingsOf<S3SideSettings>(side, S3_KIND);
}

/** The `s3:` block of a side. */
const s3Block = z.strictObject({
  /** e.g. https://obs.cn-north-4.myhuaweicloud.com or http://127.0.0.1:9000; absent for AWS. */
  endpoint: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL of the S3 endpoint" }).optional(),
  region: z.string().min(1).default("us-east-1"),
  /** Path-style addressing (http://host/bucket/key), which MinIO, Ceph RGW and most S3-compatible servers need. */
  pathStyle: z.boolean().default(false),
  /** Static credentials; without them the AWS SDK's chain applies (AWS_* environment variables, ~/.aws files, roles). */
  accessKeyId: secretSource.optional(),
  secretAccessKey: secretSource.optional(),
  /** The store honours If-None-Match / If-Match on PUT (AWS S3 does); false makes the lease say it cannot exclude a race. */
  conditionalWrites: z.boolean().default(true),
  /** Multipart part size and parts in flight per upload: a streamed upload holds at most partSize x uploadConcurrency. */
  partSize: size("16MiB"),
  uploadConcurrency: z.number().int().min(1).max(16).default(2),
  /** The scheme Flink uses for the bucket in the published _metadata (flink-s3-fs-hadoop: s3 or s3a). */
  scheme: z.enum(["s3", "s3a"]).default("s3"),
});

const S3_ROOT = /^s3a?:\/\/([^/]+)(\/.*)?$/;

export const s3Backend = defineBackend({
  kind: S3_KIND,
  label: "S3-compatible object store",
  settings: { s3: s3Block.optional() },
  scheme: "s3",
  rootForm: "s3://bucket/prefix",
  localFiles: false,
  claims: (_raw, roots) => roots.some((r) => S3_ROOT.test(r)),
  rootPath(root) {
    const m = S3_ROOT.exec(root);
    if (m === null) return root;
    return m[2] === undefined || m[2] === "/" ? "/" : m[2].replace(/\/+$/, "");
  },
  async resolve({ key, raw, roots, env, problems }) {
    if (key === "source") problems.push("paths[].source: an s3:// root is not supported as a source (Flink's checkpoints are read from HDFS or a local tree)");
    const buckets = new Set(roots.map((r) => S3_ROOT.exec(r)?.[1] ?? `(not s3: ${r})`));
    for (const b of buckets) {
      if (S3_ROOT.test(`s3://${b}`) && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) problems.push(`paths[].${key}: "${b}" is not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')`);
    }
    if (buckets.size > 1) problems.push(`paths[].${key}: every root of an S3 side must be in one bucket, found ${[...buckets].join(", ")}`);
    const cfg = raw.s3 ?? s3Block.parse({});
    if (cfg.partSize < 5 * 1024 * 1024) problems.push(`${key}.s3.partSize: at least 5MiB (the S3 minimum for a multipart part)`);
    let credentials: S3SideSettings["credentials"];
    if ((cfg.accessKeyId === undefined) !== (cfg.secretAccessKey === undefined)) {
      problems.push(`${key}.s3: give both accessKeyId and secretAccessKey, or neither (the AWS SDK's credential chain then applies)`);
    } else if (cfg.accessKeyId !== undefined && cfg.secretAccessKey !== undefined) {
      const accessKeyId = await readSecret(`${key}.s3.accessKeyId`, cfg.accessKeyId, env, problems);
      const secretAccessKey = await readSecret(`${key}.s3.secretAccessKey`, cfg.secretAccessKey, env, problems);
      if (accessKeyId !== undefined && secretAccessKey !== undefined) credentials = { accessKeyId, secretAccessKey };
    }
    const bucket = [...buckets][0] ?? "";
    const settings: S3SideSettings = {
      bucket,
      endpoint: cfg.endpoint,
      region: cfg.region,
      pathStyle: cfg.pathStyle,
      credentials,
      conditionalWrites: cfg.conditionalWrites,
      partSize: cfg.partSize,
      uploadConcurrency: cfg.uploadConcurrency,
    };
    return { uri: `${cfg.scheme}://${bucket}`, aliases: [], settings };
  },
  async sameFilesystem(a, b) {
    const [x, y] = [s3Settings(a), s3Settings(b)];
    return x.bucket === y.bucket && x.endpoint === y.endpoint;
  },
  create: (side) => createS3Storage(side),
});

/** The S3 storage of a configured s3 side. */
export function createS3Storage(side: ClusterSide): S3Storage {
  const s3 = s3Settings(side);
  return new S3Storage({
    name: side.name,
    bucket: s3.bucket,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    region: s3.region,
    forcePathStyle: s3.pathStyle,
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
    conditionalWrites: s3.conditionalWrites,
    partSize: s3.partSize,
    queueSize: s3.uploadConcurrency,
    staleUploadAfterMs: STALE_UPLOAD_AFTER_MS,
    requestTimeoutMs: side.requestTimeoutMs,
    maxAttempts: side.retry.maxAttempts,
  });
}
