// `ckpt-replicator run --config FILE`: the daemon, until SIGINT/SIGTERM.
// SIGHUP (and any change of the config file) reloads the configuration.

import type { CommandModule } from "yargs";
import { Daemon } from "../../daemon/daemon.js";
import { aborted, configOption, loadCommandConfig, withTermination } from "../context.js";

/** Runs the daemon until `stop` aborts (SIGINT/SIGTERM from the CLI) or the target lease is lost. */
export async function runDaemonCommand(args: { config: string }, stop: AbortSignal): Promise<void> {
  const { config, logger } = await loadCommandConfig(args.config);
  const daemon = new Daemon({ config, logger, watchConfig: true, crashGuard: true });
  await daemon.start(stop);
  const onHup = () => void daemon.reload();
  process.on("SIGHUP", onHup);
  const why = await Promise.race([aborted(stop), aborted(daemon.engine.stopSignal).then(() => "lease lost")]);
  process.off("SIGHUP", onHup);
  await daemon.stop(why);
  const reason: unknown = daemon.engine.stopSignal.reason;
  if (why === "lease lost") throw reason instanceof Error ? reason : new Error("target lease lost");
}

export const runCommand: CommandModule<object, { config: string }> = {
  command: "run",
  describe: "Run the replication daemon (scan, copy, publish, reap) until SIGINT/SIGTERM; SIGHUP reloads the config",
  builder: (y) => y.options(configOption),
  handler: (argv) => withTermination((signal) => runDaemonCommand(argv, signal)),
};
