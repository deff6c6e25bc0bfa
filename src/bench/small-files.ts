// Benchmark 5, small files: one RocksDB-like checkpoint of thousands of small
// state files (new SSTs around 32 KiB, small exclusive MANIFEST/OPTIONS/CURRENT
// files beside them: a median near 16 KiB) published hdfs1 -> hdfs2
// by the engine with its default settings, against two baselines measured in the
// same run on the same files: (a) the npm `webhdfs` client copying them one after
// the other (readFile, writeFile: no temporary name, no checks), the naive
// script an operator would write; (b) a bare parallel copy with the minimum
// requests per file (OPEN and CREATE, two steps each, parents created once) at
// the best of several concurrencies: the request-bound limit of this setup.
// Also reports the replicator's CPU per 10,000 files and per GiB (the cost rows)
// against the bare copy's, both measured in this process.

import { createRequire } from "node:module";
import type { RetainedCheckpoint } from "../sandbox/simulator/index.js";
import { parentOf } from "../storage/types.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { bareCopy } from "./copy-throughput.js";
import { BenchmarkError } from "./errors.js";
import { cpuDuring, MiB, publishUntil, round, timed } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "small-files";

export const smallFiles: Benchmark = {
  id: ID,
  title: "Small files: replicator vs sequential npm webhdfs copy",
  unit: "files/s",
  target: () => ({ on: "ratio", op: ">=", limit: 5 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.smallFiles;
    const { env } = ctx;
    const roots = env.roots(ID);
    const ssts = p.operators * p.parallelism * p.filesPerSubtask;
    const sim = env.simulator(roots.source, {
      seed: 501,
      operators: p.operators,
      parallelism: p.parallelism,
      newSharedFilesPerSubtask: p.filesPerSubtask,
      stateSizeBytes: ssts * p.sstMeanKiB * 1024,
      fileSizeSpread: 0.5,
      inlineState: false,
      retained: 1,
      writeConcurrency: 16,
    });
    const checkpoint = await sim.checkpointOnce();
    const retained = sim.retained()[0] as RetainedCheckpoint;
    const files = [...retained.files.map((f) => ({ path: f.path, size: f.size })), { path: retained.metadataPath, size: retained.metadataSize }];
    const bytes = files.reduce((n, f) => n + f.size, 0);
    const sizes = files.map((f) => f.size).sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)] ?? 0;

    const source = env.client("hdfs1");
    const target = env.client("hdfs2");
    // (b) the request-bound limit: the bare copy at each concurrency, the best one kept.
    const bare: { concurrency: number; ms: number; cpuMs: number }[] = [];
    for (const concurrency of p.bareConcurrencies) {
      const { result, cpuMs } = await cpuDuring(() => timed(() => bareCopy(source, target, files, roots.source, `/baseline/${ID}/bare-${concurrency}`, concurrency)));
      bare.push({ concurrency, ms: result.ms, cpuMs });
    }
    const bestBare = bare.reduce((a, b) => (b.ms < a.ms ? b : a));

    // (a) the npm webhdfs client, one file after the other.
    const npm = npmWebHdfs(env.namenodes("hdfs1")[0] as string, env.namenodes("hdfs2")[0] as string);
    const npmMs = (await timed(() => npm.copySequentially(files, roots.source, `/baseline/${ID}/npm`))).ms;

    // The replicator, default settings (what an operator gets), `rounds` times into fresh targets.
    const engineRuns: { ms: number; cpuMs: number; filesCopied: number }[] = [];
    for (let r = 1; r <= p.rounds; r++) {
      const engine = await env.engine(await env.config({ source: roots.source, target: `${roots.target}/round-${r}` }));
      try {
        const { result, cpuMs } = await cpuDuring(() => timed(() => publishUntil(ID, engine, sim.jobId, checkpoint.checkpointId, ctx.profile.publishTimeoutMs)));
        const filesCopied = engine.status().jobs[0]?.totals.filesCopied ?? 0;
        if (filesCopied + 1 < files.length) throw new BenchmarkError(ID, "publish", `copied ${filesCopied} files, the checkpoint has ${files.length - 1} state files`);
        engineRuns.push({ ms: result.ms, cpuMs, filesCopied });
      } finally {
        await engine.stop();
      }
    }
    const best = engineRuns.reduce((a, b) => (b.ms < a.ms ? b : a));
    const rate = (ms: number) => round(files.length / (ms / 1000), 1);
    const details = {
      files: files.length,
      mib: round(bytes / MiB),
      medianKiB: round(median / 1024, 1),
      rounds: p.rounds,
      replicatorMs: engineRuns.map((e) => Math.round(e.ms)).join(","),
      npmWebhdfsSequentialMs: Math.round(npmMs),
      bareConcurrencies: bare.map((b) => b.concurrency).join(","),
      bareMs: bare.map((b) => Math.round(b.ms)).join(","),
      bestBareConcurrency: bestBare.concurrency,
    };
    const per10k = (cpuMs: number) => round(((cpuMs / 1000) * 10_000) / files.length, 2);
    const perGiB = (cpuMs: number) => round(cpuMs / 1000 / (bytes / (1024 * MiB)), 2);
    return [
      { id: ID, title: this.title, unit: this.unit, value: rate(best.ms), baseline: rate(npmMs), target: this.target(ctx.profile), details },
      {
        id: "small-files-limit",
        title: "Small files: replicator vs bare parallel copy at its best concurrency",
        unit: "files/s",
        value: rate(best.ms),
        baseline: rate(bestBare.ms),
        target: { on: "ratio", op: ">=", limit: 0.8 },
        details,
      },
      {
        id: "cost-cpu-per-10k-files",
        title: "CPU seconds per 10,000 files copied (replicator vs bare copy, this process)",
        unit: "CPU s",
        value: per10k(best.cpuMs),
        baseline: per10k(bestBare.cpuMs),
        target: { on: "ratio", op: "<=", limit: 3 },
        details: { files: files.length, replicatorCpuMs: Math.round(best.cpuMs), bareCpuMs: Math.round(bestBare.cpuMs), emulator: env.emulatorMode },
      },
      {
        id: "cost-cpu-per-gib-small",
        title: "CPU seconds per GiB copied as small files (replicator vs bare copy)",
        unit: "CPU s",
        value: perGiB(best.cpuMs),
        baseline: perGiB(bestBare.cpuMs),
        target: { on: "ratio", op: "<=", limit: 3 },
        details: { mib: round(bytes / MiB), emulator: env.emulatorMode },
      },
    ];
  },
};

