// Entry point of `npm run bench` (node dist/bench/run.js [--quick] [--out FILE]
// [--only ID...] [--emulator MODE] [--rpo-duration S] [--engine-sizes N...] [--engine-synced-sizes N...]
// [--engine-heap-dir DIR] [--engine-max-old-space MiB] [--interop-results FILE]): runs the benchmarks against the
// WebHDFS emulator, prints a table, writes the results as JSON and exits 1 when a target is missed
// (2 on bad arguments). Below the table it reports the real-stack figures (daemon vs DistCp) of the
// latest `npm run interop` run, read from its results file (informational, no target).

import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { errorMessage, UsageError } from "../util/errors.js";
import { createLogger, silentLogger, type Logger } from "../util/log.js";
import { catchUp } from "./catch-up.js";
import { copyThroughput } from "./copy-throughput.js";
import type { EmulatorMode } from "./emulator-host.js";
import { runBenchmarks, type Benchmark, type BenchRun } from "./harness.js";
import { memoryBound } from "./memory-bound.js";
import { FULL_PROFILE, QUICK_PROFILE, type BenchProfile } from "./profile.js";
import { engineScale } from "./engine-scale.js";
import { fairness } from "./fairness.js";
import { formatRealStack, readRealStackFigures, type RealStackFigures } from "./real-stack.js";
import { formatTable, resultsDocument } from "./report.js";
import { scanCost } from "./scan-cost.js";
import { smallFiles } from "./small-files.js";
import { steadyState } from "./steady-state.js";
import { treeScale } from "./tree-scale.js";

export const BENCHMARKS: readonly Benchmark[] = [copyThroughput, scanCost, catchUp, memoryBound, smallFiles, treeScale, engineScale, steadyState, fairness];

export interface BenchArgs {
  quick: boolean;
  out: string;
  only: string[];
  logLevel: "silent" | "error" | "warn" | "info" | "debug";
  emulator: EmulatorMode;
  interopResults: string;
  /** Results of `npm run interop -- --perf-only` (the 5,000-file case, too long for CI's run). */
  interopPerfResults: string;
  /** Overrides the profile's steady-state RPO duration (seconds). */
  rpoDuration?: number;
  engineSizes?: number[];
  engineSyncedSizes?: number[];
  engineHeapDir?: string;
  engineMaxOldSpaceMiB?: number;
}

export async function parseBenchArgs(argv: string[]): Promise<BenchArgs> {
  const ids = BENCHMARKS.map((b) => b.id);
  const args = await yargs(argv)
    .scriptName("bench")
    .usage("$0 [--quick] [--out FILE] [--only ID...]")
    .option("quick", { type: "boolean", default: false, describe: "small sizes (seconds instead of minutes)" })
    .option("out", { type: "string", default: "./bench-results.json", describe: "where the JSON results are written" })
    .option("only", { type: "string", array: true, choices: ids, describe: "run only these benchmarks" })
    .option("log-level", { choices: ["silent", "error", "warn", "info", "debug"] as const, default: "silent" as const, describe: "log level (stderr, JSON)" })
    .option("emulator", {
      choices: ["auto", "child", "in-process"] as const,
      default: "auto" as const,
      describe: "where the WebHDFS emulator runs (auto: a child process when compiled, else in-process)",
    })
    .option("rpo-duration", { type: "number", describe: "seconds the steady-state RPO benchmark runs the job (default: the profile's)" })
    .option("engine-sizes", { type: "number", array: true, describe: "engine-scale: first-sync tree sizes in files (default: the profile's; none given: that part is left out)" })
    .option("engine-synced-sizes", { type: "number", array: true, describe: "engine-scale: sizes of the trees generated already in sync on both sides (e.g. 1000000)" })
    .option("engine-heap-dir", { type: "string", describe: "engine-scale: write V8 heap snapshots of the engine's process into this directory" })
    .option("engine-max-old-space", { type: "number", describe: "engine-scale: run the engine's process with --max-old-space-size=MiB (default: the deployment files' cap; 0: none)" })
    .option("interop-results", { type: "string", default: "./interop-results.json", describe: "results of npm run interop whose real-stack perf figures are reported" })
    .option("interop-perf-results", {
      type: "string",
      default: "./interop-perf-results.json",
      describe: "results of npm run interop -- --perf-only (e.g. --small-files 5000), reported beside them",
    })
    .strict()
    .help(false)
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseAsync();
  const rpoDuration = args["rpo-duration"];
  if (rpoDuration !== undefined && !(rpoDuration > 0)) throw new UsageError(`--rpo-duration must be a positive number of seconds, got ${rpoDuration}`);
  const sizesOf = (flag: "engine-sizes" | "engine-synced-sizes"): number[] | undefined => {
    const sizes = args[flag];
    if (sizes !== undefined && sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new UsageError(`--${flag} takes positive whole numbers of files, got ${sizes.join(" ")}`);
    }
    return sizes === undefined ? undefined : [...sizes].sort((a, b) => a - b);
  };
  const engineSizes = sizesOf("engine-sizes");
  const maxOldSpace = args["engine-max-old-space"];
  if (maxOldSpace !== undefined && !(Number.isInteger(maxOldSpace) && (maxOldSpace === 0 || maxOldSpace >= 16))) throw new UsageError(`--engine-max-old-space takes a whole number of MiB (at least 16, or 0 for none), got ${maxOldSpace}`);
  const engineSyncedSizes = sizesOf("engine-synced-sizes");
  return {
    quick: args.quick, out: args.out, only: args.only ?? [], logLevel: args["log-level"], emulator: args.emulator, interopResults: args["interop-results"],
    interopPerfResults: args["interop-perf-results"],
    ...(rpoDuration !== undefined ? { rpoDuration } : {}),
    ...(engineSizes !== undefined ? { engineSizes } : {}),
    ...(engineSyncedSizes !== undefined ? { engineSyncedSizes } : {}),
    ...(args["engine-heap-dir"] !== undefined ? { engineHeapDir: args["engine-heap-dir"] } : {}),
    ...(maxOldSpace !== undefined ? { engineMaxOldSpaceMiB: maxOldSpace } : {}),
  };
}

