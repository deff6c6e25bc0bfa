// Benchmark 1, copy throughput: the replicator publishing one checkpoint of
// large state files from hdfs1 to hdfs2, against a bare WebHDFS copy of the same
// files (open -> create, same concurrency, same parent directories created).
// Both run `rounds` times, alternating; the best round of each is reported,
// with the replicator's best round split into before-first-byte, transfer and
// after-last-byte time.

import PQueue from "p-queue";
import type { RetainedCheckpoint } from "../sandbox/simulator/index.js";
import { parentOf } from "../storage/types.js";
import type { WebHdfsClient } from "../webhdfs/index.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { MiB, publishUntil, round, timed, TransferClock } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "copy-throughput";

export const copyThroughput: Benchmark = {
  id: ID,
  title: "Copy throughput (replicator vs bare WebHDFS copy)",
  unit: "MiB/s",
  target: () => ({ on: "ratio", op: ">=", limit: 0.8 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.copy;
    const { env } = ctx;
    const roots = env.roots(ID);
    const sim = env.simulator(roots.source, {
      seed: 101,
      operators: 1,
      parallelism: p.subtasks,
      newSharedFilesPerSubtask: p.filesPerSubtask,
      stateSizeBytes: p.totalMiB * MiB,
      fileSizeSpread: 0,
      retained: 1,
    });
    const checkpoint = await sim.checkpointOnce();
    const retained = sim.retained()[0] as RetainedCheckpoint;
    const files = [...retained.files.map((f) => ({ path: f.path, size: f.size })), { path: retained.metadataPath, size: retained.metadataSize }];
    const bytes = files.reduce((n, f) => n + f.size, 0);

    const source = env.client("hdfs1");
    const target = env.client("hdfs2");
    const bareMs: number[] = [];
    const engineMs: number[] = [];
    const enginePhases: ReturnType<TransferClock["phases"]>[] = [];
    let filesCopied = 0;
    for (let r = 1; r <= p.rounds; r++) {
      bareMs.push((await timed(() => bareCopy(source, target, files, roots.source, `/baseline/${ID}/round-${r}`, p.concurrency))).ms);
      const config = await env.config({ source: roots.source, target: `${roots.target}/round-${r}` }, { copy: { concurrency: p.concurrency } });
      const clock = new TransferClock();
      const engine = await env.engine(config, clock.hooks);
      try {
        clock.start();
        engineMs.push((await timed(() => publishUntil(ID, engine, sim.jobId, checkpoint.checkpointId, ctx.profile.publishTimeoutMs))).ms);
        enginePhases.push(clock.phases());
        filesCopied = engine.status().jobs[0]?.totals.filesCopied ?? 0;
      } finally {
        await engine.stop();
      }
    }
    const mibPerS = (ms: number) => bytes / MiB / (ms / 1000);
    const best = enginePhases[engineMs.indexOf(Math.min(...engineMs))];
    const ms = (n: number | null | undefined) => (n === null || n === undefined ? "-" : Math.round(n));
    return [
      {
        id: ID,
        title: this.title,
        unit: this.unit,
        value: round(mibPerS(Math.min(...engineMs))),
        baseline: round(mibPerS(Math.min(...bareMs))),
        target: this.target(ctx.profile),
        details: {
          files: files.length,
          mib: round(bytes / MiB),
          concurrency: p.concurrency,
          rounds: p.rounds,
          replicatorMs: engineMs.map((ms) => Math.round(ms)).join(","),
          bareCopyMs: bareMs.map((ms) => Math.round(ms)).join(","),
          replicatorFilesCopied: filesCopied,
          bestReplicatorBeforeFirstByteMs: ms(best?.beforeFirstByteMs),
          bestReplicatorTransferMs: ms(best?.transferMs),
          bestReplicatorAfterLastByteMs: ms(best?.afterLastByteMs),
        },
      },
    ];
  },
};

/** The baseline: every file streamed with the bare client (open -> create), `concurrency` at a time. */
export async function bareCopy(
  source: WebHdfsClient,
  target: WebHdfsClient,
  files: readonly { path: string }[],
  fromRoot: string,
  toRoot: string,
  concurrency: number,
): Promise<void> {
  const created = new Map<string, Promise<void>>();
  const ensureDir = (dir: string) => {
    let p = created.get(dir);
    if (!p) created.set(dir, (p = target.mkdirs(dir)));
    return p;
  };
  const queue = new PQueue({ concurrency });
  await queue.addAll(
    files.map((f) => async () => {
      const to = `${toRoot}${f.path.slice(fromRoot.length)}`;
      await ensureDir(parentOf(to));
      const body = await source.open(f.path);
      await target.create(to, body, { overwrite: false });
    }),
  );
}
