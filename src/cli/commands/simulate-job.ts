// `ckpt-replicator simulate-job`: runs the Flink job simulator against a WebHDFS
// cluster (--namenode, repeatable for HA) or a local directory tree (--local),
// until --count checkpoints are taken or SIGINT/SIGTERM arrives (exit 0).

import { join } from "node:path";
import type { Writable } from "node:stream";
import type { CommandModule } from "yargs";
import { parseDuration, parseSize } from "../../util/units.js";
import { FlinkJobSimulator, type PathStyle, type SimulatorOptions } from "../../sandbox/simulator/index.js";
import { createStorage } from "../../storage/factory.js";
import { localSide } from "../../storage/local.js";
import type { Storage } from "../../storage/types.js";
import { webhdfsSide } from "../../storage/webhdfs-backend.js";
import { UsageError } from "../../util/errors.js";
import { withTermination } from "../context.js";
import { createLogger, type Logger } from "../../util/log.js";

export interface SimulateJobArgs {
  namenode?: string[];
  local?: string;
  clusterName?: string;
  root: string;
  jobId?: string;
  interval?: string;
  retained?: number;
  count?: number;
  seed?: number;
  formatVersion?: number;
  paths?: string;
  operators?: number;
  parallelism?: number;
  stateSize?: string;
  user?: string;
  fsUri?: string;
  channelState?: boolean;
  taskOwned?: boolean;
  inline?: boolean;
}

export interface SimulateJobContext {
  /** Aborting stops the run (the checkpoint in progress is discarded). */
  signal: AbortSignal;
  stdout?: Writable;
  logger?: Logger;
}

/** The storage the arguments name and the filesystem URI prefix Flink would write for it. */
export function storageForArgs(args: SimulateJobArgs, logger: Logger): { storage: Storage; fsUri: string; root: string } {
  const namenodes = args.namenode ?? [];
  if ((namenodes.length > 0) === (args.local !== undefined)) throw new UsageError("simulate-job: give either --namenode URL (repeatable) or --local DIR");
  if (!args.root.startsWith("/")) throw new UsageError(`simulate-job: --root must be an absolute path, not "${args.root}"`);
  if (args.local !== undefined) {
    return { storage: createStorage(localSide("local"), logger), fsUri: args.fsUri ?? "file:", root: join(args.local, args.root) };
  }
  for (const url of namenodes) {
    if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new UsageError(`simulate-job: --namenode must be an http(s)://host:port URL, not "${url}"`);
  }
  const name = args.clusterName ?? "hdfs1";
  return { storage: createStorage(webhdfsSide({ name, namenodes, user: args.user }), logger), fsUri: args.fsUri ?? `hdfs://${name}`, root: args.root };
}

function parsed<T>(flag: string, text: string | undefined, parse: (v: string) => T | null): T | undefined {
  if (text === undefined) return undefined;
  const value = parse(text);
  if (value === null) throw new UsageError(`simulate-job: ${flag} "${text}" is not valid`);
  return value;
}

/** Simulator options from the command line (everything but storage). */
export function simulatorOptionsFromArgs(args: SimulateJobArgs): Omit<SimulatorOptions, "storage" | "fsUri" | "root"> {
  if (args.paths !== undefined && args.paths !== "relative" && args.paths !== "absolute") {
    throw new UsageError(`simulate-job: --paths must be relative or absolute, not "${args.paths}"`);
  }
  return {
    jobId: args.jobId,
    intervalMs: parsed("--interval", args.interval, parseDuration),
    stateSizeBytes: parsed("--state-size", args.stateSize, parseSize),
    retained: args.retained,
    checkpoints: args.count,
    seed: args.seed,
    formatVersion: args.formatVersion,
    paths: args.paths as PathStyle | undefined,
    operators: args.operators,
    parallelism: args.parallelism,
    channelState: args.channelState,
    taskOwnedState: args.taskOwned,
    inlineState: args.inline,
  };
}

