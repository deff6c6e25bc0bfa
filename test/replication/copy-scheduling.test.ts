// How the copier schedules work (local storage, target writes held at a gate so
// the order and the number in flight can be observed, no timing): small files
// run in their own lane beside copy.concurrency, a small checkpoint's copies go
// before a big backlog already queued, and a checkpoint hands the copier only a
// bounded window of its files at a time.

import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BandwidthLimiter, ByteBudget } from "../../src/replication/bandwidth.js";
import { Copier, copyCheckpointFiles, priorityForCheckpoint, type CopierOptions, type CopyTask } from "../../src/replication/copy.js";
import { LocalStorage } from "../../src/storage/local.js";
import type { IoOptions, Storage, WriteOptions } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sched-"));
  await mkdir(join(dir, "src"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Local storage whose writes wait until the gate opens; records the order writes started in and the peak in flight. */
class GatedTarget extends LocalStorage {
  readonly started: string[] = [];
  inFlight = 0;
  peak = 0;
  private waiting: (() => void)[] = [];
  private open = false;

  constructor() {
    super("gated");
  }

  override async write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    this.started.push(path.slice(path.lastIndexOf("/") + 1).replace(/\.ckpt-tmp.*$/, "").replace(/^\./, ""));
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    if (!this.open) await new Promise<void>((r) => this.waiting.push(r));
    try {
      await super.write(path, body, o);
    } finally {
      this.inFlight--;
    }
  }

  /** Lets every held and future write through. */
  openGate(): void {
    this.open = true;
    for (const w of this.waiting.splice(0)) w();
  }

  /** Resolves once `n` writes are held at the gate. */
  async untilWaiting(n: number): Promise<void> {
    while (this.waiting.length < n) await new Promise((r) => setImmediate(r));
  }
}

async function sourceFiles(prefix: string, count: number, size: number): Promise<CopyTask[]> {
  const tasks: CopyTask[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${i}`;
    await writeFile(join(dir, "src", name), Buffer.alloc(size, i % 251));
    tasks.push({ source: join(dir, "src", name), target: join(dir, "dst", prefix, name), length: size, job: prefix, unit: "chk-1" });
  }
  return tasks;
}

function copierFor(target: Storage, o: Partial<CopierOptions> = {}): Copier {
  return new Copier({
    source: new LocalStorage("local"),
    target,
    limiter: new BandwidthLimiter(0),
    budget: new ByteBudget(1 << 30),
    concurrency: 1,
    maxQueued: 10_000,
    retries: 0,
    checksum: false,
    logger: silentLogger,
    ...o,
  });
}

describe("Copier scheduling", () => {
  it("copies small files in their own lane, many at once, beside the large-file concurrency", async () => {
    const target = new GatedTarget();
    const copier = copierFor(target, { concurrency: 1, smallFiles: { maxSize: 4096, concurrency: 6 } });
    const small = await sourceFiles("small", 10, 1000);
    const large = await sourceFiles("large", 3, 10_000);
    const all = Promise.all([...small, ...large].map((t) => copier.copy(t)));
    await target.untilWaiting(7); // 6 small + 1 large, no more
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(target.inFlight).toBe(7);
    target.openGate();
    await all;
    expect(target.peak).toBe(7);
    for (const t of [...small, ...large]) expect((await readFile(t.target)).length).toBe(t.length);
  });

  it("without a small-file lane, copy.concurrency bounds every file", async () => {
    const target = new GatedTarget();
    const copier = copierFor(target, { concurrency: 2 });
    const all = Promise.all((await sourceFiles("f", 6, 1000)).map((t) => copier.copy(t)));
    await target.untilWaiting(2);
    target.openGate();
    await all;
    expect(target.peak).toBe(2);
  });

  it("a small checkpoint queued after a big backlog is copied before the backlog's remaining files", async () => {
    const target = new GatedTarget();
    const copier = copierFor(target, { concurrency: 1 });
    const big = (await sourceFiles("big", 40, 100)).map((t) => ({ ...t, priority: priorityForCheckpoint(40) }));
    const fresh = (await sourceFiles("fresh", 2, 100)).map((t) => ({ ...t, priority: priorityForCheckpoint(2) }));
    const bigDone = Promise.all(big.map((t) => copier.copy(t)));
    await target.untilWaiting(1); // the backlog's first file is being written, the other 39 are queued
    const freshDone = Promise.all(fresh.map((t) => copier.copy(t)));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    target.openGate();
    await Promise.all([bigDone, freshDone]);
    expect(target.started.slice(0, 3)).toEqual(["big-0", "fresh-0", "fresh-1"]);
    expect(target.started).toHaveLength(42);
  });

  it("a checkpoint hands the copier at most its window of files at a time, and copies them all", async () => {
    const target = new GatedTarget();
    const copier = copierFor(target, { concurrency: 1, smallFiles: { maxSize: 4096, concurrency: 2 } });
    expect(copier.checkpointWindow).toBe(6);
    const tasks = await sourceFiles("chk", 50, 100);
    const copied: string[] = [];
    let peakPending = 0;
    const done = copyCheckpointFiles(copier, tasks, undefined, (t) => {
      copied.push(t.target);
      peakPending = Math.max(peakPending, copier.pending);
    });
    await target.untilWaiting(2);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(copier.pending).toBe(6);
    target.openGate();
    expect(await done).toBeNull();
    expect(peakPending).toBeLessThanOrEqual(6);
    expect(copied.sort()).toEqual(tasks.map((t) => t.target).sort());
  });
});
