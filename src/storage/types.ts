// The storage port: the filesystem surface the replication engine needs, with
// the capabilities each backend declares, implemented by one adapter per backend
// (storage/webhdfs.ts, storage/local.ts; built by storage/factory.ts), so the
// engine is written once for all. Paths are absolute, "/"-separated. Failures
// are StorageError (storage/errors.ts) with a typed reason.

import type { Readable } from "node:stream";
import { CkptError } from "../util/errors.js";
import type { TokenStatus } from "../webhdfs/index.js";

export { isAlreadyExists, isMissing, isUnsettledWrite, StorageError, storageReason, type StorageReason } from "./errors.js";

/**
 * What a backend offers, declared by its adapter. The engine chooses how to do what it means (write a file
 * so that it appears whole, create a file only if absent, reuse an unchanged listing) from these, never
 * from the kind of backend.
 */
export interface StorageCapabilities {
  /** rename() is atomic: a file written under a hidden temporary name and renamed appears whole at once. */
  atomicRename: boolean;
  /** A write becomes visible only once complete and whole (object stores): it may go to its final name. */
  atomicWrite: boolean;
  /** write() without overwrite fails with reason "exists" when the path exists: exactly one racing creator wins. */
  exclusiveCreate: boolean;
  /** write() with `ifMatch` replaces a file only while it is the version given (compare-and-swap). */
  conditionalWrite: boolean;
  /** A directory's mtime changes whenever a child is added or removed: an unchanged listing may be reused. */
  directoryMtimes: boolean;
  /** list() shows the mtime a write set (else only stat() does, and listings show when it was stored). */
  listedMtimes: boolean;
  /** The family of checksum() values ("MD5-of-CRC32C" style), or null when the backend has none. */
  checksum: string | null;
  /** write() honours `blockSize` (files keep the source's block size, so HDFS checksums stay comparable). */
  blockSize: boolean;
}

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
  /** Version token of a file (an ETag) for `ifMatch`, where capabilities.conditionalWrite. */
  version?: string;
}

export interface WriteOptions {
  overwrite?: boolean;
  blockSize?: number;
  /** Octal permission of the new file, e.g. "640" (HDFS: the CREATE permission; local: the file mode). */
  permission?: string;
  /** HDFS replication factor of the new file; ignored by a local storage. */
  replication?: number;
  /** The modification time (ms since epoch) the file shows once written. */
  mtime?: number;
  /** With capabilities.conditionalWrite: replace the file only while its version is this one (else reason "conflict"). */
  ifMatch?: string;
}

export interface IoOptions {
  signal?: AbortSignal;
  /**
   * Write fence: called just before each mutating request is sent (every retry too); what it throws
   * ends the operation unsent. See fenced().
   */
  guard?: () => void;
  /**
   * A control request (the lease): the adapter sends it so that it never waits behind data transfers
   * (WebHDFS: a connection pool of its own). Adapters without such a distinction ignore it.
   */
  control?: boolean;
  /**
   * delete() only: the path is a hidden temporary this process wrote under a fresh random name in the
   * attempt that now discards it. FencedStorage lets that delete through without the fence: nobody else
   * knows the name, so removing it cannot touch a newer lease holder's work, and a process whose lease
   * lapsed (paused, target slow to answer) must not leave its temporaries behind.
   */
  ownTemporary?: boolean;
}

/** The backend kind of a Storage ("webhdfs", "local", "s3"...), as its BackendDefinition names it. */
export type StorageKind = string;

export interface Storage {
  /** Label for logs and metrics ("hdfs1", "target"...). */
  readonly name: string;
  readonly kind: StorageKind;
  readonly capabilities: StorageCapabilities;
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
 * which the adapter checks right before each request goes out, retries included. The one exception is the
 * removal of this process's own hidden temporary (`ownTemporary`, see IoOptions).
 */
export class FencedStorage implements Storage {
  readonly name: string;
  readonly kind: Storage["kind"];
  readonly capabilities: StorageCapabilities;

  constructor(
    private readonly inner: Storage,
    private readonly guard: () => void,
  ) {
    this.name = inner.name;
    this.kind = inner.kind;
    this.capabilities = inner.capabilities;
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
  write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    return this.inner.write(path, body, { ...o, guard: this.guard });
  }
  mkdirs(path: string, o: IoOptions = {}): Promise<void> {
    return this.inner.mkdirs(path, { ...o, guard: this.guard });
  }
  rename(src: string, dst: string, o: IoOptions & { overwrite?: boolean } = {}): Promise<void> {
    return this.inner.rename(src, dst, { ...o, guard: this.guard });
  }
  delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    if (o.ownTemporary === true && o.recursive !== true) return this.inner.delete(path, o);
    return this.inner.delete(path, { ...o, guard: this.guard });
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


/** The part of Storage that only reads: what the replicator is given for the source, which it never writes. */
export type ReadOnlyStorage = Pick<Storage, "name" | "kind" | "capabilities" | "stat" | "list" | "read" | "checksum" | "close" | "security" | "release">;
