// `ckpt-replicator verify --config FILE [--side target|source] [--job ID]
// [--deep] [--json]`: checks every _metadata's closure on one side and reports
// each checkpoint as restorable or broken (with the missing files). Exit 1 if
// any is broken; on the source, a _metadata still being written is reported as
// incomplete, not broken.

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import { CkptError } from "../../util/errors.js";
import { openSides } from "../../replication/sides.js";
import { formatVerdicts, verifyCheckpoints, type UnitVerdict } from "../../replication/verify.js";
import { configOption, loadCommandConfig } from "../context.js";
import { displayJob, mostSevere, NothingRestorableError, RootNotFoundError, SideUnreachableError, type Side } from "../exit-codes.js";
import { assertProbes, explainUnreadable, jobsOf, probeSide, resolveJob } from "../../replication/probe.js";
import { compareWithOtherSide, emptyDeepStats, formatDeep, type DeepStats } from "../../replication/deep-verify.js";

export class BrokenCheckpointsError extends CkptError {
  readonly kind = "broken-checkpoints";
}

export interface VerifyArgs {
  config: string;
  side?: "source" | "target";
  job?: string | undefined;
  deep?: boolean;
  json?: boolean;
}

export async function runVerify(args: VerifyArgs, out: Writable = process.stdout): Promise<UnitVerdict[]> {
  const { config, logger } = await loadCommandConfig(args.config);
  const side = args.side ?? "target";
  const other: Side = side === "target" ? "source" : "target";
  const sides = openSides(config, logger);
  let verdicts: UnitVerdict[];
  let jobs: string[];
  const scanFailures: Error[] = [];
  const deep: DeepStats = emptyDeepStats();
  let job: string | undefined;
  try {
    // The verified side must be readable and its roots must exist; with --deep, the other side too.
    const probes = await probeSide(config, side, sides[side].storage);
    assertProbes(probes);
    // The other side's jobs count for --job (a job on the source with nothing on the target is "nothing
    // restorable", not "no such job"); it must be readable only for --deep.
    const otherProbes = await probeSide(config, other, sides[other].storage);
    if (args.deep) assertProbes(otherProbes);
    jobs = jobsOf(probes, otherProbes);
    if (args.job !== undefined) job = resolveJob(args.job, jobs, `the ${side} roots (${config.paths.map((p) => p[side]).join(", ")})`);
    verdicts = await verifyCheckpoints({
      config,
      side,
      bundle: sides[side],
      counterpart: sides[other].storage,
      ...(job !== undefined ? { job } : {}),
      deep: false,
      logger,
      onSnapshot: (snapshot) => {
        for (const r of snapshot.roots) {
          if (r.reason === "missing") scanFailures.push(new RootNotFoundError(side, config[side].name, r.root));
          if (r.reason === "unreadable") scanFailures.push(new SideUnreachableError(side, config[side].name, r.root, explainUnreadable(r.error), { cause: r.error }));
        }
      },
    });
    if (args.deep) await compareWithOtherSide(verdicts, { config, side: sides[side], counterpart: sides[other].storage }, deep);
  } finally {
    sides.close();
  }
  if (scanFailures.length > 0) throw mostSevere(scanFailures);
  const broken = verdicts.filter((v) => v.state === "broken" || (v.state === "unreadable" && side === "target"));
  const jobsConsidered = job !== undefined ? [job] : [...new Set(verdicts.map((v) => v.job))];
  const nothing = side === "target" ? jobsConsidered.filter((j) => !verdicts.some((v) => v.job === j && v.state === "restorable")) : [];
  if (args.json) {
    out.write(`${JSON.stringify({ side, checkpoints: verdicts, ...(args.deep ? { deep: deep } : {}), nothingRestorable: nothing }, null, 2)}\n`);
  } else {
    out.write(formatVerdicts(verdicts, side));
    if (args.deep) out.write(formatDeep(deep, other));
  }
  if (verdicts.length === 0) {
    const what = job !== undefined ? `job ${displayJob(job)} has no _metadata on the ${side}` : `no _metadata found under the ${side} roots`;
    throw new NothingRestorableError(job !== undefined ? [job] : [], `${what}: nothing ${side === "target" ? "is restorable" : "to verify"}`);
  }
  if (broken.length > 0) {
    throw new BrokenCheckpointsError(`${broken.length} of ${verdicts.length} checkpoint(s) on the ${side} are not restorable: ${broken.map((b) => `${b.job}/${b.unit}`).join(", ")}`);
  }
  if (nothing.length > 0) {
    throw new NothingRestorableError(nothing, `no restorable checkpoint on the target for ${nothing.map(displayJob).join(", ")}`);
  }
  return verdicts;
}

export const verifyCommand: CommandModule<object, { config: string; side: "source" | "target"; job?: string; deep: boolean; json: boolean }> = {
  command: "verify",
  describe: "Check that every _metadata's files are present and complete; exit 1 if any checkpoint is broken, 6 if a job has none restorable",
  builder: (y) =>
    y.options({
      ...configOption,
      side: { choices: ["target", "source"] as const, default: "target" as const, describe: "Which cluster to verify" },
      job: { type: "string", describe: "Only this job (or a unique prefix of its id)" },
      deep: { type: "boolean", default: false, describe: "Also compare HDFS checksums with the other side" },
      json: { type: "boolean", default: false, describe: "Print the verdicts as JSON" },
    }),
  handler: async (argv) => {
    await runVerify({ config: argv.config, side: argv.side, job: argv.job, deep: argv.deep, json: argv.json });
  },
};
