// Storage over a local directory tree (file:/// roots): for a Flink job that
// checkpoints to local disk or an NFS mount, and for a local DR copy. Paths are
// absolute filesystem paths. Errors become StorageError with the reason the errno
// code means (the Node error stays as its cause).

import { createWriteStream } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm, rmdir, utimes, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { defineBackend, type ClusterSide } from "./backend.js";
import { StorageError, type StorageReason } from "./errors.js";
import { joinPath, type Entry, type IoOptions, type Storage, type StorageCapabilities, type WriteOptions } from "./types.js";

/** A POSIX tree: rename(2) is atomic, O_EXCL creates exclusively, directories have mtimes; no checksum. */
export const LOCAL_CAPABILITIES: StorageCapabilities = Object.freeze({
  atomicRename: true,
  atomicWrite: false,
  exclusiveCreate: true,
  conditionalWrite: false,
  directoryMtimes: true,
  listedMtimes: true,
  checksum: null,
  blockSize: false,
});

/** The reason an errno code means for the engine. */
export function errnoReason(err: unknown): StorageReason {
  if (err instanceof Error && err.name === "AbortError") return "aborted";
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case "ENOENT":
    case "ENOTDIR":
      return "not-found";
    case "EEXIST":
      return "exists";
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return "denied";
    case "ENOSPC":
    case "EDQUOT":
    case "EIO":
    case "EAGAIN":
    case "EBUSY":
    case "EMFILE":
    case "ENFILE":
    case "ESTALE":
      return "transient";
    case "ABORT_ERR":
      return "aborted";
    default:
      return "failed";
  }
}

export class LocalStorage implements Storage {
  readonly kind = "local" as const;
  readonly capabilities = LOCAL_CAPABILITIES;
  constructor(readonly name: string) {}

  private fail(operation: string, path: string, err: unknown): never {
    if (err instanceof StorageError) throw err;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const message = `${this.name}: ${operation} ${path} failed: ${code ?? (err instanceof Error ? err.message : String(err))}`;
    throw new StorageError({ reason: errnoReason(err), storage: this.name, operation, path, message, cause: err });
  }

  async stat(path: string): Promise<Entry | null> {
    try {
      const st = await lstat(path);
      return toEntry(path.slice(path.lastIndexOf("/") + 1), st);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      return this.fail("stat", path, err);
    }
  }

  async list(path: string): Promise<Entry[] | null> {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return null;
      if (code === "ENOTDIR") {
        const self = await this.stat(path);
        return self === null ? null : [{ ...self, name: "" }];
      }
      return this.fail("list", path, err);
    }
    const entries = await Promise.all(names.map((name) => this.stat(joinPath(path, name))));
    return entries.filter((e): e is Entry => e !== null).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  async read(path: string, o: IoOptions & { length?: number } = {}): Promise<Readable> {
    try {
      const handle = await open(path, "r");
      if (o.length === 0) {
        await handle.close();
        return Readable.from([]);
      }
      return handle.createReadStream({ ...(o.signal ? { signal: o.signal } : {}), ...(o.length !== undefined ? { start: 0, end: o.length - 1 } : {}) });
    } catch (err) {
      return this.fail("read", path, err);
    }
  }

  async write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    o.guard?.();
    const flag = o.overwrite ? "w" : "wx";
    const signal = o.signal ? { signal: o.signal } : {};
    const mode = o.permission !== undefined ? { mode: parseInt(o.permission, 8) } : {};
    try {
      if (body instanceof Uint8Array) await writeFile(path, body, { flag, ...signal, ...mode });
      else await pipeline(body, createWriteStream(path, { flags: flag, ...mode }), signal);
      if (o.mtime !== undefined) await utimes(path, new Date(), new Date(o.mtime));
    } catch (err) {
      this.fail("write", path, err);
    }
  }

  async mkdirs(path: string, o: IoOptions = {}): Promise<void> {
    o.guard?.();
    try {
      await mkdir(path, { recursive: true });
    } catch (err) {
      this.fail("mkdirs", path, err);
    }
  }

  async rename(src: string, dst: string, o: IoOptions & { overwrite?: boolean } = {}): Promise<void> {
    o.guard?.();
    try {
      if (!o.overwrite && (await this.stat(dst)) !== null) {
        throw Object.assign(new Error(`${dst} already exists`), { code: "EEXIST" });
      }
      await rename(src, dst);
    } catch (err) {
      this.fail("rename", `${src} -> ${dst}`, err);
    }
  }

  async delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    o.guard?.();
    const st = await this.stat(path);
    if (st === null) return false;
    try {
      if (st.type === "dir" && !o.recursive) await rmdir(path);
      else await rm(path, { recursive: o.recursive ?? false, force: false });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      return this.fail("delete", path, err);
    }
  }

  async checksum(): Promise<string | null> {
    return null;
  }

  close(): void {}
}

function toEntry(name: string, st: import("node:fs").Stats): Entry {
  return {
    name,
    type: st.isDirectory() ? "dir" : "file",
    length: st.isDirectory() ? 0 : st.size,
    mtime: Math.round(st.mtimeMs), // rounded: a time set with utimes() reads back a hair below it
    permission: (st.mode & 0o777).toString(8),
  };
}

/** The local-directory backend: every root a file:/// URI, no settings of its own. */
export const localBackend = defineBackend({
  kind: "local",
  label: "local filesystem",
  settings: {},
  scheme: "file",
  rootForm: "file:///path",
  localFiles: true,
  claims: (_raw, roots) => roots.every((r) => r.startsWith("file://")),
  rootPath: (root) => (root.startsWith("file://") ? root.slice("file://".length) : root),
  async resolve({ key, roots, problems }) {
    for (const r of roots) if (!r.startsWith("file:///")) problems.push(`paths[].${key}: ${r} is not a file:///path URI (a local path has no host)`);
    return { uri: "file://", aliases: [], settings: {} };
  },
  sameFilesystem: async () => true,
  create: (side) => new LocalStorage(side.name),
});

/** A local side named on a command line rather than in a configuration file (simulate-job --local). */
export function localSide(name: string): ClusterSide {
  return { kind: "local", backend: localBackend, name, uri: "file://", aliases: [], requestTimeoutMs: 30_000, retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, settings: {} };
}
