// `ckpt-replicator run --config FILE [--transfers N] [--bwlimit ...]`: the
// daemon, until SIGINT/SIGTERM. SIGHUP (and any change of the config file)
// reloads the configuration; the command-line overrides stay in force, and a
// --bwlimit timetable is followed as the day goes on.

import type { CommandModule } from "yargs";
import { Daemon } from "../../daemon/daemon.js";
import { aborted } from "../../util/signals.js";
import { configOption, loadCommandConfig, withTermination } from "../context.js";
import { jobFilterOf, jobPatternOptions, overrideOptions, overridesOf, type JobPatternArgs, type OverrideArgs } from "../overrides.js";

/** How often a --bwlimit timetable is looked at. */
const TIMETABLE_TICK_MS = 15_000;

/** Runs the daemon until `stop` aborts (SIGINT/SIGTERM from the CLI) or the target lease is lost. */
export async function runDaemonCommand(args: { config: string } & OverrideArgs & JobPatternArgs, stop: AbortSignal): Promise<void> {
  const overrides = overridesOf(args); // usage errors before anything starts
  const jobFilter = jobFilterOf(args);
  const { config, logger } = await loadCommandConfig(args.config);
  const daemon = new Daemon({ config, logger, watchConfig: true, crashGuard: true, transform: (c) => overrides.apply(c), ...(jobFilter ? { jobFilter } : {}) });
  await daemon.start(stop);
  const onHup = () => void daemon.reload();
  process.on("SIGHUP", onHup);
  const tick = overrides.timetable?.some((e) => e.minute !== null) ? setInterval(() => daemon.refreshOverrides(), TIMETABLE_TICK_MS) : null;
  tick?.unref();
  const why = await Promise.race([aborted(stop), aborted(daemon.engine.stopSignal).then(() => "lease lost")]);
  if (tick) clearInterval(tick);
  process.off("SIGHUP", onHup);
  await daemon.stop(why);
  const reason: unknown = daemon.engine.stopSignal.reason;
  if (why === "lease lost") throw reason instanceof Error ? reason : new Error("target lease lost");
}

export const runCommand: CommandModule<object, { config: string; transfers?: number; bwlimit?: string; "max-delete"?: string; "include-job"?: string[]; "exclude-job"?: string[] }> = {
  command: "run",
  describe: "Run the replication daemon (scan, copy, publish, reap) until SIGINT/SIGTERM; SIGHUP reloads the config",
  builder: (y) => y.options({ ...configOption, ...overrideOptions, ...jobPatternOptions }),
  handler: (argv) =>
    withTermination((signal) =>
      runDaemonCommand(
        { config: argv.config, transfers: argv.transfers, bwlimit: argv.bwlimit, maxDelete: argv["max-delete"], includeJob: argv["include-job"], excludeJob: argv["exclude-job"] },
        signal,
      ),
    ),
};
