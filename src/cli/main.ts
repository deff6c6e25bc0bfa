// Entry point of the `ckpt-replicator` command: parses arguments with yargs and
// dispatches to the subcommand modules. Known errors (CkptError) print one line
// on stderr and exit with their code from exit-codes.ts (usage 2, not found 3,
// unreachable 4/5, nothing restorable 6, config 78, other failures 1); anything
// else is a bug: stack + 70.

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { commands } from "./commands/index.js";
import { UsageError } from "../util/errors.js";
import { setLogFormat, type LogFormat } from "../util/log.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";

export { exitCodeFor };

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
    .scriptName("ckpt-replicator")
    .usage("$0 <command> [options]")
    .command(commands)
    .option("log-format", {
      choices: ["text", "json"] as const,
      global: true,
      describe: "Log lines on stderr as readable text or pino JSON (default: text on a terminal, JSON otherwise)",
    })
    .middleware((argv) => setLogFormat(argv["log-format"] as LogFormat | undefined))
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

/** Runs the CLI for process.argv and sets the exit code; used by bin.ts. */
export async function runCli(argv: string[] = hideBin(process.argv)): Promise<void> {
  try {
    await main(argv);
  } catch (err: unknown) {
    const code = exitCodeFor(err);
    const text = err instanceof Error ? err.message : String(err);
    if (code === ExitCode.INTERNAL) process.stderr.write(`ckpt-replicator: internal error: ${err instanceof Error ? (err.stack ?? text) : text}\n`);
    else process.stderr.write(`ckpt-replicator: ${text}\n`);
    process.exitCode = code;
  }
}
