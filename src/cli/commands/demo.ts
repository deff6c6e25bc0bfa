// `ckpt-replicator demo` (also `npm start`): the sandbox demo a new user runs
// first. See src/sandbox/demo.ts.

import type { CommandModule } from "yargs";
import { parseDuration, parseSize } from "../../util/units.js";
import { UsageError } from "../../util/errors.js";
import { createLogger, logLevelFromEnv } from "../../util/log.js";
import { runDemo } from "../../sandbox/demo.js";
import { withTermination } from "../context.js";

interface DemoArgv {
  duration: string;
  jobs: number;
  interval: string;
  "state-size": string;
  "state-dir"?: string;
  metrics: string;
  chaos: boolean;
}

export const demoCommand: CommandModule<object, DemoArgv> = {
  command: "demo",
  describe: "Run the sandbox demo: emulated hdfs1/hdfs2, Flink jobs checkpointing on hdfs1, the replicator copying to hdfs2",
  builder: (y) =>
    y.options({
      duration: { type: "string", default: "20s", describe: "How long the Flink jobs run (0 = until Ctrl-C)" },
      jobs: { type: "number", default: 2, describe: "Number of simulated Flink jobs" },
      interval: { type: "string", default: "1s", describe: "Checkpoint interval of the simulated jobs" },
      "state-size": { type: "string", default: "2MiB", describe: "New state per checkpoint per job" },
      "state-dir": { type: "string", describe: "Keep the sandbox's state here (default: a temporary directory)" },
      metrics: { type: "string", default: "127.0.0.1:9464", describe: "Where the replicator serves /metrics (port 0 = any free port)" },
      chaos: { type: "boolean", default: false, describe: "Fail over NameNodes and cut hdfs2 off now and then while it runs" },
    }),
  handler: async (argv) => {
    const durationMs = parseDuration(argv.duration);
    const intervalMs = parseDuration(argv.interval);
    const stateSizeBytes = parseSize(argv["state-size"]);
    if (durationMs === null) throw new UsageError(`--duration: "${argv.duration}" is not a duration`);
    if (intervalMs === null || intervalMs <= 0) throw new UsageError(`--interval: "${argv.interval}" is not a positive duration`);
    if (stateSizeBytes === null) throw new UsageError(`--state-size: "${argv["state-size"]}" is not a size`);
    if (!Number.isInteger(argv.jobs) || argv.jobs < 1 || argv.jobs > 50) throw new UsageError("--jobs: give a number from 1 to 50");
    const result = await withTermination((signal) => runDemo({
      durationMs,
      jobs: argv.jobs,
      intervalMs,
      stateSizeBytes,
      ...(argv["state-dir"] ? { stateDir: argv["state-dir"] } : {}),
      metricsListen: argv.metrics,
      chaos: argv.chaos,
      out: process.stdout,
      logger: createLogger({ level: logLevelFromEnv("warn") }),
      signal,
    }));
    process.stdout.write(`\ndemo done: ${result.published} checkpoints published; on hdfs2 ${result.restorable} restorable, ${result.broken} not restorable\n`);
    if (result.broken > 0) process.exitCode = 1;
  },
};
