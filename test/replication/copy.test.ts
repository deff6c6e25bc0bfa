// Copier against the emulated hdfs1 -> hdfs2 pair with injected faults: a copy
// either ends with the complete file at its final name or leaves nothing behind
// (no temporary, nothing at the final name), and says why.

import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Transform } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BandwidthLimiter, ByteBudget } from "../../src/replication/bandwidth.js";
import { Copier, CopyVerificationError, SourceVanishedError, type CopierOptions, type CopyTask } from "../../src/replication/copy.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { readSmallFile, StorageError, type ReadOnlyStorage, type Storage } from "../../src/storage/types.js";
import { LocalStorage } from "../../src/storage/local.js";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import { silentLogger } from "../../src/util/log.js";
import { WebHdfsClient, WebHdfsError } from "../../src/webhdfs/index.js";

let stateDir: string;
let sandbox: Sandbox;
let source: WebHdfsStorage;
let target: WebHdfsStorage;
let n = 0;

function storageOn(cluster: "hdfs1" | "hdfs2"): WebHdfsStorage {
  return new WebHdfsStorage(
    new WebHdfsClient({
      name: cluster,
      namenodes: sandbox.endpoints.clusters[cluster]!.namenodes,
      user: "flink",
      requestTimeoutMs: 5000,
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    }),
  );
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "copier-"));
  sandbox = await startSandbox({ stateDir, minBlockSize: 1024 });
  source = storageOn("hdfs1");
  target = storageOn("hdfs2");
});
afterEach(() => sandbox.faults.clear());
afterAll(async () => {
  source?.close();
  target?.close();
  await sandbox?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** A fresh source file of `size` random bytes and the task that copies it to a fresh target directory. */
async function sourceFile(size: number, o: { blockSize?: number } = {}): Promise<{ task: CopyTask; bytes: Buffer; targetDir: string }> {
  const i = n++;
  const bytes = randomBytes(size);
  const path = `/flink/cp/job/shared/file-${i}`;
  await source.mkdirs("/flink/cp/job/shared");
  await source.write(path, bytes, o.blockSize ? { blockSize: o.blockSize } : {});
  const targetDir = `/dr/cp/job-${i}/shared`;
  return { task: { source: path, target: `${targetDir}/file-${i}`, length: size, ...(o.blockSize ? { blockSize: o.blockSize } : {}), job: "job", unit: "chk-1" }, bytes, targetDir };
}

function laneCopier(o: Partial<CopierOptions> = {}): Copier {
  return new Copier({
    source,
    target,
    limiter: new BandwidthLimiter(0),
    budget: new ByteBudget(64 * 1024 * 1024),
    concurrency: 2,
    maxQueued: 100,
    retries: 3,
    checksum: false,
    logger: silentLogger,
    retryBaseMs: 5,
    ...o,
  });
}

const copier = laneCopier;

/** Names in the target directory (the final file, and any temporary left behind). */
async function targetNames(dir: string): Promise<string[]> {
  return ((await target.list(dir)) ?? []).map((e) => e.name).sort();
}

/** Watches the final name while a copy runs; records every length seen there. */
function watchFinalName(path: string) {
  const seen: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const st = await target.stat(path).catch(() => null);
      if (st) seen.push(st.length);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return seen;
    },
  };
}

/** The target with every write() path recorded. */
function recordingWrites(inner: Storage): { storage: Storage; written: string[] } {
  const written: string[] = [];
  const storage = new Proxy(inner, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "write") written.push(args[0] as string);
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { storage, written };
}

/** `inner` with its reads replaced by `read` (everything else passes through). */
function withReads(inner: ReadOnlyStorage, read: ReadOnlyStorage["read"]): ReadOnlyStorage {
  return {
    ...inner,
    name: inner.name,
    kind: inner.kind,
    stat: (p, o) => inner.stat(p, o),
    list: (p, o) => inner.list(p, o),
    checksum: (p, o) => inner.checksum(p, o),
    close: () => undefined,
    read,
  };
}

/** A source whose reads flip one byte in transit (same length), while checksum() reports the real file. */
function corruptingSource(inner: ReadOnlyStorage): ReadOnlyStorage {
  return withReads(inner, async (p, o) => {
    let first = true;
    return (await inner.read(p, o)).pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          if (first && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            chunk[0] = (chunk[0]! ^ 0xff) & 0xff;
            first = false;
          }
          cb(null, chunk);
        },
      }),
    );
  });
}

