// Child-process entry of the engine-scale benchmark (node engine-scale-child.js
// <spec JSON>, started by the harness): the whole engine (scan, plan, copy,
// verify, publish, records; lease held) brings a generated tree to the target
// once, then cycles over the unchanged tree a few times, in a process of its own
// so that its RSS is the engine's alone; sends the figures to the parent over IPC.

import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { stringify as stringifyYaml } from "yaml";
import { parseConfigText } from "../config/load.js";
import { Engine } from "../replication/index.js";
import { countingStorage } from "../storage/counting.js";
import { createStorage } from "../storage/factory.js";
import { silentLogger } from "../util/log.js";
import { timed } from "./measure.js";

export interface EngineScaleSpec {
  source: string[];
  target: string[];
  sourceRoot: string;
  targetRoot: string;
  jobs: number;
  filesPerJob: number;
  warmRepeats: number;
  timeoutMs: number;
  /** Write V8 heap snapshots here: one when half the tree is copied (the sync's peak), one after the sync (forced GC). */
  heapSnapshotDir?: string;
}

/** The one message the child sends its parent. */
export interface EngineScaleFigures {
  filesCopied: number;
  published: number;
  syncMs: number;
  /** Peak RSS during the first sync (copy of the whole tree) and during the warm cycles. */
  syncPeakRss: number;
  warmPeakRss: number;
  startRss: number;
  /** process.memoryUsage() when the first sync's RSS peaked: how much of the peak is V8's heap, in use or not. */
  syncPeakMemory: NodeJS.MemoryUsage;
  /** Heap in use after the sync and a forced collection (when --expose-gc is given). */
  liveHeapAfterSync: number;
  /** Memory outside V8's heap (buffers, typed arrays' backing stores) still held after that collection. */
  liveExternalAfterSync: number;
  warmMs: number;
  /** Storage calls of one warm cycle, both sides (list, stat, read, write, rename, ...). */
  warmCalls: number;
  warmLists: number;
  cpuMs: number;
}


const specText = process.argv[2];
if (specText === undefined || process.send === undefined) {
  process.stderr.write("usage: node engine-scale-child.js <spec JSON> (started by the benchmark harness)\n");
  process.exit(2);
}
const spec = JSON.parse(specText) as EngineScaleSpec;
const side = (name: string, namenodes: string[]) => ({ name, namenodes, uri: `hdfs://${name}`, user: "replicator", requestTimeout: "60s", retry: { attempts: 3, baseDelay: "20ms", maxDelay: "200ms" } });
const config = await parseConfigText(
  stringifyYaml({
    source: side("hdfs1", spec.source),
    target: side("hdfs2", spec.target),
    paths: [{ source: spec.sourceRoot, target: spec.targetRoot }],
    scan: { interval: "1s", corruptAfter: "10m" },
    lease: { ttl: "60s" },
    metrics: false,
    log: { level: "silent" },
  }),
  "engine-scale.yaml",
  {},
);
const calls = new Map<string, number>();
const total = () => [...calls.values()].reduce((a, b) => a + b, 0);
const engine = new Engine({
  config,
  source: countingStorage(createStorage(config.source, silentLogger), calls),
  target: countingStorage(createStorage(config.target, silentLogger), calls),
  logger: silentLogger,
});
let peak = process.memoryUsage.rss();
let peakMemory = process.memoryUsage();
let halfSnapshotTaken = spec.heapSnapshotDir === undefined;
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peak) {
    peak = rss;
    peakMemory = process.memoryUsage();
  }
  if (halfSnapshotTaken || spec.heapSnapshotDir === undefined) return;
  // Half the tree copied (a first sync), or, where nothing is copied (a synced tree), the heap in use past 200 MiB.
  const copied = engine.status().jobs.reduce((n, j) => n + j.totals.filesCopied, 0);
  if (copied < (spec.jobs * spec.filesPerJob) / 2 && process.memoryUsage().heapUsed < 200 * 1024 * 1024) return;
  halfSnapshotTaken = true;
  writeHeapSnapshot(join(spec.heapSnapshotDir, `engine-scale-${spec.jobs}-half.heapsnapshot`));
}, 50);
const startRss = process.memoryUsage.rss();
const cpu0 = process.cpuUsage();
await engine.start();
const deadline = Date.now() + spec.timeoutMs;
const allPublished = () => {
  const jobs = engine.status().jobs;
  return jobs.length === spec.jobs && jobs.every((j) => j.newestPublishedCheckpoint !== null);
};
const sync = await timed(async () => {
  while (!allPublished()) {
    if (Date.now() > deadline) {
      const failing = engine.status().jobs.find((j) => j.lastError !== null);
      throw new Error(`not every job published within ${spec.timeoutMs} ms (${engine.status().jobs.filter((j) => j.newestPublishedCheckpoint !== null).length} of ${spec.jobs}; ${failing?.lastError ?? "no error"})`);
    }
    await engine.cycle({ wait: true });
  }
});
const syncPeakRss = Math.max(peak, process.memoryUsage.rss());
const syncPeakMemory = peakMemory;
(globalThis as { gc?: () => void }).gc?.();
const { heapUsed: liveHeapAfterSync, external: liveExternalAfterSync } = process.memoryUsage();
if (spec.heapSnapshotDir !== undefined) writeHeapSnapshot(join(spec.heapSnapshotDir, `engine-scale-${spec.jobs}-after.heapsnapshot`));
peak = process.memoryUsage.rss();
const before = total();
const listsBefore = calls.get("list") ?? 0;
const warm = await timed(async () => {
  for (let i = 0; i < spec.warmRepeats; i++) await engine.cycle({ wait: true });
});
const warmPeakRss = Math.max(peak, process.memoryUsage.rss());
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
const totals = engine.status().jobs.reduce((t, j) => ({ files: t.files + j.totals.filesCopied, published: t.published + j.totals.published }), { files: 0, published: 0 });
await engine.stop();
process.send(
  {
    filesCopied: totals.files,
    published: totals.published,
    syncMs: sync.ms,
    syncPeakRss,
    warmPeakRss,
    startRss,
    syncPeakMemory,
    liveHeapAfterSync,
    liveExternalAfterSync,
    warmMs: warm.ms / spec.warmRepeats,
    warmCalls: (total() - before) / spec.warmRepeats,
    warmLists: ((calls.get("list") ?? 0) - listsBefore) / spec.warmRepeats,
    cpuMs: (cpu.user + cpu.system) / 1000,
  } satisfies EngineScaleFigures,
  () => process.disconnect(),
);
