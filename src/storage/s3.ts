// Storage over an S3-compatible object store (AWS S3, Huawei OBS, MinIO, Ceph RGW...)
// with AWS SDK v3: one bucket, paths "/a/b" as keys "a/b". An object store has no
// rename and no directory mtimes; a PUT (and a completed multipart upload) is
// visible only once whole, so files are written straight to their final key.
// Directories are key prefixes; mkdirs leaves a zero-byte "a/b/" marker so an
// empty directory exists. Streams go up as multipart uploads with bounded memory
// (partSize x queueSize); a failed or aborted upload is aborted on the store, and
// uploads left by a crash are aborted once older than staleUploadAfterMs.
// Exclusive create and the lease's compare-and-swap are If-None-Match / If-Match.
// The modification time a write sets travels as x-amz-meta-mtime: HEAD shows it,
// listings show only the store's LastModified (capabilities.listedMtimes false).
// The SDK is loaded on first use: a command that never touches a bucket does not
// pay for importing it (about half a second).

import { Readable, Transform } from "node:stream";
import type { ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import { StorageError, type StorageReason } from "./errors.js";
import type { Entry, IoOptions, Storage, StorageCapabilities, WriteOptions } from "./types.js";

export const S3_CAPABILITIES: StorageCapabilities = Object.freeze({
  atomicRename: false,
  atomicWrite: true,
  exclusiveCreate: true,
  conditionalWrite: true,
  directoryMtimes: false,
  listedMtimes: false,
  checksum: null,
  blockSize: false,
});

/** A store without conditional writes: no exclusive create, no compare-and-swap (the lease says so at start-up). */
export const S3_CAPABILITIES_UNCONDITIONAL: StorageCapabilities = Object.freeze({ ...S3_CAPABILITIES, exclusiveCreate: false, conditionalWrite: false });

export interface S3StorageOptions {
  name: string;
  bucket: string;
  /** e.g. http://127.0.0.1:9000 for MinIO; absent for AWS. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (http://host/bucket/key), which most S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Static credentials; without them the SDK's chain is used (AWS_* environment, ~/.aws files, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Whether the store honours If-None-Match / If-Match on PUT (AWS S3 does since 2024). */
  conditionalWrites: boolean;
  /** Multipart part size (at least 5 MiB) and parts in flight: the memory a streamed upload may hold. */
  partSize: number;
  queueSize: number;
  /** Multipart uploads initiated longer ago than this are crash leftovers, aborted by cleanStaleUploads(). */
  staleUploadAfterMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  /** Keys per ListObjectsV2 page (the S3 maximum, 1000, unless a test wants paging on few keys). */
  listPageSize?: number;
}

const MTIME_KEY = "mtime";

type Sdk = typeof import("@aws-sdk/client-s3");
let sdkModule: Promise<Sdk> | undefined;
let uploadModule: Promise<typeof import("@aws-sdk/lib-storage")> | undefined;
const loadSdk = (): Promise<Sdk> => (sdkModule ??= import("@aws-sdk/client-s3"));

/** Multipart uploads older than this are a crash's leftovers (a live upload of one file never takes a day). */
export const STALE_UPLOAD_AFTER_MS = 24 * 3600_000;

export class S3Storage implements Storage {
  readonly kind = "s3" as const;
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  private clientPromise: Promise<S3Client> | undefined;
  private readonly bucket: string;
  private lastCleanup = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: S3StorageOptions) {
    this.name = o.name;
    this.bucket = o.bucket;
    this.capabilities = o.conditionalWrites ? S3_CAPABILITIES : S3_CAPABILITIES_UNCONDITIONAL;
  }

  /** The SDK client, created on first use. */
  async s3Client(): Promise<S3Client> {
    this.clientPromise ??= loadSdk().then((sdk) => this.createClient(sdk));
    return this.clientPromise;
  }

  private async sdk(): Promise<{ client: S3Client; sdk: Sdk }> {
    return { client: await this.s3Client(), sdk: await loadSdk() };
  }

  private createClient(sdk: Sdk): S3Client {
    const o = this.o;
    return new sdk.S3Client({
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      maxAttempts: o.maxAttempts,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      requestHandler: { requestTimeout: o.requestTimeoutMs, connectionTimeout: o.requestTimeoutMs },
      // Checksums the SDK would add by default (CRC32 trailers) are not understood by every S3-compatible store.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  private fail(operation: string, path: string, err: unknown, conditional?: "if-none-match" | "if-match"): never {
    if (err instanceof StorageError) throw err;
    const reason = s3Reason(err, conditional);
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const status = serviceStatus(err) !== undefined ? ` (${serviceStatus(err) ?? "?"})` : "";
    throw new StorageError({
      reason,
      storage: this.name,
      operation,
      path,
      message: `${this.name}: ${operation} s3://${this.bucket}${path} failed${status}: ${detail}`,
      ...(reason === "unreachable" ? { hint: `is ${this.o.endpoint ?? "the S3 endpoint"} reachable?` } : {}),
      cause: err,
    });
  }

  /**
   * The object's body as the caller reads it: a body cut mid-stream (connection reset, the server closing
   * before Content-Length) errors with a StorageError of reason `transient` (`aborted` when the caller's
   * signal fired), naming the operation and the path, as the WebHDFS read stream does.
   */
  private typedBody(path: string, body: Readable, expected: number | undefined, signal: AbortSignal | undefined): Readable {
    let received = 0;
    const cut = (why: string, cause?: unknown): StorageError => {
      const aborted = signal?.aborted === true;
      return new StorageError({
        reason: aborted ? "aborted" : "transient",
        storage: this.name,
        operation: "read",
        path,
        message: `${this.name}: read s3://${this.bucket}${path} failed: ${aborted ? "aborted" : why} after ${received} of ${expected ?? "?"} bytes`,
        ...(cause !== undefined ? { cause } : {}),
      });
    };
    const out = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(null, chunk);
      },
      flush(callback) {
        callback(expected !== undefined && received < expected ? cut("the body ended early") : null);
      },
    });
    body.on("error", (err) => out.destroy(cut(`the connection broke (${(err as { code?: string }).code ?? err.message})`, err)));
    body.once("close", () => {
      if (!body.readableEnded && !out.destroyed) out.destroy(cut("the connection closed"));
    });
    out.once("close", () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(out);
    return out;
  }

  async stat(path: string, o: IoOptions = {}): Promise<Entry | null> {
    const key = keyOf(path);
    if (key !== "") {
      try {
        const h = await (await this.sdk()).client.send(new (await loadSdk()).HeadObjectCommand({ Bucket: this.bucket, Key: key }), signalOf(o));
        return fileEntry(baseOf(path), h.ContentLength ?? 0, mtimeOf(h.Metadata, h.LastModified), h.ETag);
      } catch (err) {
        if (s3Reason(err) !== "not-found") this.fail("stat", path, err);
      }
    }
    const page = await this.listPage(path, dirPrefix(key), undefined, 1, o);
    const exists = key === "" || (page.KeyCount ?? 0) > 0;
    return exists ? { name: baseOf(path), type: "dir", length: 0, mtime: 0 } : null;
  }

  async list(path: string, o: IoOptions = {}): Promise<Entry[] | null> {
    const prefix = dirPrefix(keyOf(path));
    const out: Entry[] = [];
    let seen = false;
    let token: string | undefined;
    do {
      const page = await this.listPage(path, prefix, token, this.o.listPageSize ?? 1000, o);
      for (const p of page.CommonPrefixes ?? []) {
        seen = true;
        if (p.Prefix) out.push({ name: p.Prefix.slice(prefix.length, -1), type: "dir", length: 0, mtime: 0 });
      }
      for (const c of page.Contents ?? []) {
        seen = true;
        if (!c.Key || c.Key === prefix) continue; // the directory's own marker
        out.push(fileEntry(c.Key.slice(prefix.length), c.Size ?? 0, c.LastModified?.getTime() ?? 0, c.ETag));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (!seen && prefix !== "") {
      // A key with this name is a file: list() of a file shows the file itself (as LocalStorage does).
      return null;
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  private async listPage(path: string, prefix: string, token: string | undefined, max: number, o: IoOptions): Promise<ListObjectsV2CommandOutput> {
    try {
      const { client, sdk } = await this.sdk();
      return await client.send(
        new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: "/", MaxKeys: max, ...(token ? { ContinuationToken: token } : {}) }),
        signalOf(o),
      );
    } catch (err) {
      return this.fail("list", path, err);
    }
  }

  async read(path: string, o: IoOptions & { length?: number } = {}): Promise<Readable> {
    if (o.length === 0) {
      if ((await this.stat(path, o))?.type !== "file") {
        throw new StorageError({ reason: "not-found", storage: this.name, operation: "read", path, message: `${this.name}: read s3://${this.bucket}${path} failed: no such object` });
      }
      return Readable.from([]);
    }
    try {
      const { client, sdk } = await this.sdk();
      const res = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.bucket, Key: keyOf(path), ...(o.length !== undefined ? { Range: `bytes=0-${o.length - 1}` } : {}) }),
        signalOf(o),
      );
      return this.typedBody(path, res.Body as Readable, res.ContentLength, o.signal);
    } catch (err) {
      return this.fail("read", path, err);
    }
  }

  async write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    const key = keyOf(path);
    const overwrite = o.overwrite ?? false;
    const conditional = o.ifMatch !== undefined ? "if-match" : !overwrite && this.capabilities.exclusiveCreate ? "if-none-match" : undefined;
    const params = {
      Bucket: this.bucket,
      Key: key,
      ...(o.mtime !== undefined ? { Metadata: { [MTIME_KEY]: String(o.mtime) } } : {}),
      ...(conditional === "if-match" ? { IfMatch: o.ifMatch } : {}),
      ...(conditional === "if-none-match" ? { IfNoneMatch: "*" } : {}),
    };
    if (!(body instanceof Uint8Array)) body.on("error", () => {}); // seen by the upload, which then fails
    await this.cleanStaleUploadsNow(o);
    if (!overwrite && conditional === undefined && (await this.stat(path, o)) !== null) {
      this.fail("write", path, Object.assign(new Error("the object exists"), { name: "ObjectExists" }), "if-none-match");
    }
    o.guard?.();
    try {
      if (body instanceof Uint8Array) {
        await (await this.sdk()).client.send(new (await loadSdk()).PutObjectCommand({ ...params, Body: body, ContentLength: body.length }), signalOf(o));
        return;
      }
      // Multipart with bounded memory. A body smaller than one part goes up as one PutObject (with the
      // conditions); a larger one as a multipart upload, which is aborted on the store when it fails.
      const { Upload } = await (uploadModule ??= import("@aws-sdk/lib-storage"));
      const upload = new Upload({ client: await this.s3Client(), params: { ...params, Body: body }, partSize: this.o.partSize, queueSize: this.o.queueSize, leavePartsOnError: false });
      const onAbort = () => void upload.abort().catch(() => undefined);
      o.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        o.signal?.throwIfAborted();
        await upload.done();
      } finally {
        o.signal?.removeEventListener("abort", onAbort);
      }
    } catch (err) {
      this.fail("write", path, o.signal?.aborted ? abortError(o.signal.reason) : err, conditional);
    }
  }

  async mkdirs(path: string, o: IoOptions = {}): Promise<void> {
    const key = keyOf(path);
    if (key === "") return;
    o.guard?.();
    try {
      await (await this.sdk()).client.send(new (await loadSdk()).PutObjectCommand({ Bucket: this.bucket, Key: dirPrefix(key), Body: new Uint8Array(0) }), signalOf(o));
    } catch (err) {
      this.fail("mkdirs", path, err);
    }
  }

  async rename(src: string, dst: string): Promise<void> {
    throw new StorageError({
      reason: "unsupported",
      storage: this.name,
      operation: "rename",
      path: `${src} -> ${dst}`,
      message: `${this.name}: an object store has no atomic rename (capabilities.atomicRename is false)`,
    });
  }

  async delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    const key = keyOf(path);
    const st = await this.stat(path, o);
    if (st === null) return false;
    o.guard?.();
    if (st.type === "file") {
      await this.deleteKeys(path, [key], o);
      return true;
    }
    const prefix = dirPrefix(key);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await (await this.sdk()).client.send(new (await loadSdk()).ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }), signalOf(o));
      } catch (err) {
        return this.fail("delete", path, err);
      }
      for (const c of page.Contents ?? []) if (c.Key) keys.push(c.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (!o.recursive && keys.some((k) => k !== prefix)) {
      throw new StorageError({ reason: "failed", storage: this.name, operation: "delete", path, message: `${this.name}: delete ${path} failed: the directory is not empty` });
    }
    await this.deleteKeys(path, keys, o);
    return true;
  }

  private async deleteKeys(path: string, keys: string[], o: IoOptions): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      o.guard?.();
      try {
        const res = await (await this.sdk()).client.send(new (await loadSdk()).DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }), signalOf(o));
        const failed = res.Errors?.[0];
        if (failed) throw Object.assign(new Error(`${failed.Key}: ${failed.Code ?? "?"} ${failed.Message ?? ""}`), { name: failed.Code ?? "DeleteFailed" });
      } catch (err) {
        this.fail("delete", path, err);
      }
    }
  }

  async checksum(): Promise<string | null> {
    return null; // an ETag depends on how the object was uploaded: not comparable with the source
  }

  /**
   * Aborts the multipart uploads below the bucket initiated longer ago than staleUploadAfterMs (left by a
   * crash; a failed upload in this process is aborted at once). Returns how many were aborted.
   */
  async cleanStaleUploads(o: IoOptions = {}, now = Date.now()): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await (await this.s3Client())
        .send(new (await loadSdk()).ListMultipartUploadsCommand({ Bucket: this.bucket, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}) }), signalOf(o))
        .catch((err: unknown) => this.fail("list uploads", "/", err));
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? now) > now - this.o.staleUploadAfterMs) continue;
        o.guard?.();
        await (await this.sdk()).client.send(new (await loadSdk()).AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }), signalOf(o)).catch((err: unknown) => {
          if (s3Reason(err) !== "not-found") this.fail("abort upload", `/${u.Key}`, err);
        });
        aborted++;
      }
      if (!page.IsTruncated) return aborted;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** At most once an hour, before a write: crash leftovers do not pile up (and cost storage). */
  private async cleanStaleUploadsNow(o: IoOptions): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 3_600_000) return;
    this.lastCleanup = now;
    await this.cleanStaleUploads(o, now).catch(() => {
      this.lastCleanup = Number.NEGATIVE_INFINITY; // try again with the next write
    });
  }

  close(): void {
    void this.clientPromise?.then((c) => c.destroy());
  }
}

