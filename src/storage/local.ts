// Storage over a local directory tree (file:/// roots): for a Flink job that
// checkpoints to local disk or an NFS mount, and for a local DR copy. Paths are
// absolute filesystem paths. Errors become LocalFsError carrying the errno code.

import { createWriteStream } from "node:fs";
import { lstat, mkdir, open, readdir, rename, rm, rmdir, utimes, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CkptError } from "../util/errors.js";
import { joinPath, type Entry, type IoOptions, type Storage } from "./types.js";

export class LocalFsError extends CkptError {
  readonly kind = "local-fs";
  readonly code: string | undefined;
  constructor(
    readonly storage: string,
    readonly operation: string,
    readonly path: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`${storage}: ${operation} ${path} failed: ${code ?? (cause instanceof Error ? cause.message : String(cause))}`, { cause });
    this.code = code;
  }
}

export class LocalStorage implements Storage {
  readonly kind = "local" as const;
  constructor(readonly name: string) {}

  private fail(operation: string, path: string, err: unknown): never {
    throw new LocalFsError(this.name, operation, path, err);
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

  async write(path: string, body: Readable | Uint8Array, o: IoOptions & { overwrite?: boolean; permission?: string } = {}): Promise<void> {
    o.guard?.();
    const flag = o.overwrite ? "w" : "wx";
    const signal = o.signal ? { signal: o.signal } : {};
    const mode = o.permission !== undefined ? { mode: parseInt(o.permission, 8) } : {};
    try {
      if (body instanceof Uint8Array) await writeFile(path, body, { flag, ...signal, ...mode });
      else await pipeline(body, createWriteStream(path, { flags: flag, ...mode }), signal);
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

  async setModificationTime(path: string, mtime: number, o: IoOptions = {}): Promise<void> {
    o.guard?.();
    try {
      const st = await lstat(path);
      await utimes(path, st.atime, new Date(mtime));
    } catch (err) {
      this.fail("setModificationTime", path, err);
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