const rejection = <T>(p: Promise<T>) => p.then(() => null, (e: unknown) => e);

/**
 * Both lanes of the copier: files above `copy.smallFiles.maxSize` always stream through the bandwidth
 * limiter; small ones go straight from the source into the upload when no limit is set.
 */
const LANES: { lane: string; options: Partial<CopierOptions> }[] = [
  { lane: "large-file lane", options: {} },
  { lane: "small-file lane", options: { smallFiles: { maxSize: 2 << 20, concurrency: 2 } } },
];

/** A source whose reads send `afterBytes` bytes and then nothing, never ending: a copy stays in flight. */
function stallingSource(inner: ReadOnlyStorage, afterBytes: number): { storage: ReadOnlyStorage; streams: PassThrough[] } {
  const streams: PassThrough[] = [];
  const storage = withReads(inner, async () => {
    const s = new PassThrough();
    s.write(randomBytes(afterBytes));
    streams.push(s);
    return s;
  });
  return { storage, streams };
}

describe.each(LANES)("Copier ($lane): happy path", ({ options }) => {
  const copier = (o: Partial<CopierOptions> = {}) => laneCopier({ ...options, ...o });

  it("copies through a hidden temporary name in the target directory, then renames it into place", async () => {
    const { task, bytes, targetDir } = await sourceFile(200_000);
    const rec = recordingWrites(target);
    const done: number[] = [];
    await copier({ target: rec.storage, onFileDone: (_t, b) => done.push(b) }).copy(task);
    expect(Buffer.compare(await readSmallFile(target, task.target, 1 << 20), bytes)).toBe(0);
    expect(done).toEqual([200_000]);
    expect(rec.written).toHaveLength(1);
    const tmp = rec.written[0]!;
    expect(tmp.slice(0, tmp.lastIndexOf("/"))).toBe(targetDir);
    expect(tmp.slice(tmp.lastIndexOf("/") + 1)).toMatch(/^\.file-\d+\.ckpt-tmp\.[0-9a-f]{12}$/);
    expect(await targetNames(targetDir)).toEqual([task.target.slice(targetDir.length + 1)]);
  });

  it("shares one transfer between concurrent requests for the same target", async () => {
    const { task } = await sourceFile(50_000);
    const rec = recordingWrites(target);
    const c = copier({ target: rec.storage });
    await Promise.all([c.copy(task), c.copy(task), c.copy(task)]);
    expect(rec.written).toHaveLength(1);
  });
});

