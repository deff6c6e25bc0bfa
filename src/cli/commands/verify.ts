// `ckpt-replicator verify --config FILE [--side target|source] [--job ID]
// [--deep] [--json]`: checks every _metadata's closure on one side and reports
// each checkpoint as restorable or broken (with the missing files). Exit 1 if
// any is broken; on the source, a _metadata still being written is reported as
// incomplete, not broken.

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import { CkptError } from "../../util/errors.js";
import { openSides } from "../../daemon/runtime.js";
import { verifyCheckpoints, type UnitVerdict } from "../../replication/index.js";
import { configOption, loadCommandConfig } from "../context.js";

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
  const sides = openSides(config, logger);
  let verdicts: UnitVerdict[];
  try {
    verdicts = await verifyCheckpoints({
      config,
      side,
      storage: sides[side],
      counterpart: side === "target" ? sides.source : sides.target,
      ...(args.job !== undefined ? { job: args.job } : {}),
      deep: !!args.deep,
      logger,
    });
  } finally {
    sides.close();
  }
  const broken = verdicts.filter((v) => v.state === "broken" || (v.state === "unreadable" && side === "target"));
  if (args.json) out.write(`${JSON.stringify({ side, checkpoints: verdicts }, null, 2)}\n`);
  else out.write(formatVerdicts(verdicts, side));
  if (broken.length > 0) {
    throw new BrokenCheckpointsError(`${broken.length} of ${verdicts.length} checkpoint(s) on the ${side} are not restorable: ${broken.map((b) => `${b.job}/${b.unit}`).join(", ")}`);
  }
  return verdicts;
}

export function formatVerdicts(verdicts: UnitVerdict[], side: string): string {
  if (verdicts.length === 0) return `no _metadata found on the ${side}\n`;
  const lines: string[] = [];
  for (const v of verdicts) {
    const name = `${v.job ? `${v.job}/` : ""}${v.unit}`;
    if (v.state === "restorable") lines.push(`restorable  ${name}  (${v.files} files, ${v.bytes} bytes)`);
    else {
      const label = v.state === "unreadable" ? (side === "source" ? "incomplete" : "UNREADABLE") : "BROKEN";
      lines.push(`${label.padEnd(11)} ${name}`);
      for (const p of v.problems.slice(0, 20)) lines.push(`            - ${p}`);
      if (v.problems.length > 20) lines.push(`            - ... ${v.problems.length - 20} more`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export const verifyCommand: CommandModule<object, { config: string; side: "source" | "target"; job?: string; deep: boolean; json: boolean }> = {
  command: "verify",
  describe: "Check that every _metadata's files are present and complete; exit 1 if any checkpoint is broken",
  builder: (y) =>
    y.options({
      ...configOption,
      side: { choices: ["target", "source"] as const, default: "target" as const, describe: "Which cluster to verify" },
      job: { type: "string", describe: "Only this job" },
      deep: { type: "boolean", default: false, describe: "Also compare HDFS checksums with the other side" },
      json: { type: "boolean", default: false, describe: "Print the verdicts as JSON" },
    }),
  handler: async (argv) => {
    await runVerify({ config: argv.config, side: argv.side, job: argv.job, deep: argv.deep, json: argv.json });
  },
};
