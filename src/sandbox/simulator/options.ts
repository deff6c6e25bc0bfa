// The simulator's knobs, their defaults and validation (UsageError for values a
// real job could not have). resolveOptions() turns user options into the fully
// defaulted settings every other simulator module works with.

import type { Storage } from "../../storage/types.js";
import { UsageError } from "../../util/errors.js";
import { silentLogger, type Logger } from "../../util/log.js";
import type { CheckpointEvent, RetainedCheckpoint, SubsumedEvent } from "./events.js";
import { SeededRandom } from "./random.js";

export type PathStyle = "relative" | "absolute";

export interface SimulatorOptions {
  /** Where the job writes (LocalStorage, WebHdfsStorage, ...). */
  storage: Storage;
  /** Scheme and authority put before storage paths in `_metadata`, e.g. "hdfs://hdfs1" or "file:". */
  fsUri: string;
  /** Checkpoint base directory on the storage (Flink's state.checkpoints.dir path), e.g. "/flink/checkpoints". */
  root: string;
  /** 32 lowercase hex digits; derived from the seed when absent. */
  jobId?: string;
  /** Time between checkpoint starts in run() (default 1000 ms). */
  intervalMs?: number;
  /** Number of operators (default 2). Every operator has RocksDB incremental keyed state; operator 0 is the source. */
  operators?: number;
  /** Parallelism of every operator (default 2). */
  parallelism?: number;
  /** Key groups (default: Flink's default for the parallelism, at least 128). */
  maxParallelism?: number;
  /** Approximate bytes of new SST files per checkpoint over all subtasks (default 1 MiB). */
  stateSizeBytes?: number;
  /** Sigma of the log-normal file size distribution (default 0.5; 0 = every file of a kind has the same size). */
  fileSizeSpread?: number;
  /** New shared SST files per subtask per checkpoint (default 2). */
  newSharedFilesPerSubtask?: number;
  /** Fraction of the previous checkpoint's SST files a subtask keeps referencing, 0..1 (default 0.7). */
  sharedReuseFraction?: number;
  /** Completed checkpoints kept; older ones are subsumed (default 2). */
  retained?: number;
  /** Checkpoints run() takes when it gets no count (default: until its signal aborts). */
  checkpoints?: number;
  /** `_metadata` format version, 3..7 (default 4 = Flink 1.16-1.20). */
  formatVersion?: number;
  /** How exclusive files (in chk-<n>) are referenced (default "relative", Flink >= 1.11 without entropy injection). */
  paths?: PathStyle;
  /** Unaligned checkpoints: one channel-state file per subtask (default false). */
  channelState?: boolean;
  /** File merging: a subtask's exclusive keyed files become segments of one file under taskowned/ (default false). */
  taskOwnedState?: boolean;
  /** Store state smaller than inlineThresholdBytes inside `_metadata` (default true). */
  inlineState?: boolean;
  /** Inline threshold (default 1024 bytes; Flink's own default is 20 KiB). */
  inlineThresholdBytes?: number;
  /** Files written at the same time (default 4). */
  writeConcurrency?: number;
  /** Seed of every id, name, size and byte (default 1). */
  seed?: number;
  logger?: Logger;
  onCheckpoint?: (e: CheckpointEvent) => void;
  onSubsumed?: (e: SubsumedEvent) => void;
  /**
   * Ground truth for independent checkers: called with every checkpoint (its `_metadata` hash and every file
   * it references) before any of its files is written, so it is known even when writing it fails half-way.
   */
  onPlanned?: (c: RetainedCheckpoint & { jobId: string }) => void;
}

export interface ResolvedOptions {
  storage: Storage;
  fsUri: string;
  root: string;
  jobId: string;
  intervalMs: number;
  operators: number;
  parallelism: number;
  maxParallelism: number;
  stateSizeBytes: number;
  fileSizeSpread: number;
  newSharedFilesPerSubtask: number;
  sharedReuseFraction: number;
  retained: number;
  checkpoints: number | undefined;
  formatVersion: number;
  paths: PathStyle;
  channelState: boolean;
  taskOwnedState: boolean;
  inlineState: boolean;
  inlineThresholdBytes: number;
  writeConcurrency: number;
  seed: number;
  logger: Logger;
  onCheckpoint: ((e: CheckpointEvent) => void) | undefined;
  onSubsumed: ((e: SubsumedEvent) => void) | undefined;
  onPlanned: ((c: RetainedCheckpoint & { jobId: string }) => void) | undefined;
}