/** Runs the selected benchmarks, prints the table on `stdout`, writes the JSON; returns the exit code. */
export async function runBench(args: BenchArgs, stdout: Writable, logger?: Logger): Promise<{ code: number; run: BenchRun; realStack: RealStackFigures }> {
  const selected = args.only.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => args.only.includes(b.id));
  const log = logger ?? (args.logLevel === "silent" ? silentLogger : createLogger({ level: args.logLevel }));
  const run = await runBenchmarks(selected, {
    profile: withOverrides(args.quick ? QUICK_PROFILE : FULL_PROFILE, args),
    emulator: args.emulator,
    logger: log,
    onResult: (rows) => {
      for (const r of rows) stdout.write(`${r.pass ? "pass" : "FAIL"} ${r.id}${r.error ? `: ${r.error}` : ""}\n`);
    },
  });
  stdout.write(`\n${formatTable(run)}`);
  const realStack = await readRealStackFigures(resolve(args.interopResults));
  stdout.write(formatRealStack(realStack));
  const realStackPerfOnly = await readRealStackFigures(resolve(args.interopPerfResults));
  stdout.write(formatRealStack(realStackPerfOnly));
  const out = resolve(args.out);
  await writeFile(out, resultsDocument(run, { realStack, realStackPerfOnly }));
  stdout.write(`results written to ${out}\n`);
  return { code: run.passed ? 0 : 1, run, realStack };
}

function withOverrides(profile: BenchProfile, args: BenchArgs): BenchProfile {
  const engineScale = {
    ...profile.engineScale,
    ...(args.engineSizes !== undefined ? { sizes: args.engineSizes } : {}),
    ...(args.engineSyncedSizes !== undefined ? { syncedSizes: args.engineSyncedSizes } : {}),
    ...(args.engineHeapDir !== undefined ? { heapSnapshotDir: resolve(args.engineHeapDir) } : {}),
  };
  if (args.engineMaxOldSpaceMiB === 0) delete engineScale.maxOldSpaceMiB;
  else if (args.engineMaxOldSpaceMiB !== undefined) engineScale.maxOldSpaceMiB = args.engineMaxOldSpaceMiB;
  return { ...profile, engineScale, ...(args.rpoDuration === undefined ? {} : { rpo: { ...profile.rpo, durationS: args.rpoDuration } }) };
}

export async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = await parseBenchArgs(argv);
  } catch (err) {
    process.stderr.write(`bench: ${errorMessage(err)}\n`);
    return 2;
  }
  return (await runBench(args, process.stdout)).code;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(hideBin(process.argv)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
