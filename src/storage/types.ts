// The filesystem surface the replication engine needs, implemented over WebHDFS
// (storage/webhdfs.ts) and over a local directory tree (storage/local.ts), so the
// engine is written once for both. Paths are absolute, "/"-separated.

import type { Readable } from "node:stream";
import { CkptError } from "../util/errors.js";
import type { TokenStatus } from "../webhdfs/index.js";

export interface Entry {
  name: string;
  type: "file" | "dir";
  length: number;
  /** Modification time, ms since epoch. For directories: last change of the child list. */
  mtime: number;
  /** HDFS preferred block size (0 or absent where not applicable). */
  blockSize?: number;
  /** Octal permission, e.g. "644" (absent where unknown). */
  permission?: string;
  /** HDFS replication factor (absent where not applicable). */
  replication?: number;
}

export interface WriteOptions {
  overwrite?: boolean;
  blockSize?: number;
  /** Octal permission of the new file, e.g. "640" (HDFS: the CREATE permission; local: the file mode). */
  permission?: string;
  /** HDFS replication factor of the new file; ignored by a local storage. */
  replication?: number;
}

export interface IoOptions {
  signal?: AbortSignal;
  /**
   * Write fence: called just before each mutating request is sent (every retry too); what it throws
   * ends the operation unsent. See fenced().
   */
  guard?: () => void;
}

export interface Storage {
  /** Label for logs and metrics ("hdfs1", "target"...). */
  readonly name: string;
  readonly kind: "webhdfs" | "local";
  stat(path: string, o?: IoOptions): Promise<Entry | null>;
  /** Children of a directory, or null when it does not exist. */
  list(path: string, o?: IoOptions): Promise<Entry[] | null>;
  /** A stream of the file's bytes; with `length`, only the first `length` bytes (files may grow). */
  read(path: string, o?: IoOptions & { length?: number }): Promise<Readable>;
  /** Writes a new file from a stream (never buffered). Fails if it exists unless overwrite. */
  write(path: string, body: Readable | Uint8Array, o?: IoOptions & WriteOptions): Promise<void>;
  mkdirs(path: string, o?: IoOptions): Promise<void>;
  /** Atomic rename; replaces an existing destination file when overwrite. */
  rename(src: string, dst: string, o?: IoOptions & { overwrite?: boolean }): Promise<void>;
  /** False when nothing was there. */
  delete(path: string, o?: IoOptions & { recursive?: boolean }): Promise<boolean>;
  /** A comparable checksum string ("<algorithm>:<hex>"), or null where the storage has none. */
  checksum(path: string, o?: IoOptions): Promise<string | null>;
  /** Sets a file's modification time (ms since epoch). */
  setModificationTime(path: string, mtime: number, o?: IoOptions): Promise<void>;
  close(): void;
  /** Security state of a remote storage (refused TLS/credentials, delegation token); absent for local ones. */
  security?(): StorageSecurity;
  /** Gives back what the storage holds on the server for this process (cancels its delegation tokens). */
  release?(): Promise<void>;
}

export interface StorageSecurity {
  /** Why the cluster refuses this process's TLS or credentials right now (null: it does not). */
  credentialProblem: string | null;
  token: TokenStatus | null;
}

/**
 * The same storage with every mutating call fenced by `guard` (e.g. "this process still holds the lease"),
 * which the adapter checks right before each request goes out, retries included.
 */
export class FencedStorage implements Storage {
  readonly name: string;
  readonly kind: Storage["kind"];

  constructor(
    private readonly inner: Storage,
    private readonly guard: () => void,
  ) {
    this.name = inner.name;
    this.kind = inner.kind;
  }

  stat(path: string, o?: IoOptions): Promise<Entry | null> {
    return this.inner.stat(path, o);
  }
  list(path: string, o?: IoOptions): Promise<Entry[] | null> {
    return this.inner.list(path, o);
  }
  read(path: string, o?: IoOptions & { length?: number }): Promise<Readable> {
    return this.inner.read(path, o);
  }
  checksum(path: string, o?: IoOptions): Promise<string | null> {
    return this.inner.checksum(path, o);
  }
  write(path: string, body: Readable | Uint8Array, o: IoOptions & { overwrite?: boolean; blockSize?: number } = {}): Promise<void> {
    return this.inner.write(path, body, { ...o, guard: this.guard });
  }
  mkdirs(path: string, o: IoOptions = {}): Promise<void> {
    return this.inner.mkdirs(path, { ...o, guard: this.guard });
  }
  rename(src: string, dst: string, o: IoOptions & { overwrite?: boolean } = {}): Promise<void> {
    return this.inner.rename(src, dst, { ...o, guard: this.guard });
  }
  delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    return this.inner.delete(path, { ...o, guard: this.guard });
  }
  setModificationTime(path: string, mtime: number, o: IoOptions = {}): Promise<void> {
    return this.inner.setModificationTime(path, mtime, { ...o, guard: this.guard });
  }
  close(): void {
    this.inner.close();
  }
  security(): StorageSecurity {
    return this.inner.security?.() ?? { credentialProblem: null, token: null };
  }
  async release(): Promise<void> {
    await this.inner.release?.();
  }
}

/** True for "this path does not exist" from any Storage implementation. */
export function isMissing(err: unknown): boolean {
  if (err === null || typeof err !== "object") return false;
  const e = err as { code?: unknown; status?: unknown; javaClassName?: unknown };
  if (e.code === "ENOENT") return true;
  return e.status === 404 && e.javaClassName === "java.io.FileNotFoundException";
}

/**
 * True when trying the same operation again later may succeed (the cluster is busy, starting, in safe
 * mode or unreachable): an adapter's error says so through a boolean `transient` property.
 */
export function isTransient(err: unknown): boolean {
  return err !== null && typeof err === "object" && (err as { transient?: unknown }).transient === true;
}

/** Reads a whole small file (e.g. _metadata), refusing more than maxBytes. */
export async function readSmallFile(storage: Pick<Storage, "name" | "read">, path: string, maxBytes: number, o?: IoOptions): Promise<Buffer> {
  const stream = await storage.read(path, o);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new FileTooLargeError(storage.name, path, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}


export class FileTooLargeError extends CkptError {
  readonly kind = "file-too-large";
  constructor(
    readonly storage: string,
    readonly path: string,
    readonly limit: number,
  ) {
    super(`${storage}: ${path} is larger than the limit of ${limit} bytes`);
  }
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** True for "the path already exists" (create without overwrite, rename onto an existing name). */
export function isAlreadyExists(err: unknown): boolean {
  if (err === null || typeof err !== "object") return false;
  const e = err as { code?: unknown; javaClassName?: unknown };
  return (
    e.code === "EEXIST" ||
    e.javaClassName === "org.apache.hadoop.fs.FileAlreadyExistsException" ||
    e.javaClassName === "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
  );
}

/** The part of Storage that only reads: what the replicator is given for the source, which it never writes. */
export type ReadOnlyStorage = Pick<Storage, "name" | "kind" | "stat" | "list" | "read" | "checksum" | "close" | "security" | "release">;