export const SUPPORTED_FORMAT_VERSIONS = [3, 4, 5, 6, 7] as const;
const JOB_ID = /^[0-9a-f]{32}$/;
const FS_URI = /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/[^/]*)?$/;

/** Flink's default max parallelism: 1.5 x parallelism rounded up to a power of two, within [128, 32768]. */
export function defaultMaxParallelism(parallelism: number): number {
  let p = 1;
  while (p < parallelism + Math.floor(parallelism / 2)) p *= 2;
  return Math.min(Math.max(p, 128), 32768);
}

/** The job id a seed gives when none is configured. */
export function jobIdForSeed(seed: number): string {
  return SeededRandom.derive(seed, "job-id").hex(32);
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`simulator: ${name} must be an integer from ${min} to ${max}, not ${v}`);
  return v;
}

function fraction(name: string, value: number | undefined, fallback: number, max = 1): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new UsageError(`simulator: ${name} must be a number from 0 to ${max}, not ${v}`);
  return v;
}

export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  if (!FS_URI.test(o.fsUri)) throw new UsageError(`simulator: fsUri must be a scheme with an optional authority ("hdfs://nn1", "file:"), not "${o.fsUri}"`);
  if (!o.root.startsWith("/")) throw new UsageError(`simulator: root must be an absolute path, not "${o.root}"`);
  const root = o.root.length > 1 ? o.root.replace(/\/+$/, "") : o.root;
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new UsageError(`simulator: seed must be an integer, not ${seed}`);
  const jobId = o.jobId ?? jobIdForSeed(seed);
  if (!JOB_ID.test(jobId)) throw new UsageError(`simulator: job id must be 32 lowercase hex digits, not "${jobId}"`);
  const formatVersion = integer("formatVersion", o.formatVersion, 4, 3, 7);
  const parallelism = integer("parallelism", o.parallelism, 2, 1, 32768);
  const maxParallelism = integer("maxParallelism", o.maxParallelism, defaultMaxParallelism(parallelism), parallelism, 32768);
  const paths = o.paths ?? "relative";
  if (paths !== "relative" && paths !== "absolute") throw new UsageError(`simulator: paths must be "relative" or "absolute", not "${String(paths)}"`);
  return {
    storage: o.storage,
    fsUri: o.fsUri,
    root,
    jobId,
    intervalMs: fraction("intervalMs", o.intervalMs, 1000, Number.MAX_SAFE_INTEGER),
    operators: integer("operators", o.operators, 2, 1, 1000),
    parallelism,
    maxParallelism,
    stateSizeBytes: integer("stateSizeBytes", o.stateSizeBytes, 1024 * 1024, 0),
    fileSizeSpread: fraction("fileSizeSpread", o.fileSizeSpread, 0.5, 3),
    newSharedFilesPerSubtask: integer("newSharedFilesPerSubtask", o.newSharedFilesPerSubtask, 2, 0, 10000),
    sharedReuseFraction: fraction("sharedReuseFraction", o.sharedReuseFraction, 0.7),
    retained: integer("retained", o.retained, 2, 1),
    checkpoints: o.checkpoints === undefined ? undefined : integer("checkpoints", o.checkpoints, 0, 0),
    formatVersion,
    paths,
    channelState: o.channelState ?? false,
    taskOwnedState: o.taskOwnedState ?? false,
    inlineState: o.inlineState ?? true,
    inlineThresholdBytes: integer("inlineThresholdBytes", o.inlineThresholdBytes, 1024, 0),
    writeConcurrency: integer("writeConcurrency", o.writeConcurrency, 4, 1, 256),
    seed,
    logger: o.logger ?? silentLogger,
    onCheckpoint: o.onCheckpoint,
    onSubsumed: o.onSubsumed,
    onPlanned: o.onPlanned,
  };
}
