// Benchmark 9, engine scale: the whole engine (not only the scanner, see
// tree-scale.ts) keeping trees of jobs of 10,000 files in sync, in a child
// process of its own (engine-scale-child.ts). First sync: the target is empty,
// the engine copies every file and publishes every job's checkpoint, then warm
// cycles over the unchanged tree. Synced: both sides are generated with the same
// files (a first sync of 1M files through the emulator would take over an
// hour), so the engine's start-up cycle plans every checkpoint, finds every file
// present, verifies and publishes it (its own _metadata and records), then warm
// cycles. The files are zero-length (generated in the emulator's namespace at
// once, no bytes), so the figures are the engine's per-file bookkeeping, not
// buffers. Each job's `_metadata` references its 10,000 files in shared/.
// Rows per mode: peak RSS of the largest tree vs the 500 MiB target, RSS per
// file between the smallest and the largest tree (the slope) vs the bytes per
// file a 1M-file tree may use; and the warm cycle's storage calls vs the files.

import { fork } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildCheckpointMetadata, serializeMetadata } from "../flink/index.js";
import { WebHdfsStorage } from "../storage/webhdfs.js";
import { WebHdfsClient } from "../webhdfs/index.js";
import type { BenchContext, Benchmark } from "./harness.js";
import type { EngineScaleFigures, EngineScaleSpec } from "./engine-scale-child.js";
import { BenchmarkError } from "./errors.js";
import { MiB, round } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "engine-scale";
const FILES_PER_JOB = 10_000;
/** Subtasks of the one operator; each references FILES_PER_JOB / SUBTASKS shared files. */
const SUBTASKS = 100;

/** A checkpoint `_metadata` whose incremental RocksDB handles reference every generated file of one job. */
const peakOf = (f: EngineScaleFigures) => Math.max(f.syncPeakRss, f.warmPeakRss);
const perFile = (a: Figures, b: Figures, bytes: (f: Figures) => number) => (a.size === b.size ? 0 : (bytes(b) - bytes(a)) / (b.size - a.size));

/** The slope row between two tree sizes: peak RSS per file vs the bytes per file a 1M-file tree may use, with the live heap's slope. */
function slopeRow(id: string, title: string, small: Figures, large: Figures, rssLimitMiB: number): Measurement {
  const slope = perFile(small, large, peakOf);
  return {
    id,
    title,
    unit: "bytes",
    value: Math.round(slope),
    baseline: Math.round((rssLimitMiB * MiB) / 1_000_000),
    target: { on: "ratio", op: "<=", limit: 1 },
    details: {
      note: "baseline: the bytes per file a 1M-file tree may use within the RSS limit",
      projected1MFilesMiB: round((peakOf(small) + slope * (1_000_000 - small.size)) / MiB, 1),
      // What stays after the sync (forced GC): the per-file state the engine keeps, without transient garbage.
      liveHeapBytesPerFile: Math.round(perFile(small, large, (f) => f.liveHeapAfterSync)),
    },
  };
}

export function metadataForGeneratedJob(jobDir: string, files: number, fsUri: string): Uint8Array {
  const perSubtask = Math.ceil(files / SUBTASKS);
  const name = (f: number) => `${String(f).padStart(8, "0")}-sst`;
  const md = buildCheckpointMetadata({
    version: 4,
    checkpointId: 1,
    operators: [
      {
        operatorId: "0123456789abcdef0123456789abcdef",
        parallelism: SUBTASKS,
        maxParallelism: SUBTASKS * 2,
        subtasks: Array.from({ length: SUBTASKS }, (_, s) => ({
          index: s,
          keyed: {
            kind: "incremental" as const,
            keyGroups: { start: s * 2, count: 2 },
            meta: { inline: new Uint8Array(8), name: `meta-${s}` },
            shared: Array.from({ length: Math.max(0, Math.min(perSubtask, files - s * perSubtask)) }, (_, i) => {
              const f = s * perSubtask + i;
              return { localPath: `${f}.sst`, file: { absolute: `${fsUri}${jobDir}/shared/${name(f)}`, size: 0 } };
            }),
            private: [],
          },
        })),
      },
    ],
  });
  return serializeMetadata(md);
}

