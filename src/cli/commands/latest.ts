// `ckpt-replicator latest --config FILE --job ID [--format path|json|flink] [--checkpoints-only]`:
// the newest restore point of a job on the target: the restorable checkpoint or
// savepoint that completed last on the source (verified now, not taken from
// bookkeeping), as a path, JSON, or a ready Flink restore command in NO_CLAIM
// mode so the DR job never deletes replicated files. --checkpoints-only ignores
// savepoints.

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import { findLatest, formatLatest, type LatestFormat, type LatestResult } from "../../replication/latest.js";
import { configOption, loadCommandConfig } from "../context.js";

export async function runLatest(args: { config: string; job: string; format?: LatestFormat; checkpointsOnly?: boolean }, out: Writable = process.stdout): Promise<LatestResult> {
  const { config, logger } = await loadCommandConfig(args.config);
  const result = await findLatest(config, args.job, logger, { checkpointsOnly: args.checkpointsOnly === true });
  out.write(formatLatest(result, args.format ?? "path"));
  return result;
}

export const latestCommand: CommandModule<object, { config: string; job: string; format: LatestFormat; "checkpoints-only": boolean }> = {
  command: "latest",
  describe: "Print the newest restore point of a job on the target: the restorable checkpoint or savepoint that completed last (verified now)",
  builder: (y) =>
    y.options({
      ...configOption,
      job: { type: "string", demandOption: true, describe: "Job directory name under the target root (or a unique prefix)" },
      format: { choices: ["path", "json", "flink"] as const, default: "path" as const, describe: "Output: URI, JSON, or a Flink restore command" },
      "checkpoints-only": { type: "boolean", default: false, describe: "Ignore savepoints: the newest restorable checkpoint" },
    }),
  handler: async (argv) => {
    await runLatest({ config: argv.config, job: argv.job, format: argv.format, checkpointsOnly: argv["checkpoints-only"] });
  },
};
