// `ckpt-replicator rewrite-metadata IN OUT --map FROM=TO ... [--strict]`:
// rewrites the absolute path prefixes of a Flink `_metadata` file and writes the
// result to OUT through a temporary file and a rename.

import { writeLocalFileAtomically } from "../../util/local-files.js";
import type { Writable } from "node:stream";
import type { CommandModule } from "yargs";
import { localMetadataSource, parsePathMap, rewriteMetadataPaths, type MetadataSource, type RewriteResult } from "../../flink/index.js";

export interface RewriteMetadataArgs {
  input: string;
  output: string;
  /** `FROM=TO` prefix pairs. */
  maps: string[];
  strict?: boolean;
}

export async function runRewriteMetadataCommand(
  args: RewriteMetadataArgs,
  context: { stdout?: Writable; source?: MetadataSource } = {},
): Promise<RewriteResult> {
  const map = parsePathMap(args.maps);
  const input = await (context.source ?? localMetadataSource)(args.input);
  const result = rewriteMetadataPaths(input, map, { strict: args.strict });
  await writeLocalFileAtomically(args.output, result.bytes);
  const stdout = context.stdout ?? process.stdout;
  stdout.write(`rewrote ${result.rewritten} path(s); wrote ${result.bytes.length} bytes to ${args.output}\n`);
  if (result.unmatched.length > 0) {
    stdout.write(`${result.unmatched.length} absolute path(s) matched no prefix and were left unchanged:\n`);
    for (const p of result.unmatched) stdout.write(`  ${p}\n`);
  }
  return result;
}

export const rewriteMetadataCommand: CommandModule<object, { in: string; out: string; map: string[]; strict: boolean }> = {
  command: "rewrite-metadata <in> <out>",
  describe: "Rewrite absolute path prefixes in a Flink _metadata file (relative paths are kept)",
  builder: (y) =>
    y
      .positional("in", { type: "string", demandOption: true, describe: "Input _metadata file" })
      .positional("out", { type: "string", demandOption: true, describe: "Output file (written via temp file + rename)" })
      .option("map", { type: "string", array: true, demandOption: true, describe: "Prefix mapping FROM=TO (repeatable)" })
      .option("strict", { type: "boolean", default: false, describe: "Fail if an absolute path matches no mapping" }),
  handler: async (argv) => {
    await runRewriteMetadataCommand({ input: argv.in, output: argv.out, maps: argv.map, strict: argv.strict });
  },
};
