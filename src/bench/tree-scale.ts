// Benchmark 6, tree scale: trees of 10k, 100k and 1M files (jobs of 10,000
// files each in shared/, generated in the emulator's namespace at once, no
// bytes) scanned by the daemon's TreeScanner in a child process of its own:
// cold scan time and requests, warm rescan (unchanged tree) requests and time,
// and the child's peak RSS. Rows: RSS of the largest tree against the 500 MiB
// target, the warm rescan's requests against the cold scan's, and the bytes
// of RSS per file between the smallest and the largest tree (the slope).

import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import type { BenchContext, Benchmark } from "./harness.js";
import { BenchmarkError } from "./errors.js";
import { MiB, round } from "./measure.js";
import type { Measurement } from "./result.js";
import type { TreeScaleFigures } from "./tree-scale-child.js";

const ID = "tree-scale";
const FILES_PER_JOB = 10_000;

export const treeScale: Benchmark = {
  id: ID,
  title: "Peak RSS scanning the largest tree (10k files per job) vs the 500 MiB target",
  unit: "MiB",
  target: () => ({ on: "ratio", op: "<=", limit: 1 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.treeScale;
    const { env } = ctx;
    const entry = fileURLToPath(new URL("./tree-scale-child.js", import.meta.url));
    if (!import.meta.url.endsWith(".js") || !existsSync(entry)) {
      throw new BenchmarkError(ID, "start", "needs the compiled harness (npm run bench)");
    }
    const namenode = env.namenodes("hdfs1")[0] as string;
    const figures: (TreeScaleFigures & { size: number; generateMs: number })[] = [];
    for (const size of p.sizes) {
      const root = `/bench/${ID}/n-${size}`;
      const jobs = Math.max(1, Math.round(size / FILES_PER_JOB));
      const t0 = performance.now();
      await env.generateTree("hdfs1", { root, jobs, filesPerJob: Math.min(size, FILES_PER_JOB), fileSize: 16 * 1024 });
      const generateMs = performance.now() - t0;
      figures.push({ ...(await scanInChild(entry, namenode, root, p.warmRepeats)), size, generateMs });
    }
    const small = figures[0];
    const large = figures[figures.length - 1];
    if (!small || !large) throw new BenchmarkError(ID, "measure", "no tree sizes configured");
    const details: Record<string, string | number> = { filesPerJob: FILES_PER_JOB, warmRepeats: p.warmRepeats };
    for (const f of figures) {
      const k = `${f.size}`;
      details[`files@${k}`] = f.files;
      details[`coldScanMs@${k}`] = Math.round(f.coldMs);
      details[`coldRequests@${k}`] = f.coldRequests;
      details[`warmScanMs@${k}`] = round(f.warmMs, 1);
      details[`warmRequests@${k}`] = f.warmRequests;
      details[`peakRssMiB@${k}`] = round(f.peakRss / MiB, 1);
      details[`startRssMiB@${k}`] = round(f.startRss / MiB, 1);
      details[`generateMs@${k}`] = Math.round(f.generateMs);
    }
    const slope = large.files === small.files ? 0 : (large.peakRss - small.peakRss) / (large.files - small.files);
    return [
      { id: ID, title: this.title, unit: this.unit, value: round(large.peakRss / MiB, 1), baseline: p.rssLimitMiB, target: this.target(ctx.profile), details },
      {
        id: "tree-scale-warm-requests",
        title: `Warm rescan of the unchanged ${large.files}-file tree vs its cold scan`,
        unit: "requests",
        value: large.warmRequests,
        baseline: large.coldRequests,
        target: { on: "ratio", op: "<=", limit: 0.1 },
        details: { warmScanMs: round(large.warmMs, 1), coldScanMs: Math.round(large.coldMs), jobs: Math.max(1, Math.round(large.size / FILES_PER_JOB)) },
      },
      {
        id: "tree-scale-bytes-per-file",
        title: `RSS per file between the ${small.files}- and the ${large.files}-file tree (slope)`,
        unit: "bytes",
        value: Math.round(slope),
        baseline: Math.round((p.rssLimitMiB * MiB) / 1_000_000),
        target: { on: "ratio", op: "<=", limit: 1 },
        details: { note: "baseline: the bytes per file a 1M-file tree may use within the RSS limit" },
      },
    ];
  },
};

async function scanInChild(entry: string, namenode: string, root: string, repeats: number): Promise<TreeScaleFigures> {
  const child = fork(entry, [namenode, root, String(repeats)], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  const message = new Promise<TreeScaleFigures>((resolve, reject) => {
    child.once("message", (m: TreeScaleFigures) => resolve(m));
    child.once("exit", (code, signal) => reject(new BenchmarkError(ID, "scan", `child exited with ${signal ?? `code ${code}`}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`)));
  });
  try {
    return await message;
  } finally {
    if (child.exitCode === null) await once(child, "exit");
  }
}
