// Benchmark 3, catch-up: the engine reaching the newest checkpoint when the
// target is K checkpoints behind, against publishing exactly one new checkpoint.
// Every checkpoint writes fresh state of the same size (no reuse) and the source
// retains all K, so copying the intermediate ones would cost K times as much:
// a ratio near 1 shows they are skipped.

import type { Engine } from "../replication/index.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { BenchmarkError } from "./errors.js";
import { MiB, publishUntil, round, timed } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "catch-up";

export const catchUp: Benchmark = {
  id: ID,
  title: "Catch-up from K behind vs publishing one checkpoint",
  unit: "s",
  target: () => ({ on: "ratio", op: "<=", limit: 2 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.catchUp;
    const { env } = ctx;
    const roots = env.roots(ID);
    const sim = env.simulator(roots.source, {
      seed: 301,
      operators: 1,
      parallelism: p.subtasks,
      newSharedFilesPerSubtask: p.filesPerSubtask,
      stateSizeBytes: p.checkpointMiB * MiB,
      fileSizeSpread: 0,
      sharedReuseFraction: 0,
      retained: p.behind + 1,
    });
    const engine = await env.engine(await env.config(roots));
    try {
      const publish = async (checkpointId: number) => {
        const before = totals(engine, sim.jobId);
        const { ms } = await timed(() => publishUntil(ID, engine, sim.jobId, checkpointId, ctx.profile.publishTimeoutMs));
        const after = totals(engine, sim.jobId);
        return { ms, published: after.published - before.published, bytes: after.bytesCopied - before.bytesCopied };
      };
      // Warm-up: the first publication also creates the target's directories and records.
      await publish((await sim.checkpointOnce()).checkpointId);
      const one = await publish((await sim.checkpointOnce()).checkpointId);
      let newest = 0;
      for (let i = 0; i < p.behind; i++) newest = (await sim.checkpointOnce()).checkpointId;
      const behind = await publish(newest);
      if (behind.published !== 1) {
        throw new BenchmarkError(ID, "catch up", `published ${behind.published} checkpoints to reach chk-${newest}, expected only the newest`);
      }
      return [
        {
          id: ID,
          title: this.title,
          unit: this.unit,
          value: round(behind.ms / 1000, 3),
          baseline: round(one.ms / 1000, 3),
          target: this.target(ctx.profile),
          details: {
            behind: p.behind,
            checkpointMiB: p.checkpointMiB,
            catchUpPublished: behind.published,
            catchUpMiB: round(behind.bytes / MiB),
            oneCheckpointMiB: round(one.bytes / MiB),
          },
        },
      ];
    } finally {
      await engine.stop();
    }
  },
};

function totals(engine: Engine, job: string): { published: number; bytesCopied: number } {
  const t = engine.status().jobs.find((j) => j.job === job)?.totals;
  return { published: t?.published ?? 0, bytesCopied: t?.bytesCopied ?? 0 };
}
