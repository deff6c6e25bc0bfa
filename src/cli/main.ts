// Entry point of the `ckpt-replicator` command: parses arguments with yargs and
// dispatches to the subcommand modules. Known errors (CkptError) print one line
// on stderr and exit 1; usage errors exit 2; anything else is a bug: stack + 70.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { commands } from "./commands/index.js";
import { isCkptError, UsageError } from "../util/errors.js";

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
    .scriptName("ckpt-replicator")
    .usage("$0 <command> [options]")
    .command(commands)
    .demandCommand(1, "Name a command; see --help for the list.")
    .strict()
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
  await parser.parseAsync();
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return 2;
  if (isCkptError(err)) return 1;
  return 70;
}

/** Runs the CLI for process.argv and sets the exit code; used by bin.ts. */
export async function runCli(argv: string[] = hideBin(process.argv)): Promise<void> {
  try {
    await main(argv);
  } catch (err: unknown) {
    const code = exitCodeFor(err);
    const text = err instanceof Error ? err.message : String(err);
    if (code === 70) process.stderr.write(`ckpt-replicator: internal error: ${err instanceof Error ? (err.stack ?? text) : text}\n`);
    else process.stderr.write(`ckpt-replicator: ${text}\n`);
    process.exitCode = code;
  }
}
