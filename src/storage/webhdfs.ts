// Storage over WebHDFS: adapts WebHdfsClient to the engine's Storage surface.
// Errors stay WebHdfsError (typed, with operation, path, status and remote
// exception), which isMissing()/isAlreadyExists() understand.

import type { Readable } from "node:stream";
import { checksumHex, type FileStatus, type WebHdfsClient } from "../webhdfs/index.js";
import type { Entry, IoOptions, Storage, StorageSecurity, WriteOptions } from "./types.js";

export class WebHdfsStorage implements Storage {
  readonly kind = "webhdfs" as const;
  readonly name: string;

  constructor(readonly client: WebHdfsClient) {
    this.name = client.name;
  }

  async stat(path: string, o?: IoOptions): Promise<Entry | null> {
    const st = await this.client.stat(path, o);
    return st === null ? null : toEntry(path.slice(path.lastIndexOf("/") + 1), st);
  }

  async list(path: string, o?: IoOptions): Promise<Entry[] | null> {
    const out: Entry[] = [];
    try {
      for await (const page of this.client.listStatusBatches(path, o)) {
        for (const st of page) out.push(toEntry(st.pathSuffix, st));
      }
    } catch (err) {
      if ((err as { status?: number; javaClassName?: string }).javaClassName === "java.io.FileNotFoundException") return null;
      throw err;
    }
    return out;
  }

  read(path: string, o?: IoOptions & { length?: number }): Promise<Readable> {
    return this.client.open(path, o);
  }

  write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    return this.client.create(path, body, {
      overwrite: o.overwrite ?? false,
      ...(o.blockSize ? { blockSize: o.blockSize } : {}),
      ...(o.permission ? { permission: o.permission } : {}),
      ...(o.replication ? { replication: o.replication } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.guard ? { guard: o.guard } : {}),
    });
  }

  mkdirs(path: string, o?: IoOptions): Promise<void> {
    return this.client.mkdirs(path, o);
  }

  rename(src: string, dst: string, o: IoOptions & { overwrite?: boolean } = {}): Promise<void> {
    return this.client.rename(src, dst, o);
  }

  delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    return this.client.delete(path, o);
  }

  setModificationTime(path: string, mtime: number, o?: IoOptions): Promise<void> {
    return this.client.setTimes(path, { modificationTime: mtime, ...(o?.signal ? { signal: o.signal } : {}), ...(o?.guard ? { guard: o.guard } : {}) });
  }

  async checksum(path: string, o?: IoOptions): Promise<string | null> {
    const c = await this.client.getFileChecksum(path, o);
    return `${c.algorithm}:${checksumHex(c)}`;
  }

  close(): void {
    this.client.close();
  }

  security(): StorageSecurity {
    return { credentialProblem: this.client.credentialProblem(), token: this.client.tokenStatus() };
  }

  release(): Promise<void> {
    return this.client.release();
  }
}

function toEntry(name: string, st: FileStatus): Entry {
  return {
    name,
    type: st.type === "DIRECTORY" ? "dir" : "file",
    length: st.length,
    mtime: st.modificationTime,
    ...(st.blockSize ? { blockSize: st.blockSize } : {}),
    ...(st.permission ? { permission: st.permission } : {}),
    ...(st.type !== "DIRECTORY" && st.replication ? { replication: st.replication } : {}),
  };
}
