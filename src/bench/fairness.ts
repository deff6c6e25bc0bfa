// Benchmark 8, fairness between jobs: one job with a huge backlog (a single
// checkpoint of thousands of small files) being copied by the daemon while other
// jobs complete small fresh checkpoints. Each small checkpoint's publish lag
// (simulator completion of its source `_metadata` -> the daemon's publication)
// is compared with the same small checkpoints' lag in a round without the
// backlog, measured in the same run with the same daemon settings. Also counts
// how many small checkpoints were published before the backlog's.

import { Daemon } from "../daemon/daemon.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { BenchmarkError } from "./errors.js";
import { MiB, round } from "./measure.js";
import type { Measurement } from "./result.js";
import { quantile } from "./steady-state.js";

const ID = "fairness";

interface Round {
  /** Lag of each small checkpoint, ms. */
  lags: number[];
  /** Small checkpoints published before the backlog's checkpoint (backlog round only). */
  beforeBacklog: number;
  backlogFiles: number;
  backlogMs: number | null;
}

export const fairness: Benchmark = {
  id: ID,
  title: "Fairness: small fresh checkpoints' publish lag beside a huge backlog vs without it",
  unit: "s",
  target: () => ({ on: "ratio", op: "<=", limit: 2 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.fairness;
    const { env } = ctx;
    const once = async (name: string, withBacklog: boolean): Promise<Round> => {
      const roots = env.roots(`${ID}-${name}`);
      const published = new Map<string, number>();
      const copied = new Map<string, number>();
      const config = await env.config(roots, { scan: { interval: `${p.scanIntervalMs}ms` } });
      let backlogJob: string | null = null;
      let backlogFiles = 0;
      let backlogStart = 0;
      if (withBacklog) {
        const big = env.simulator(roots.source, {
          seed: 801, operators: p.backlog.operators, parallelism: p.backlog.parallelism, newSharedFilesPerSubtask: p.backlog.filesPerSubtask,
          stateSizeBytes: p.backlog.operators * p.backlog.parallelism * p.backlog.filesPerSubtask * p.backlog.fileKiB * 1024,
          inlineState: false, retained: 1, writeConcurrency: 16,
        });
        const e = await big.checkpointOnce();
        backlogJob = e.jobId;
        backlogFiles = e.files + 1;
      }
      const smalls = Array.from({ length: p.smallJobs }, (_, i) =>
        env.simulator(roots.source, { seed: 810 + i, operators: 1, parallelism: 2, newSharedFilesPerSubtask: 2, stateSizeBytes: p.smallMiB * MiB, retained: 1 }),
      );
      const daemon = new Daemon({
        config,
        logger: ctx.logger,
        hooks: {
          onPublished: (e) => published.set(e.job, Date.now()),
          onFileCopied: (job) => copied.set(job, (copied.get(job) ?? 0) + 1),
        },
      });
      backlogStart = Date.now();
      await daemon.start();
      try {
        if (backlogJob !== null) {
          // The backlog is under way (its first files copied, most still to go) before the small jobs checkpoint.
          const until = Date.now() + 60_000;
          while ((copied.get(backlogJob) ?? 0) < p.backlogHeadStartFiles && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
          if (published.has(backlogJob)) throw new BenchmarkError(ID, "start the backlog", "the backlog was published before the small jobs checkpointed: make it bigger");
        }
        const completed = await Promise.all(smalls.map(async (s) => ({ job: (await s.checkpointOnce()).jobId, at: Date.now() })));
        const until = Date.now() + 5 * 60_000;
        const done = () => completed.every((c) => published.has(c.job)) && (backlogJob === null || published.has(backlogJob));
        while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        if (!done()) throw new BenchmarkError(ID, "publish", `not everything published within 5 minutes (${published.size} of ${completed.length + (backlogJob ? 1 : 0)})`);
        const backlogAt = backlogJob === null ? null : (published.get(backlogJob) as number);
        return {
          lags: completed.map((c) => (published.get(c.job) as number) - c.at),
          beforeBacklog: backlogAt === null ? 0 : completed.filter((c) => (published.get(c.job) as number) < backlogAt).length,
          backlogFiles,
          backlogMs: backlogAt === null ? null : backlogAt - backlogStart,
        };
      } finally {
        await daemon.stop();
      }
    };
    const alone = await once("alone", false);
    const beside = await once("backlog", true);
    const s = (ms: number) => round(ms / 1000, 2);
    return [
      {
        id: ID,
        title: this.title,
        unit: this.unit,
        value: s(Math.max(...beside.lags)),
        baseline: s(Math.max(...alone.lags)),
        target: this.target(ctx.profile),
        details: {
          smallJobs: p.smallJobs,
          smallMiB: p.smallMiB,
          scanIntervalS: s(p.scanIntervalMs),
          backlogFiles: beside.backlogFiles,
          backlogPublishS: s(beside.backlogMs ?? 0),
          smallPublishedBeforeBacklog: beside.beforeBacklog,
          lagWithBacklogP50S: s(quantile(beside.lags, 0.5)),
          lagWithBacklogMaxS: s(Math.max(...beside.lags)),
          lagAloneP50S: s(quantile(alone.lags, 0.5)),
          lagAloneMaxS: s(Math.max(...alone.lags)),
          lagsWithBacklogS: beside.lags.map(s).join(","),
          lagsAloneS: alone.lags.map(s).join(","),
        },
      },
      {
        id: "fairness-order",
        title: "Fairness: small fresh checkpoints published before the backlog, of all small checkpoints",
        unit: "checkpoints",
        value: beside.beforeBacklog,
        baseline: p.smallJobs,
        target: { on: "ratio", op: ">=", limit: 1 },
        details: { backlogFiles: beside.backlogFiles },
      },
    ];
  },
};
