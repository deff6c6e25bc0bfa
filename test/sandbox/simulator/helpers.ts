// Test helpers for the simulator: the file tree of a storage, the closure a
// written `_metadata` really references (parsed back with the Flink engine), a
// storage wrapper that records calls and injects failures, and a log capture.

import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { parseMetadata, referenceClosure } from "../../../src/flink/index.js";
import type { FlinkJobSimulator, RetainedCheckpoint } from "../../../src/sandbox/simulator/index.js";
import { joinPath, readSmallFile, type Entry, type IoOptions, type Storage } from "../../../src/storage/types.js";
import type { Logger } from "../../../src/util/log.js";
import type { CheckpointMetadata } from "../../../src/flink/index.js";

/** Every file under `dir` with its length, by absolute path. */
export async function fileTree(storage: Storage, dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (d: string): Promise<void> => {
    for (const e of (await storage.list(d)) ?? []) {
      const p = joinPath(d, e.name);
      if (e.type === "dir") await walk(p);
      else out.set(p, e.length);
    }
  };
  await walk(dir);
  return out;
}

/** Every directory under `dir` (not `dir` itself). */
export async function dirTree(storage: Storage, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await storage.list(dir)) ?? []) {
    if (e.type !== "dir") continue;
    const p = joinPath(dir, e.name);
    out.push(p, ...(await dirTree(storage, p)));
  }
  return out.sort();
}

/** SHA-256 of every file under `dir`, keyed by path relative to `dir`. */
export async function treeDigests(storage: Storage, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of (await fileTree(storage, dir)).keys()) {
    const hash = createHash("sha256");
    for await (const chunk of await storage.read(path)) hash.update(chunk as Buffer);
    out[path.slice(dir.length)] = hash.digest("hex");
  }
  return out;
}

export async function readMetadata(storage: Storage, checkpoint: { metadataPath: string }): Promise<CheckpointMetadata> {
  return parseMetadata(await readSmallFile(storage, checkpoint.metadataPath, 64 * 1024 * 1024));
}

/** The files a checkpoint's `_metadata` references, as storage paths with sizes (parsed back from storage). */
export async function parsedClosure(sim: FlinkJobSimulator, storage: Storage, checkpoint: RetainedCheckpoint): Promise<{ path: string; size: number }[]> {
  const md = await readMetadata(storage, checkpoint);
  return referenceClosure(md, sim.layout.uri(checkpoint.dir)).map((r) => {
    const path = sim.layout.pathOf(r.location);
    if (path === null) throw new Error(`closure location ${r.location} is not under ${sim.layout.fsUri}`);
    return { path, size: r.size };
  });
}

export type Call = { op: "delete" | "write" | "mkdirs"; path: string; recursive?: boolean };

/** Delegates to `inner`, records mutating calls, and fails the calls `fail` picks. */
export class RecordingStorage implements Storage {
  readonly calls: Call[] = [];
  fail: (call: Call) => Error | null = () => null;
  /** Called when a write starts (after the failure check). */
  onWrite: (path: string) => void = () => {};

  constructor(readonly inner: Storage) {}

  get name(): string {
    return this.inner.name;
  }
  get kind(): Storage["kind"] {
    return this.inner.kind;
  }
  get capabilities(): Storage["capabilities"] {
    return this.inner.capabilities;
  }
  stat(path: string, o?: IoOptions): Promise<Entry | null> {
    return this.inner.stat(path, o);
  }
  list(path: string, o?: IoOptions): Promise<Entry[] | null> {
    return this.inner.list(path, o);
  }
  read(path: string, o?: IoOptions) {
    return this.inner.read(path, o);
  }
  private record(call: Call): void {
    this.calls.push(call);
    const err = this.fail(call);
    if (err) throw err;
  }
  async write(path: string, body: Parameters<Storage["write"]>[1], o?: Parameters<Storage["write"]>[2]): Promise<void> {
    this.record({ op: "write", path });
    this.onWrite(path);
    return this.inner.write(path, body, o);
  }
  async mkdirs(path: string, o?: IoOptions): Promise<void> {
    this.record({ op: "mkdirs", path });
    return this.inner.mkdirs(path, o);
  }
  rename(src: string, dst: string, o?: IoOptions & { overwrite?: boolean }): Promise<void> {
    return this.inner.rename(src, dst, o);
  }
  async delete(path: string, o?: IoOptions & { recursive?: boolean }): Promise<boolean> {
    this.record({ op: "delete", path, ...(o?.recursive !== undefined ? { recursive: o.recursive } : {}) });
    return this.inner.delete(path, o);
  }
  checksum(path: string, o?: IoOptions): Promise<string | null> {
    return this.inner.checksum(path, o);
  }
  close(): void {
    this.inner.close();
  }
}

/** A pino logger whose JSON lines end up in `lines`. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}
