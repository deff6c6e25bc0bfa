// Benchmark 4, memory bound: the process's peak RSS while the engine replicates
// a checkpoint of a few large files, against its RSS just before. Copies are
// streamed, so growth is bounded by copy.concurrency x stream buffers plus heap
// slack, not by file size. With an in-process emulator its buffers count too,
// and the figure is an upper bound for the replicator alone.

import type { BenchContext, Benchmark } from "./harness.js";
import { MiB, peakRssDuring, publishUntil, round } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "memory-bound";
/** Per copy stream: the source response, the bandwidth Transform (both sides) and the upload request, 64 KiB each at most. */
const STREAM_BUFFERS_PER_COPY = 4 * 64 * 1024;

export const memoryBound: Benchmark = {
  id: ID,
  title: "Peak RSS while replicating large files vs RSS before",
  unit: "MiB",
  target: (profile) => ({ on: "growth", op: "<", limit: profile.memory.growthLimitMiB }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.memory;
    const { env } = ctx;
    const roots = env.roots(ID);
    const sim = env.simulator(roots.source, {
      seed: 401,
      operators: 1,
      parallelism: p.files,
      newSharedFilesPerSubtask: 1,
      stateSizeBytes: p.files * p.fileMiB * MiB,
      fileSizeSpread: 0,
      retained: 1,
    });
    const checkpoint = await sim.checkpointOnce();
    const engine = await env.engine(await env.config(roots, { copy: { concurrency: p.concurrency } }));
    try {
      await settle();
      const before = process.memoryUsage.rss();
      const { peakRss } = await peakRssDuring(() => publishUntil(ID, engine, sim.jobId, checkpoint.checkpointId, ctx.profile.publishTimeoutMs));
      const copied = engine.status().jobs[0]?.totals.bytesCopied ?? 0;
      return [
        {
          id: ID,
          title: this.title,
          unit: this.unit,
          value: round(peakRss / MiB, 1),
          baseline: round(before / MiB, 1),
          target: this.target(ctx.profile),
          details: {
            files: p.files,
            fileMiB: p.fileMiB,
            copiedMiB: round(copied / MiB),
            concurrency: p.concurrency,
            streamBufferBoundMiB: round((p.concurrency * STREAM_BUFFERS_PER_COPY) / MiB, 2),
            includesEmulator: env.emulatorMode === "in-process",
          },
        },
      ];
    } finally {
      await engine.stop();
    }
  },
};

/** Lets pending work finish and, when node runs with --expose-gc, collects garbage, so "before" is a resting figure. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 200));
  (globalThis as { gc?: () => void }).gc?.();
}