/** The subset of the npm `webhdfs` package (CommonJS, untyped) the baseline uses. */
interface NpmWebHdfsClient {
  readFile(path: string, cb: (err: Error | null, data: Buffer) => void): void;
  writeFile(path: string, data: Buffer, cb: (err: Error | null) => void): void;
  mkdir(path: string, cb: (err: Error | null) => void): void;
}

function npmWebHdfs(sourceNamenode: string, targetNamenode: string) {
  const { createClient } = createRequire(import.meta.url)("webhdfs") as { createClient(o: Record<string, unknown>): NpmWebHdfsClient };
  const clientFor = (namenode: string) => {
    const url = new URL(namenode);
    return createClient({ user: "flink", host: url.hostname, port: Number(url.port), path: "/webhdfs/v1" });
  };
  const src = clientFor(sourceNamenode);
  const dst = clientFor(targetNamenode);
  const call = <T>(fn: (cb: (err: Error | null, v: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
  return {
    async copySequentially(files: readonly { path: string }[], fromRoot: string, toRoot: string): Promise<void> {
      const made = new Set<string>();
      for (const f of files) {
        const to = `${toRoot}${f.path.slice(fromRoot.length)}`;
        const dir = parentOf(to);
        if (!made.has(dir)) {
          await call<void>((cb) => dst.mkdir(dir, cb));
          made.add(dir);
        }
        const data = await call<Buffer>((cb) => src.readFile(f.path, cb));
        await call<void>((cb) => dst.writeFile(to, data, cb));
      }
    },
  };
}
