// Running the WebHDFS emulator (named HA clusters plus the admin API) in the
// foreground until a signal aborts: prints the endpoints, writes them as JSON
// to an endpoints file once everything listens (removed again on shutdown).
// Serves the `sandbox` command and the benchmarks' emulator process.

import { once } from "node:events";
import { rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { localFileError, UsageError } from "../util/errors.js";
import { writeLocalFileAtomically } from "../util/local-files.js";
import type { Logger } from "../util/log.js";
import { aborted } from "../util/signals.js";
import { ensureUsableDir } from "../util/state-dir.js";
import { DEFAULT_CLUSTERS, startSandbox, type SandboxEndpoints } from "./emulator/index.js";

export interface SandboxCommandArgs {
  stateDir: string;
  /** Comma-separated cluster names. */
  clusters?: string;
  endpointsFile?: string;
  listBatchSize?: number;
  /** Comma-separated cluster names that start in secure mode (delegation tokens required). */
  secure?: string;
}

export interface SandboxRunContext {
  /** Aborting stops the sandbox and makes runSandboxCommand resolve. */
  signal: AbortSignal;
  stdout?: Writable;
  logger?: Logger;
  /** Called once all servers listen (after the endpoints file is written). */
  onReady?: (endpoints: SandboxEndpoints) => void;
}

export function parseClusterList(text: string | undefined): string[] {
  if (text === undefined) return DEFAULT_CLUSTERS;
  const names = text.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (names.length === 0) throw new UsageError(`--clusters needs at least one name, got "${text}"`);
  return names;
}

/** Writes `value` as JSON to `file` via a temporary file and a rename, so readers never see half a file. */
async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeLocalFileAtomically(file, JSON.stringify(value, null, 2) + "\n");
}

/** Runs the sandbox until `signal` aborts. The endpoints file is removed again on shutdown. */
export async function runSandboxCommand(args: SandboxCommandArgs, context: SandboxRunContext): Promise<void> {
  const stdout = context.stdout ?? process.stdout;
  const clusters = parseClusterList(args.clusters);
  const secure = args.secure !== undefined ? parseClusterList(args.secure) : undefined;
  await ensureUsableDir(args.stateDir, "the state directory");
  const starting = startSandbox({
    stateDir: args.stateDir,
    clusters,
    logger: context.logger,
    listBatchSize: args.listBatchSize,
    ...(secure !== undefined ? { security: { enabled: secure } } : {}),
  }).catch((err: unknown) => {
    throw localFileError("write", args.stateDir, err, "the sandbox could not use its state directory");
  });
  // SIGINT/SIGTERM during start-up stops it too: whatever started is stopped once start-up settles.
  const first = await Promise.race([starting, aborted(context.signal).then(() => null)]);
  if (first === null) {
    void starting.then((s) => s.stop(), () => undefined);
    stdout.write("sandbox start-up interrupted\n");
    return;
  }
  const sandbox = first;
  try {
    if (args.endpointsFile !== undefined) await writeJsonAtomically(args.endpointsFile, sandbox.endpoints);
    stdout.write(`sandbox running (state dir ${args.stateDir}); endpoints:\n${JSON.stringify(sandbox.endpoints, null, 2)}\n`);
    context.onReady?.(sandbox.endpoints);
    if (!context.signal.aborted) await once(context.signal, "abort");
    stdout.write("sandbox stopping\n");
  } finally {
    await sandbox.stop();
    if (args.endpointsFile !== undefined) await rm(args.endpointsFile, { force: true });
  }
}
