// The small-files profile (issue 10), not a benchmark with a target: the same
// checkpoint as `small-files` (5,461 files, median ~15 KiB) published by the
// engine against the emulator in a child process, `--rounds` times into fresh
// targets, reporting per round the files/s, this process's CPU seconds per
// 10,000 files, the young-generation collections per 10,000 files (a measure of
// allocation that load does not move) and the HTTP requests per copied file on each side (counted on
// node:http's diagnostics channel, by cluster and NameNode/DataNode step, with
// `--count-requests`: the counting costs CPU of its own).
// With `--cpu-prof FILE` the last round runs under a V8 CPU profile
// (node:inspector) and the self time is summed by module (the project's own,
// node:http/net/stream, GC, idle).
//
//   npm run build && node dist/bench/small-files-profile.js [--rounds 2] [--concurrency 16] [--cpu-prof out.cpuprofile] [--count-requests]

import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { writeFile } from "node:fs/promises";
import type { ClientRequest } from "node:http";
import { Session } from "node:inspector/promises";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { BenchEnvironment } from "./environment.js";
import { FULL_PROFILE } from "./profile.js";
import { cpuDuring, publishUntil, round, stealTicks, timed } from "./measure.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of a CPU profile summed by module bucket and by function (top entries), in percent of the sampled time. */
export function selfTimeBreakdown(profile: CpuProfile, top = 25): { buckets: [string, number][]; functions: [string, number][]; sampledMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const { url, functionName, lineNumber } = n.callFrame;
    const bucket = bucketOf(url, functionName);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    const fn = `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const pct = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([k, us]): [string, number] => [k, round((100 * us) / total, 1)]);
  return { buckets: pct(buckets), functions: pct(functions).slice(0, top), sampledMs: Math.round(total / 1000) };
}

function bucketOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : `native ${functionName}`;
  const dist = url.indexOf("/dist/");
  if (dist >= 0 && !url.includes("node_modules")) return `own: ${url.slice(dist + 6).split("/").slice(0, 2).join("/")}`;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return `dep: ${url.slice(nm + 13).split("/")[0] ?? url}`;
  if (url.startsWith("node:")) {
    const mod = url.slice(5).replace(/^internal\//, "");
    return `node: ${mod.split("/")[0] === "streams" ? "streams" : mod.split("/").slice(0, 2).join("/")}`;
  }
  return url;
}

function shortUrl(url: string): string {
  const dist = url.indexOf("/dist/");
  if (dist >= 0) return url.slice(dist + 6);
  const nm = url.lastIndexOf("node_modules/");
  return nm >= 0 ? url.slice(nm + 13) : url;
}

/** HTTP requests this process sends, by "<cluster> <namenode|datanode> <METHOD> <op>", from node:http's diagnostics channel. */
function requestCounter(clusterOfPort: (port: number) => string) {
  const counts = new Map<string, number>();
  const onRequest = (message: unknown) => {
    const req = (message as { request: ClientRequest }).request;
    const port = Number(String(req.getHeader("host") ?? "").split(":")[1] ?? 0);
    const op = new URLSearchParams(req.path.split("?")[1] ?? "").get("op") ?? "?";
    const key = `${clusterOfPort(port)} ${req.method} ${op}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  subscribe("http.client.request.start", onRequest);
  return { counts, stop: () => unsubscribe("http.client.request.start", onRequest) };
}

/**
 * Garbage collections while it runs: young-generation collections count the bytes allocated (each one
 * empties a semi-space of fixed size), a figure that, unlike CPU seconds, a loaded machine does not move.
 */
function gcCounter() {
  const counts = { minor: 0, major: 0, ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
      else counts.major++;
      counts.ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return { counts, stop: () => observer.disconnect() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "2" },
      concurrency: { type: "string" },
      bandwidth: { type: "string" },
      "cpu-prof": { type: "string" },
      "count-requests": { type: "boolean", default: false },
    },
  });
  const rounds = Number(values.rounds);
  const p = FULL_PROFILE.smallFiles;
  const env = await BenchEnvironment.start("child");
  try {
    const roots = env.roots("small-files");
    const ssts = p.operators * p.parallelism * p.filesPerSubtask;
    const sim = env.simulator(roots.source, {
      seed: 501, operators: p.operators, parallelism: p.parallelism, newSharedFilesPerSubtask: p.filesPerSubtask,
      stateSizeBytes: ssts * p.sstMeanKiB * 1024, fileSizeSpread: 0.5, inlineState: false, retained: 1, writeConcurrency: 16,
    });
    const checkpoint = await sim.checkpointOnce();
    const files = (sim.retained()[0]?.files.length ?? 0) + 1;
    const ports = new Map<number, string>();
    for (const cluster of ["hdfs1", "hdfs2"] as const) {
      for (const nn of env.namenodes(cluster)) ports.set(Number(new URL(nn).port), `${cluster} namenode`);
    }
    const clusterOf = (port: number) => ports.get(port) ?? "datanode";
    const copy: Record<string, unknown> = {};
    if (values.concurrency !== undefined) copy.smallFiles = { concurrency: Number(values.concurrency) };
    if (values.bandwidth !== undefined) copy.bandwidth = values.bandwidth;
    for (let r = 1; r <= rounds; r++) {
      const config = await env.config({ source: roots.source, target: `${roots.target}/round-${r}` }, Object.keys(copy).length > 0 ? { copy } : {});
      const engine = await env.engine(config);
      const profiled = values["cpu-prof"] !== undefined && r === rounds;
      const session = profiled ? new Session() : null;
      if (session) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: 500 });
        await session.post("Profiler.start");
      }
      const counter = values["count-requests"] ? requestCounter(clusterOf) : null;
      const gc = gcCounter();
      try {
        const steal = stealTicks();
        const { result, cpuMs, emulatorCpuMs } = await cpuDuring(() => timed(() => publishUntil("small-files-profile", engine, sim.jobId, checkpoint.checkpointId, 300_000)), env);
        counter?.stop();
        await new Promise((r) => setImmediate(r)); // the observer's last entries
        gc.stop();
        const copied = engine.status().jobs[0]?.totals.filesCopied ?? 0;
        const perFile = Object.fromEntries([...(counter?.counts ?? [])].sort().map(([k, n]) => [k, round(n / copied, 3)]));
        process.stdout.write(
          `${JSON.stringify({ round: r, files, copied, ms: Math.round(result.ms), filesPerS: round(files / (result.ms / 1000), 1), cpuMs: Math.round(cpuMs), cpuSPer10k: round((cpuMs / 1000) * (10_000 / files), 2), coreShare: round(cpuMs / result.ms, 2), ...(steal === null ? {} : { hostStealPct: round(steal.sincePct(), 1) }), ...(emulatorCpuMs === null ? {} : { emulatorCpuSPer10k: round((emulatorCpuMs / 1000) * (10_000 / files), 2), emulatorCoreShare: round(emulatorCpuMs / result.ms, 2) }), minorGcPer10k: round((gc.counts.minor * 10_000) / files, 1), majorGc: gc.counts.major, gcMs: Math.round(gc.counts.ms), requestsPerCopiedFile: perFile })}\n`,
        );
        if (session) {
          const { profile } = (await session.post("Profiler.stop")) as { profile: CpuProfile };
          await writeFile(values["cpu-prof"] as string, JSON.stringify(profile));
          process.stdout.write(`${JSON.stringify(selfTimeBreakdown(profile), null, 1)}\n`);
        }
      } finally {
        session?.disconnect();
        await engine.stop();
      }
    }
  } finally {
    await env.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`small-files-profile: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