/** The reason an S3 failure means for the engine. `conditional` says which precondition the request carried. */
export function s3Reason(err: unknown, conditional?: "if-none-match" | "if-match"): StorageReason {
  if (err instanceof StorageError) return err.reason;
  const name = err instanceof Error ? err.name : "";
  if (name === "AbortError") return "aborted";
  if (name === "ObjectExists") return "exists";
  const serviceCode = serviceStatus(err);
  if (serviceCode !== undefined) {
    const status = serviceCode ?? 0;
    if (status === 412 || name === "PreconditionFailed" || status === 409 && name === "ConditionalRequestConflict") {
      return conditional === "if-match" ? "conflict" : "exists";
    }
    if (status === 404 || name === "NoSuchKey" || name === "NotFound" || name === "NoSuchBucket" || name === "NoSuchUpload") return "not-found";
    if (status === 401 || status === 403 || name === "AccessDenied" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch") return "denied";
    if (status === 501 || name === "NotImplemented") return "unsupported";
    if (status >= 500 || status === 429 || name === "SlowDown" || name === "RequestTimeout" || name === "RequestTimeTooSkewed") return "transient";
    if (status === 400) return "fatal";
    return "failed";
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (name === "TimeoutError" || code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ETIMEDOUT") return "unreachable";
  return "failed";
}

/**
 * The HTTP status of an error the store answered (the SDK's S3ServiceException carries `$metadata` and
 * `$fault`); undefined for anything else (a network failure, an abort). null when the store gave none.
 */
function serviceStatus(err: unknown): number | null | undefined {
  if (err === null || typeof err !== "object" || !("$fault" in err) || !("$metadata" in err)) return undefined;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status ?? null;
}

function keyOf(path: string): string {
  return path.replace(/^\/+/, "").replace(/\/+$/, "");
}

function dirPrefix(key: string): string {
  return key === "" ? "" : `${key}/`;
}

function baseOf(path: string): string {
  const key = keyOf(path);
  return key.slice(key.lastIndexOf("/") + 1);
}

function fileEntry(name: string, length: number, mtime: number, etag: string | undefined): Entry {
  return { name, type: "file", length, mtime, ...(etag ? { version: etag } : {}) };
}

function mtimeOf(metadata: Record<string, string> | undefined, lastModified: Date | undefined): number {
  const set = Number(metadata?.[MTIME_KEY]);
  return Number.isFinite(set) && metadata?.[MTIME_KEY] !== undefined ? set : (lastModified?.getTime() ?? 0);
}

function signalOf(o: IoOptions): { abortSignal?: AbortSignal } {
  return o.signal ? { abortSignal: o.signal } : {};
}

function abortError(reason: unknown): Error {
  return Object.assign(new Error(reason instanceof Error ? reason.message : "aborted"), { name: "AbortError" });
}