describe.each(LANES)("Copier ($lane): faults", ({ options }) => {
  const copier = (o: Partial<CopierOptions> = {}) => laneCopier({ ...options, ...o });

  it("retries a DataNode body cut mid-copy and ends with the complete file; the final name never shows a partial file", async () => {
    const { task, bytes, targetDir } = await sourceFile(1_000_000);
    sandbox.faults.add({ cluster: "hdfs1", role: "datanode", op: "OPEN", pathPrefix: task.source, action: { kind: "cut-body", afterBytes: 300_000 }, times: 2 });
    const watcher = watchFinalName(task.target);
    await copier().copy(task);
    const seen = await watcher.stop();
    expect(sandbox.faults.list()).toEqual([]); // both cuts happened
    expect(Buffer.compare(await readSmallFile(target, task.target, 2 << 20), bytes)).toBe(0);
    expect(seen.every((len) => len === 1_000_000)).toBe(true);
    expect(await targetNames(targetDir)).toEqual([task.target.slice(targetDir.length + 1)]);
  });

  it("survives a source body cut while the target NameNode is slow to answer CREATE (issue 7, bug 2: no unhandled stream error)", async () => {
    const { task, bytes, targetDir } = await sourceFile(127_443);
    sandbox.faults.add({ cluster: "hdfs2", role: "namenode", op: "CREATE", pathPrefix: targetDir, action: { kind: "latency", ms: 1500 }, times: 2 });
    sandbox.faults.add({ cluster: "hdfs1", role: "datanode", op: "OPEN", pathPrefix: task.source, action: { kind: "cut-body", afterBytes: 20_000 }, times: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      await copier().copy(task);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(sandbox.faults.list()).toEqual([]); // both cuts and both delays happened
    expect(Buffer.compare(await readSmallFile(target, task.target, 1 << 20), bytes)).toBe(0);
    expect(await targetNames(targetDir)).toEqual([task.target.slice(targetDir.length + 1)]);
  });

  it("reports a source file deleted during the read as vanished, leaving nothing on the target", async () => {
    const { task, targetDir } = await sourceFile(600_000);
    sandbox.faults.add({ cluster: "hdfs1", role: "datanode", op: "OPEN", pathPrefix: task.source, action: { kind: "delete-during-read", afterBytes: 200_000 } });
    const rec = recordingWrites(target);
    const err = await rejection(copier({ target: rec.storage }).copy(task));
    expect(err).toBeInstanceOf(SourceVanishedError);
    expect((err as SourceVanishedError).path).toBe(task.source);
    expect(rec.written).toHaveLength(1); // not retried
    expect(await targetNames(targetDir)).toEqual([]);
  });

  it("reports a source file gone before the copy starts as vanished", async () => {
    const { task, targetDir } = await sourceFile(1000);
    await source.client.delete(task.source);
    await expect(copier().copy(task)).rejects.toBeInstanceOf(SourceVanishedError);
    expect(await targetNames(targetDir)).toEqual([]);
  });

  it("retries a target DataNode error on CREATE", async () => {
    const { task, bytes } = await sourceFile(100_000);
    sandbox.faults.add({
      cluster: "hdfs2",
      role: "datanode",
      op: "CREATE",
      action: { kind: "error", status: 500, javaClassName: "java.io.IOException", message: "injected disk failure" },
      times: 2,
    });
    await copier().copy(task);
    expect(sandbox.faults.list()).toEqual([]);
    expect(Buffer.compare(await readSmallFile(target, task.target, 1 << 20), bytes)).toBe(0);
  });

  it("gives up after its retries on a persistent target error with the typed error, leaving nothing behind", async () => {
    const { task, targetDir } = await sourceFile(100_000);
    sandbox.faults.add({
      cluster: "hdfs2",
      role: "datanode",
      op: "CREATE",
      action: { kind: "error", status: 500, javaClassName: "java.io.IOException", message: "injected disk failure" },
      times: "always",
    });
    const err = await rejection(copier({ retries: 2 }).copy(task));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ reason: "transient", storage: "hdfs2", operation: "write" });
    expect((err as StorageError).cause).toBeInstanceOf(WebHdfsError);
    expect((err as StorageError).cause).toMatchObject({ cluster: "hdfs2", status: 500, javaClassName: "java.io.IOException" });
    sandbox.faults.clear();
    expect(await targetNames(targetDir)).toEqual([]);
  });

  it("refuses a copy whose length differs from the planned one; nothing appears at the final name", async () => {
    const { task, targetDir } = await sourceFile(5_000);
    const err = await rejection(copier({ retries: 1 }).copy({ ...task, length: 6_000 }));
    // The source's length is not what was planned: it changed under us.
    expect(err).toBeInstanceOf(SourceVanishedError);
    expect(await targetNames(targetDir)).toEqual([]);
  });

  it("when aborted, settles only after removing its temporary, and drops copies still queued", async () => {
    const running = await sourceFile(1_000_000);
    const queued = await sourceFile(1_000);
    const rec = recordingWrites(target);
    const controller = new AbortController();
    const oneAtATime = { concurrency: 1, ...(options.smallFiles ? { smallFiles: { ...options.smallFiles, concurrency: 1 } } : {}) };
    const c = copier({ target: rec.storage, ...oneAtATime, limiter: new BandwidthLimiter(512 * 1024) }); // ~2 s for the big file
    const results = Promise.all([rejection(c.copy(running.task, controller.signal)), rejection(c.copy(queued.task, controller.signal))]);
    setTimeout(() => controller.abort(new Error("replicator stopping")), 300);
    const t0 = Date.now();
    const [first, second] = await results;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect((first as Error).message).toMatch(/aborted|stopping/);
    expect((second as Error).message).toBe("replicator stopping");
    expect(rec.written).toHaveLength(1); // the queued copy never started
    // Checked right after the copies settled: the temporary is already gone.
    expect(await targetNames(running.targetDir)).toEqual([]);
    expect(await targetNames(queued.targetDir)).toEqual([]);
  });

  it("when aborted mid-transfer without a bandwidth limit, cancels the upload and the read, and leaves nothing behind", async () => {
    const { task, targetDir } = await sourceFile(200_000);
    const stalled = stallingSource(source, 50_000); // the upload is under way and never completes by itself
    const bytes: number[] = [];
    const c = copier({ source: stalled.storage, onBytes: (n) => bytes.push(n) });
    const controller = new AbortController();
    const result = rejection(c.copy(task, controller.signal));
    while (bytes.reduce((a, b) => a + b, 0) < 50_000) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("replicator stopping"));
    const err = await result;
    expect((err as Error).message).toMatch(/aborted|stopping/);
    expect(stalled.streams).toHaveLength(1);
    expect(stalled.streams[0]!.destroyed).toBe(true);
    expect(await targetNames(targetDir)).toEqual([]);
  });

  it("holds the copy to a bandwidth limit when one is set: 128 KB at 200 KiB/s takes over 0.4 s", async () => {
    const { task, bytes } = await sourceFile(128_000);
    const t0 = Date.now();
    await copier({ limiter: new BandwidthLimiter(200 * 1024) }).copy(task);
    // A lower bound only (the bucket starts empty: about 0.6 s): a loaded machine makes the copy slower, never faster.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(Buffer.compare(await readSmallFile(target, task.target, 1 << 20), bytes)).toBe(0);
  });
});

