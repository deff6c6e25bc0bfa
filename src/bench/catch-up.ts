// Benchmark 3, catch-up: the engine reaching the newest checkpoint when the
// target is K checkpoints behind, against publishing exactly one new checkpoint.
// Every checkpoint writes fresh state of the same size (no reuse) and the source
// retains all K, so copying the intermediate ones would cost K times as much:
// a ratio near 1 shows they are skipped. The two alternate `rounds` times and
// the best of each is reported.

import type { Engine } from "../replication/index.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { BenchmarkError } from "./errors.js";
import { MiB, publishUntil, round, timed, TransferClock } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "catch-up";

interface Publication {
  ms: number;
  published: number;
  bytes: number;
  beforeFirstByteMs: number | null;
}

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
    const clock = new TransferClock();
    const engine = await env.engine(await env.config(roots), clock.hooks);
    try {
      const publish = async (checkpointId: number): Promise<Publication> => {
        const before = totals(engine, sim.jobId);
        clock.start();
        const { ms } = await timed(() => publishUntil(ID, engine, sim.jobId, checkpointId, ctx.profile.publishTimeoutMs));
        const after = totals(engine, sim.jobId);
        return { ms, published: after.published - before.published, bytes: after.bytesCopied - before.bytesCopied, beforeFirstByteMs: clock.phases().beforeFirstByteMs };
      };
      // Warm-up: the first publication also creates the target's directories and records.
      await publish((await sim.checkpointOnce()).checkpointId);
      const ones: Publication[] = [];
      const behinds: Publication[] = [];
      for (let r = 0; r < p.rounds; r++) {
        ones.push(await publish((await sim.checkpointOnce()).checkpointId));
        let newest = 0;
        for (let i = 0; i < p.behind; i++) newest = (await sim.checkpointOnce()).checkpointId;
        const behind = await publish(newest);
        if (behind.published !== 1) {
          throw new BenchmarkError(ID, "catch up", `published ${behind.published} checkpoints to reach chk-${newest}, expected only the newest`);
        }
        behinds.push(behind);
      }
      const one = fastest(ones);
      const behind = fastest(behinds);
      const ms = (n: number | null) => (n === null ? "-" : Math.round(n));
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
            rounds: p.rounds,
            catchUpPublished: behind.published,
            catchUpMiB: round(behind.bytes / MiB),
            oneCheckpointMiB: round(one.bytes / MiB),
            catchUpMs: behinds.map((b) => Math.round(b.ms)).join(","),
            oneCheckpointMs: ones.map((o) => Math.round(o.ms)).join(","),
            bestCatchUpBeforeFirstByteMs: ms(behind.beforeFirstByteMs),
            bestOneBeforeFirstByteMs: ms(one.beforeFirstByteMs),
          },
        },
      ];
    } finally {
      await engine.stop();
    }
  },
};

function fastest(xs: Publication[]): Publication {
  return xs.reduce((a, b) => (b.ms < a.ms ? b : a));
}

function totals(engine: Engine, job: string): { published: number; bytesCopied: number } {
  const t = engine.status().jobs.find((j) => j.job === job)?.totals;
  return { published: t?.published ?? 0, bytesCopied: t?.bytesCopied ?? 0 };
}
