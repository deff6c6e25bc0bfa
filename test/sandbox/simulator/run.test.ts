// The simulator's run loop (interval, count, abort), its log lines, and bounded
// memory: large state files are streamed in small chunks, never buffered.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FlinkJobSimulator, STATE_CHUNK_BYTES, type SimulatorOptions } from "../../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../../src/storage/local.js";
import { WEBHDFS_CAPABILITIES } from "../../../src/storage/webhdfs.js";
import type { Entry, Storage } from "../../../src/storage/types.js";
import { capturingLogger, fileTree } from "./helpers.js";

let tmp: string;
const storage = new LocalStorage("local");

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "simulator-run-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const opts = (o: Partial<SimulatorOptions> = {}): SimulatorOptions => ({
  storage,
  fsUri: "hdfs://hdfs1",
  root: `${tmp}/cp`,
  stateSizeBytes: 32 * 1024,
  ...o,
});

describe("run loop and logging", () => {
  it("takes count checkpoints one interval apart, logging one line per completed and per subsumed checkpoint", async () => {
    const { logger, lines } = capturingLogger();
    const sim = new FlinkJobSimulator(opts({ intervalMs: 40, retained: 2, logger }));
    const started = performance.now();
    await sim.run({ count: 3 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(sim.retained().map((c) => c.id)).toEqual([2, 3]);
    const completed = lines.filter((l) => l.msg === "checkpoint completed");
    const subsumed = lines.filter((l) => l.msg === "checkpoint subsumed");
    expect(completed.map((l) => [l.jobId, l.checkpointId])).toEqual([1, 2, 3].map((n) => [sim.jobId, n]));
    expect(subsumed.map((l) => [l.jobId, l.checkpointId])).toEqual([[sim.jobId, 1]]);
    expect(completed[0]).toMatchObject({ level: 30, newFiles: expect.any(Number), newBytes: expect.any(Number), durationMs: expect.any(Number) });
    expect(lines).toHaveLength(4);
  });

  it("uses the checkpoints option when run() gets no count", async () => {
    const sim = new FlinkJobSimulator(opts({ intervalMs: 0, checkpoints: 2, retained: 5 }));
    await sim.run();
    expect(sim.retained().map((c) => c.id)).toEqual([1, 2]);
  });

  it("without a count runs until the signal aborts, also while waiting for the next interval", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const sim = new FlinkJobSimulator(
      opts({
        intervalMs: 60_000,
        onCheckpoint: (e) => {
          seen.push(e.checkpointId);
          setTimeout(() => controller.abort(), 20);
        },
      }),
    );
    const started = performance.now();
    await sim.run({ signal: controller.signal });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(seen).toEqual([1]);
    expect((await fileTree(storage, sim.jobDir)).has(`${sim.jobDir}/chk-1/_metadata`)).toBe(true);
  });
});

/** Consumes written streams without keeping them; records the largest chunk and peak memory. */
class MeasuringSink implements Storage {
  readonly name = "sink";
  readonly kind = "webhdfs" as const;
  readonly capabilities = WEBHDFS_CAPABILITIES;
  largestChunk = 0;
  largestFile = 0;
  peakExternalGrowth = 0;
  bufferBodies = 0;
  #baseline = 0;

  async write(_path: string, body: Readable | Uint8Array): Promise<void> {
    if (!(body instanceof Readable)) {
      this.bufferBodies++;
      return;
    }
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      this.largestChunk = Math.max(this.largestChunk, chunk.length);
      if (size % (16 * 1024 * 1024) < chunk.length) {
        const m = process.memoryUsage();
        this.peakExternalGrowth = Math.max(this.peakExternalGrowth, m.arrayBuffers + m.heapUsed - this.#baseline);
      }
    }
    this.largestFile = Math.max(this.largestFile, size);
  }
  startMeasuring(): void {
    const m = process.memoryUsage();
    this.#baseline = m.arrayBuffers + m.heapUsed;
  }
  async list(): Promise<Entry[] | null> {
    return null;
  }
  async mkdirs(): Promise<void> {}
  async stat(): Promise<Entry | null> {
    return null;
  }
  async read(): Promise<Readable> {
    throw new Error("not readable");
  }
  async rename(): Promise<void> {}
  async delete(): Promise<boolean> {
    return true;
  }
  async checksum(): Promise<string | null> {
    return null;
  }
  close(): void {}
}

describe("memory", () => {
  it("streams a 256 MiB state file in small chunks without buffering it", async () => {
    const sink = new MeasuringSink();
    const sim = new FlinkJobSimulator({
      storage: sink,
      fsUri: "hdfs://hdfs1",
      root: "/flink/cp",
      operators: 1,
      parallelism: 1,
      newSharedFilesPerSubtask: 1,
      fileSizeSpread: 0,
      stateSizeBytes: 256 * 1024 * 1024,
    });
    sink.startMeasuring();
    const e = await sim.checkpointOnce();
    expect(sink.largestFile).toBe(256 * 1024 * 1024);
    expect(e.newBytes).toBeGreaterThan(256 * 1024 * 1024);
    expect(sink.bufferBodies).toBe(0);
    expect(sink.largestChunk).toBeLessThanOrEqual(STATE_CHUNK_BYTES);
    // uncollected 64 KiB chunks account for a few tens of MiB; holding the file would be >= 256 MiB
    expect(sink.peakExternalGrowth).toBeLessThan(128 * 1024 * 1024);
  });
});

describe("many writes in flight", () => {
  it("lets every write of a wide checkpoint listen to the stop signal without a MaxListenersExceededWarning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    // Each write listens to its signal while it is in flight, as a real storage's request does.
    const slow: Storage = Object.create(storage) as Storage;
    slow.write = async (path, body, o) => {
      const onAbort = () => undefined;
      o?.signal?.addEventListener("abort", onAbort);
      await new Promise((r) => setTimeout(r, 20));
      try {
        return await storage.write(path, body, o);
      } finally {
        o?.signal?.removeEventListener("abort", onAbort);
      }
    };
    try {
      const sim = new FlinkJobSimulator(opts({ storage: slow, operators: 4, parallelism: 8, writeConcurrency: 16 }));
      await sim.checkpointOnce(new AbortController().signal);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
