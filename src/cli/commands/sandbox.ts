// `ckpt-replicator sandbox`: runs the WebHDFS emulator (named HA clusters plus
// the admin API) in the foreground, prints the endpoints, writes them as JSON
// to --endpoints-file once everything listens, and stops cleanly on SIGINT or
// SIGTERM (exit 0).

import type { CommandModule } from "yargs";
import { createLogger } from "../../util/log.js";
import { DEFAULT_CLUSTERS } from "../../sandbox/emulator/index.js";
import { runSandboxCommand, type SandboxCommandArgs } from "../../sandbox/foreground.js";
import { withTermination } from "../context.js";

interface SandboxCliArgv {
  "state-dir": string;
  clusters: string | undefined;
  "endpoints-file": string | undefined;
  "list-batch-size": number | undefined;
  secure: string | undefined;
}

export const sandboxCommand: CommandModule<object, SandboxCliArgv> = {
  command: "sandbox",
  describe: "Run local emulated HDFS clusters (WebHDFS NameNode HA pairs + DataNodes) until interrupted",
  builder: (yargs) =>
    yargs
      .option("state-dir", { type: "string", demandOption: true, describe: "Directory for namespaces and file bytes (reuse to keep state)" })
      .option("clusters", { type: "string", describe: `Comma-separated cluster names (default ${DEFAULT_CLUSTERS.join(",")})` })
      .option("endpoints-file", { type: "string", describe: "Write the endpoints as JSON to this file once listening" })
      .option("list-batch-size", { type: "number", describe: "LISTSTATUS_BATCH page size (default 1000)" })
      .option("secure", { type: "string", describe: "Comma-separated clusters that start in secure mode (401 without a delegation token)" }),
  handler: async (argv) => {
    const args: SandboxCommandArgs = {
      stateDir: argv["state-dir"],
      clusters: argv.clusters,
      endpointsFile: argv["endpoints-file"],
      listBatchSize: argv["list-batch-size"],
      secure: argv.secure,
    };
    const interrupted = await withTermination(async (signal) => {
      await runSandboxCommand(args, { signal, logger: createLogger() });
      return signal.aborted;
    });
    // A start-up interrupted by a signal may leave a filesystem call stuck in the thread pool (an open() of a
    // FIFO, a hung NFS mount), which keeps the process alive and even blocks process.exit(). The handlers are
    // gone by now, so re-raising SIGTERM ends the process the default way.
    if (interrupted) setTimeout(() => process.kill(process.pid, "SIGTERM"), 2000).unref();
  },
};