export const engineScale: Benchmark = {
  id: ID,
  title: "Whole engine: peak RSS keeping the largest tree (10k files per job) in sync vs the 500 MiB target",
  unit: "MiB",
  target: () => ({ on: "ratio", op: "<=", limit: 1 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.engineScale;
    const { env } = ctx;
    const entry = fileURLToPath(new URL("./engine-scale-child.js", import.meta.url));
    if (!import.meta.url.endsWith(".js") || !existsSync(entry)) throw new BenchmarkError(ID, "start", "needs the compiled harness (npm run bench)");
    // The generator creates the tree as the superuser: the checkpoints are completed by the same user.
    const client = new WebHdfsClient({ name: "hdfs1", namenodes: env.namenodes("hdfs1"), user: "hdfs", requestTimeoutMs: 30_000 });
    const source = new WebHdfsStorage(client);
    // The replicator's own user on the target: a synced tree's directories are its own, as after a real sync.
    const targetClient = new WebHdfsClient({ name: "hdfs2", namenodes: env.namenodes("hdfs2"), user: "replicator", requestTimeoutMs: 30_000 });
    const target = new WebHdfsStorage(targetClient);
    const figuresOf = async (mode: Mode, sizes: number[]): Promise<Figures[]> => {
      const out: Figures[] = [];
      for (const size of sizes) {
        const roots = env.roots(mode === "first-sync" ? `${ID}-${size}` : `${ID}-synced-${size}`);
        const jobs = Math.max(1, Math.round(size / FILES_PER_JOB));
        const filesPerJob = Math.min(size, FILES_PER_JOB);
        await env.generateTree("hdfs1", { root: roots.source, jobs, filesPerJob, fileSize: 0 });
        if (mode === "synced") {
          for (let j = 0; j < jobs; j++) await target.mkdirs(`${roots.target}/job-${j}/shared`);
          await env.generateTree("hdfs2", { root: roots.target, jobs, filesPerJob, fileSize: 0 });
        }
        for (let j = 0; j < jobs; j++) {
          const jobDir = `${roots.source}/job-${j}`;
          await source.mkdirs(`${jobDir}/chk-1`);
          await source.write(`${jobDir}/chk-1/_metadata`, metadataForGeneratedJob(jobDir, filesPerJob, "hdfs://hdfs1"));
        }
        const spec: EngineScaleSpec = {
          source: env.namenodes("hdfs1"), target: env.namenodes("hdfs2"), sourceRoot: roots.source, targetRoot: roots.target,
          jobs, filesPerJob, warmRepeats: p.warmRepeats, timeoutMs: p.timeoutMs,
          ...(p.heapSnapshotDir !== undefined ? { heapSnapshotDir: p.heapSnapshotDir } : {}),
        };
        out.push({ ...(await runChild(entry, spec, p.maxOldSpaceMiB)), size, jobs, mode });
      }
      return out;
    };
    const firstSync = await figuresOf("first-sync", p.sizes);
    const synced = await figuresOf("synced", p.syncedSizes);
    client.close();
    targetClient.close();
    const details: Record<string, string | number> = { filesPerJob: FILES_PER_JOB, warmRepeats: p.warmRepeats, fileBytes: 0, ...(p.maxOldSpaceMiB !== undefined ? { maxOldSpaceMiB: p.maxOldSpaceMiB } : {}) };
    for (const f of [...firstSync, ...synced]) {
      const k = `${f.mode === "synced" ? "synced" : ""}${f.size}`;
      details[`filesCopied@${k}`] = f.filesCopied;
      details[`published@${k}`] = f.published;
      details[`syncS@${k}`] = round(f.syncMs / 1000, 1);
      if (f.filesCopied > 0) details[`filesPerS@${k}`] = Math.round(f.filesCopied / (f.syncMs / 1000));
      details[`cpuS@${k}`] = round(f.cpuMs / 1000, 1);
      details[`syncPeakRssMiB@${k}`] = round(f.syncPeakRss / MiB, 1);
      details[`warmPeakRssMiB@${k}`] = round(f.warmPeakRss / MiB, 1);
      details[`startRssMiB@${k}`] = round(f.startRss / MiB, 1);
      details[`syncPeakHeapTotalMiB@${k}`] = round(f.syncPeakMemory.heapTotal / MiB, 1);
      details[`syncPeakHeapUsedMiB@${k}`] = round(f.syncPeakMemory.heapUsed / MiB, 1);
      details[`syncPeakExternalMiB@${k}`] = round(f.syncPeakMemory.external / MiB, 1);
      details[`liveHeapAfterSyncMiB@${k}`] = round(f.liveHeapAfterSync / MiB, 1);
      details[`liveExternalAfterSyncMiB@${k}`] = round(f.liveExternalAfterSync / MiB, 1);
      details[`warmCycleMs@${k}`] = Math.round(f.warmMs);
      details[`warmCalls@${k}`] = f.warmCalls;
      details[`warmLists@${k}`] = f.warmLists;
    }
    const rows: Measurement[] = [];
    const small = firstSync[0];
    const large = firstSync[firstSync.length - 1];
    if (small && large) {
      rows.push({ id: ID, title: this.title, unit: this.unit, value: round(peakOf(large) / MiB, 1), baseline: p.rssLimitMiB, target: this.target(ctx.profile), details });
      // A slope needs two sizes: with one, there is no row rather than a 0 that cannot fail.
      if (small.size !== large.size) rows.push(slopeRow("engine-scale-bytes-per-file", `Whole engine, first sync: peak RSS per file between the ${small.size}- and the ${large.size}-file tree (slope)`, small, large, p.rssLimitMiB));
      rows.push({
        id: "engine-scale-warm-calls",
        title: `Whole engine: storage calls of a warm cycle over the unchanged ${large.size}-file tree vs the files in it`,
        unit: "calls",
        value: large.warmCalls,
        baseline: large.size,
        target: { on: "ratio", op: "<=", limit: 0.1 },
        details: { warmCycleMs: Math.round(large.warmMs), jobs: large.jobs },
      });
    }
    const sSmall = synced[0];
    const sLarge = synced[synced.length - 1];
    if (sSmall && sLarge) {
      rows.push(
        {
          id: "engine-scale-synced",
          title: `Whole engine keeping a ${sLarge.size}-file tree in sync (start-up cycle: plan, verify, publish every job; then warm cycles), peak RSS vs 500 MiB`,
          unit: "MiB",
          value: round(peakOf(sLarge) / MiB, 1),
          baseline: p.rssLimitMiB,
          target: { on: "ratio", op: "<=", limit: 1 },
          details: { ...details, startupCycleS: round(sLarge.syncMs / 1000, 1), warmCycleMs: Math.round(sLarge.warmMs), warmCalls: sLarge.warmCalls, jobs: sLarge.jobs },
        },
      );
      if (sSmall.size !== sLarge.size) rows.push(slopeRow("engine-scale-synced-bytes-per-file", `Whole engine keeping a tree in sync: peak RSS per file between the ${sSmall.size}- and the ${sLarge.size}-file tree (slope)`, sSmall, sLarge, p.rssLimitMiB));
    }
    if (rows.length === 0) throw new BenchmarkError(ID, "measure", "no tree sizes configured");
    return rows;
  },
};

type Mode = "first-sync" | "synced";
type Figures = EngineScaleFigures & { size: number; jobs: number; mode: Mode };

async function runChild(entry: string, spec: EngineScaleSpec, maxOldSpaceMiB: number | undefined): Promise<EngineScaleFigures> {
  const execArgv = ["--expose-gc", ...(maxOldSpaceMiB !== undefined ? [`--max-old-space-size=${maxOldSpaceMiB}`] : [])];
  const child = fork(entry, [JSON.stringify(spec)], { stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const message = new Promise<EngineScaleFigures>((resolve, reject) => {
    child.once("message", (m: EngineScaleFigures) => resolve(m));
    child.once("exit", (code, signal) => reject(new BenchmarkError(ID, "sync", `child exited with ${signal ?? `code ${code}`}: ${stderr.trim().split("\n").filter((l) => l.trim() !== "").slice(0, 6).join(" | ")}`)));
  });
  try {
    return await message;
  } finally {
    if (child.exitCode === null) await once(child, "exit");
  }
}