describe("Copier: checksum mode", () => {
  it("passes when the checksums are equal, and compares them on both sides", async () => {
    const { task, bytes } = await sourceFile(3_000, { blockSize: 1024 });
    const calls: string[] = [];
    const spy = (s: Storage, side: string): Storage =>
      new Proxy(s, {
        get(t, prop, receiver) {
          const v = Reflect.get(t, prop, receiver) as unknown;
          if (prop === "checksum") return (p: string) => (calls.push(side), t.checksum(p));
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
    await copier({ source: spy(source, "source"), target: spy(target, "target"), checksum: true }).copy(task);
    expect(calls.sort()).toEqual(["source", "target"]);
    expect(Buffer.compare(await readSmallFile(target, task.target, 1 << 20), bytes)).toBe(0);
    expect(await target.checksum(task.target)).toBe(await source.checksum(task.source));
  });

  it("fails a copy whose bytes were corrupted in transit (same length, different checksum), leaving nothing behind", async () => {
    const { task, targetDir } = await sourceFile(3_000, { blockSize: 1024 });
    const err = await rejection(copier({ source: corruptingSource(source), checksum: true, retries: 1 }).copy(task));
    expect(err).toBeInstanceOf(CopyVerificationError);
    expect((err as Error).message).toMatch(/checksum MD5-of-2MD5-of-512CRC32C:[0-9a-f]+ differs from the source's MD5-of-2MD5-of-512CRC32C:/);
    expect(await targetNames(targetDir)).toEqual([]);
    // The same corruption passes unnoticed without checksum mode: the length alone cannot catch it.
    await copier({ source: corruptingSource(source), checksum: false }).copy(task);
    expect(await target.checksum(task.target)).not.toBe(await source.checksum(task.source));
  });

  it("skips the comparison when the block sizes differ (the algorithms are not comparable) and the copy passes", async () => {
    const { task, bytes } = await sourceFile(3_000, { blockSize: 1024 });
    const { blockSize: _drop, ...withoutBlockSize } = task; // the target file gets the default block size
    await copier({ checksum: true }).copy(withoutBlockSize);
    const [a, b] = await Promise.all([source.checksum(task.source), target.checksum(task.target)]);
    expect(a!.split(":")[0]).not.toBe(b!.split(":")[0]);
    expect(Buffer.compare(await readSmallFile(target, task.target, 1 << 20), bytes)).toBe(0);
  });
});

describe("Copier: local target", () => {
  it("recreates a target directory that was removed after an earlier copy into it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "copier-local-"));
    try {
      await mkdir(join(dir, "src"));
      await writeFile(join(dir, "src", "f"), "first");
      await writeFile(join(dir, "src", "g"), "second");
      const local = new LocalStorage("local");
      const c = copier({ source: local, target: local, retries: 1 });
      const task = (name: string, length: number): CopyTask => ({ source: join(dir, "src", name), target: join(dir, "dr", "job", name), length, job: "job", unit: "chk-1" });
      await c.copy(task("f", 5));
      await rm(join(dir, "dr"), { recursive: true }); // e.g. an operator wiped the DR copy to start over
      await c.copy(task("g", 6));
      expect(await readFile(join(dir, "dr", "job", "g"), "utf8")).toBe("second");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