/** Runs the simulator until the count is reached or the signal aborts. */
export async function runSimulateJob(args: SimulateJobArgs, context: SimulateJobContext): Promise<FlinkJobSimulator> {
  const stdout = context.stdout ?? process.stdout;
  const logger = context.logger ?? createLogger();
  const options = simulatorOptionsFromArgs(args);
  const { storage, fsUri, root } = storageForArgs(args, logger);
  try {
    const simulator = new FlinkJobSimulator({ ...options, storage, fsUri, root, logger });
    stdout.write(`simulating job ${simulator.jobId} in ${fsUri}${simulator.jobDir}\n`);
    await simulator.run({ signal: context.signal });
    const kept = simulator.retained().map((c) => `chk-${c.id}`);
    stdout.write(`job ${simulator.jobId} stopped; retained: ${kept.length > 0 ? kept.join(", ") : "none"}\n`);
    return simulator;
  } finally {
    storage.close();
  }
}

interface SimulateJobCliArgv {
  namenode: string[] | undefined;
  local: string | undefined;
  "cluster-name": string | undefined;
  root: string;
  "job-id": string | undefined;
  interval: string | undefined;
  retained: number | undefined;
  count: number | undefined;
  seed: number | undefined;
  "format-version": number | undefined;
  paths: string | undefined;
  operators: number | undefined;
  parallelism: number | undefined;
  "state-size": string | undefined;
  user: string | undefined;
  "fs-uri": string | undefined;
  "channel-state": boolean | undefined;
  "task-owned": boolean | undefined;
  inline: boolean | undefined;
}

export const simulateJobCommand: CommandModule<object, SimulateJobCliArgv> = {
  command: "simulate-job",
  describe: "Checkpoint like a Flink job (RocksDB incremental, real _metadata) into HDFS or a local tree",
  builder: (yargs) =>
    yargs
      .option("namenode", { type: "string", array: true, describe: "NameNode HTTP URL (repeat for HA)" })
      .option("local", { type: "string", describe: "Write into this local directory instead of HDFS" })
      .option("cluster-name", { type: "string", describe: "Cluster name for logs and the default --fs-uri (default hdfs1)" })
      .option("root", { type: "string", demandOption: true, describe: "Checkpoint directory (state.checkpoints.dir path)" })
      .option("job-id", { type: "string", describe: "32 hex digits (default: derived from --seed)" })
      .option("interval", { type: "string", describe: "Checkpoint interval (default 1s)" })
      .option("retained", { type: "number", describe: "Retained checkpoints (default 2)" })
      .option("count", { type: "number", describe: "Stop after this many checkpoints (default: until SIGINT/SIGTERM)" })
      .option("seed", { type: "number", describe: "Seed of ids, names, sizes and bytes (default 1)" })
      .option("format-version", { type: "number", describe: "_metadata format version 3-7 (default 4)" })
      .option("paths", { type: "string", choices: ["relative", "absolute"], describe: "Exclusive files as relative or absolute handles (default relative)" })
      .option("operators", { type: "number", describe: "Operators (default 2)" })
      .option("parallelism", { type: "number", describe: "Parallelism (default 2)" })
      .option("state-size", { type: "string", describe: "New SST bytes per checkpoint (default 1MiB)" })
      .option("user", { type: "string", describe: "HDFS user (simple auth)" })
      .option("fs-uri", { type: "string", describe: "URI prefix written into _metadata (default hdfs://<cluster-name>, or file: with --local)" })
      .option("channel-state", { type: "boolean", describe: "Unaligned checkpoints: write channel state" })
      .option("task-owned", { type: "boolean", describe: "File merging: exclusive keyed files as segments under taskowned/" })
      .option("inline", { type: "boolean", describe: "Keep state under 1 KiB inline in _metadata (default true; --no-inline)" }),
  handler: async (argv) => {
    const args: SimulateJobArgs = {
      root: argv.root,
      namenode: argv.namenode,
      local: argv.local,
      clusterName: argv["cluster-name"],
      jobId: argv["job-id"],
      interval: argv.interval,
      retained: argv.retained,
      count: argv.count,
      seed: argv.seed,
      formatVersion: argv["format-version"],
      paths: argv.paths,
      operators: argv.operators,
      parallelism: argv.parallelism,
      stateSize: argv["state-size"],
      user: argv.user,
      fsUri: argv["fs-uri"],
      channelState: argv["channel-state"],
      taskOwned: argv["task-owned"],
      inline: argv.inline,
    };
    await withTermination((signal) => runSimulateJob(args, { signal }));
  },
};
