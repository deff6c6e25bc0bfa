// Benchmark 2, incremental scan cost: the engine's TreeScanner over an
// unchanged tree of J jobs x C retained checkpoints x F files. A warm scan
// (listing cache by directory mtime, fullRescanEvery large) against a cold scan
// of the same tree by a fresh scanner: storage requests (counted through a
// wrapper) and wall time, each averaged over `repeats` scans.

import { LISTING_SETTLE_MS, TreeScanner, type TreeSnapshot } from "../replication/scan.js";
import type { BenchContext, Benchmark } from "./harness.js";
import { BenchmarkError } from "./errors.js";
import { countingStorage, round, timed } from "./measure.js";
import type { Measurement } from "./result.js";

const ID = "scan-requests";
const LIST_CONCURRENCY = 8;
const NEVER_FULL = 1_000_000;

export const scanCost: Benchmark = {
  id: ID,
  title: "Incremental scan of an unchanged tree vs a cold scan",
  unit: "requests",
  target: () => ({ on: "ratio", op: "<=", limit: 0.1 }),
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const p = ctx.profile.scan;
    const { env } = ctx;
    const root = env.roots("scan-cost").source;
    await Promise.all(
      Array.from({ length: p.jobs }, (_, j) =>
        env
          .simulator(root, {
            seed: 200 + j,
            operators: 1,
            parallelism: p.subtasks,
            newSharedFilesPerSubtask: p.filesPerSubtask,
            stateSizeBytes: 4096 * p.subtasks * p.filesPerSubtask,
            inlineState: false,
            retained: p.checkpoints,
          })
          .run({ count: p.checkpoints }),
      ),
    );
    // A listing taken within LISTING_SETTLE_MS of a directory's change is not cached: let the tree settle.
    await new Promise((r) => setTimeout(r, 2 * LISTING_SETTLE_MS));
    const { storage, calls } = countingStorage(env.storage("hdfs1"));
    const requests = () => (calls.get("list") ?? 0) + (calls.get("stat") ?? 0);
    const scanner = () => new TreeScanner({ storage, roots: [root], listConcurrency: LIST_CONCURRENCY, fullRescanEvery: NEVER_FULL });
    const measure = async (s: TreeScanner) => {
      const before = requests();
      const { result, ms } = await timed(() => s.scan());
      return { snapshot: result, ms, requests: requests() - before };
    };

    const cold = [];
    for (let i = 0; i < p.repeats; i++) cold.push(await measure(scanner()));
    const warmScanner = scanner();
    await warmScanner.scan();
    const warm = [];
    for (let i = 0; i < p.repeats; i++) warm.push(await measure(warmScanner));

    const tree = describeTree((cold[0] as { snapshot: TreeSnapshot }).snapshot);
    for (const w of warm) {
      const seen = describeTree(w.snapshot);
      if (seen.checkpoints !== tree.checkpoints || seen.files !== tree.files) {
        throw new BenchmarkError(ID, "warm scan", `saw ${seen.checkpoints} checkpoints/${seen.files} files, the cold scan ${tree.checkpoints}/${tree.files}`);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const details = { jobs: p.jobs, checkpoints: tree.checkpoints, files: tree.files, listConcurrency: LIST_CONCURRENCY, repeats: p.repeats };
    return [
      {
        id: ID,
        title: this.title,
        unit: this.unit,
        value: mean(warm.map((w) => w.requests)),
        baseline: mean(cold.map((c) => c.requests)),
        target: this.target(ctx.profile),
        details,
      },
      {
        id: "scan-time",
        title: "Incremental scan time vs a cold scan",
        unit: "ms",
        value: round(mean(warm.map((w) => w.ms))),
        baseline: round(mean(cold.map((c) => c.ms))),
        target: { on: "ratio", op: "<=", limit: 0.5 },
        details,
      },
    ];
  },
};

/** Checkpoints and files (in checkpoint directories and shared/taskowned) a scan saw. */
function describeTree(s: TreeSnapshot): { checkpoints: number; files: number } {
  let checkpoints = 0;
  let files = 0;
  for (const job of s.jobs.values()) {
    checkpoints += job.units.length;
    files += job.sharedFiles.size + job.units.reduce((n, u) => n + u.entries.filter((e) => e.type === "file").length, 0);
  }
  return { checkpoints, files };
}
