// Benchmark 7, steady-state RPO: the daemon (its own cycle loop, scan.interval
// apart) replicating a job that checkpoints every `intervalMs` with
// `checkpointMiB` of new state each time, for `durationS`. For every checkpoint:
// its publish lag, from the simulator's completion of the source `_metadata` to
// the moment the daemon reports its target `_metadata` renamed into place (the
// onPublished hook fires right after that rename), and its own copy time (from
// planning its copy to its publication, the engine's durationMs). The target is
// p99(lag) <= scan interval + p99(copy time), both from this run.

import { Daemon } from "../daemon/daemon.js";
import type { PublishedEvent } from "../replication/index.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { BenchmarkError } from "./errors.js";
import { MiB, round } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "steady-state-rpo";

/** The q-quantile (0..1) of `xs` by the nearest-rank method (NaN when empty). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export const steadyState: Benchmark = {
  id: ID,
  title: "Steady-state RPO: p99 publish lag vs scan interval + the checkpoint's own copy time",
  unit: "s",
  target: () => ({ on: "ratio", op: "<=", limit: 1 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.rpo;
    const { env } = ctx;
    const roots = env.roots(ID);
    const completed = new Map<number, number>();
    const published = new Map<number, { at: number; event: PublishedEvent }>();
    const sim = env.simulator(roots.source, {
      seed: 701,
      operators: p.operators,
      parallelism: p.parallelism,
      newSharedFilesPerSubtask: p.filesPerSubtask,
      stateSizeBytes: p.checkpointMiB * MiB,
      retained: 3,
      intervalMs: p.intervalMs,
      writeConcurrency: 8,
      onCheckpoint: (e) => completed.set(e.checkpointId, Date.now()),
    });
    const config = await env.config(roots, { scan: { interval: `${p.scanIntervalMs}ms` } });
    const daemon = new Daemon({
      config,
      logger: ctx.logger,
      hooks: { onPublished: (event) => published.set(event.checkpointId, { at: Date.now(), event }) },
    });
    await daemon.start();
    const stopJob = new AbortController();
    const t0 = performance.now();
    try {
      const job = sim.run({ signal: stopJob.signal });
      await new Promise((r) => setTimeout(r, p.durationS * 1000));
      stopJob.abort();
      await job;
      // The tail: wait until the newest completed checkpoint is published (or a generous deadline).
      const newest = Math.max(...completed.keys());
      const deadline = Date.now() + Math.max(60_000, 6 * p.intervalMs);
      while (!published.has(newest) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (!published.has(newest)) throw new BenchmarkError(ID, "publish the newest", `chk-${newest} not published ${Math.round((deadline - Date.now() + 60_000) / 1000)} s after the job stopped`);
    } finally {
      stopJob.abort();
      await daemon.stop();
    }
    const wallS = (performance.now() - t0) / 1000;
    // The first checkpoint is a warm-up (target directories, first scan): left out of the distribution.
    const ids = [...completed.keys()].sort((a, b) => a - b).slice(1);
    const lags: number[] = [];
    const copies: number[] = [];
    const detections: number[] = [];
    let skipped = 0;
    for (const id of ids) {
      const pub = published.get(id);
      if (pub === undefined) {
        skipped++; // a newer checkpoint completed before this one was published: the daemon went to the newest
        continue;
      }
      const lag = pub.at - (completed.get(id) as number);
      const copy = pub.event.durationMs ?? 0;
      lags.push(lag);
      copies.push(copy);
      detections.push(lag - copy);
    }
    if (lags.length === 0) throw new BenchmarkError(ID, "measure lag", `no checkpoint after the warm-up was published (${completed.size} completed)`);
    const s = (ms: number) => round(ms / 1000, 2);
    const p99Copy = quantile(copies, 0.99);
    return [
      {
        id: ID,
        title: this.title,
        unit: this.unit,
        value: s(quantile(lags, 0.99)),
        baseline: s(p.scanIntervalMs + p99Copy),
        target: this.target(ctx.profile),
        details: {
          durationS: p.durationS,
          wallS: round(wallS, 1),
          checkpointIntervalS: s(p.intervalMs),
          scanIntervalS: s(p.scanIntervalMs),
          newStateMiBPerCheckpoint: p.checkpointMiB,
          checkpoints: completed.size,
          measured: lags.length,
          skippedForNewer: skipped,
          lagP50S: s(quantile(lags, 0.5)),
          lagP99S: s(quantile(lags, 0.99)),
          lagMaxS: s(Math.max(...lags)),
          copyP50S: s(quantile(copies, 0.5)),
          copyP99S: s(p99Copy),
          copyMaxS: s(Math.max(...copies)),
          // lag - own copy time: how long a completed checkpoint waited to be noticed (and queued)
          waitP99S: s(quantile(detections, 0.99)),
          waitMaxS: s(Math.max(...detections)),
          lagsS: lags.map((l) => s(l)).join(","),
        },
      },
    ];
  },
};
