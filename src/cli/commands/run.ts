// `ckpt-replicator run --config FILE`: the daemon, until SIGINT/SIGTERM.
// SIGHUP (and any change of the config file) reloads the configuration.

import type { CommandModule } from "yargs";
import { Daemon } from "../../daemon/daemon.js";
import { configOption, loadCommandConfig, untilTerminated } from "../context.js";

export async function runDaemonCommand(args: { config: string }, signal?: AbortSignal): Promise<void> {
  const { config, logger } = await loadCommandConfig(args.config);
  const daemon = new Daemon({ config, logger, watchConfig: true });
  await daemon.start();
  const onHup = () => void daemon.reload();
  process.on("SIGHUP", onHup);
  const lost = new Promise<string>((resolve) => daemon.engine.stopSignal.addEventListener("abort", () => resolve("lease lost"), { once: true }));
  const why = await Promise.race([untilTerminated(signal), lost]);
  process.off("SIGHUP", onHup);
  await daemon.stop(why);
  if (why === "lease lost") throw daemon.engine.stopSignal.reason instanceof Error ? daemon.engine.stopSignal.reason : new Error("target lease lost");
}

export const runCommand: CommandModule<object, { config: string }> = {
  command: "run",
  describe: "Run the replication daemon (scan, copy, publish, reap) until SIGINT/SIGTERM; SIGHUP reloads the config",
  builder: (y) => y.options(configOption),
  handler: (argv) => runDaemonCommand(argv),
};
