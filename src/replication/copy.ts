// Copying single files source -> target through bounded queues: p-queue for
// concurrency, one lane for large files (copy.concurrency) and one for small
// files (copy.smallFiles: many more at once, their cost is round trips, not
// bytes), a cap on queued tasks, a byte budget for data in flight and the
// shared bandwidth limiter, which both lanes share. Within a lane a task's
// priority (its checkpoint's size: smaller first) orders the queue, so one job's
// big backlog does not hold back another job's small fresh checkpoint. Each file
// is streamed (never buffered) so that it appears whole (atomic.ts: a hidden
// temporary renamed into place, or a direct write where writes are atomic), the
// bytes sent counted against the source length (and optionally the checksums
// compared). On HDFS that is, per file, OPEN (NameNode + DataNode) on the source,
// CREATE (NameNode + DataNode) and RENAME on the target. A source file that
// disappears is reported as such.

import { setMaxListeners } from "node:events";
import PQueue from "p-queue";
import type { Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { CkptError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { destroyWith } from "../util/streams.js";
import { isWorthRetrying } from "../storage/errors.js";
import { isMissing, parentOf, type ReadOnlyStorage, type Storage } from "../storage/types.js";
import type { BandwidthLimiter, ByteBudget } from "./bandwidth.js";
import { stageWrite } from "./atomic.js";
import type { LeftBehind } from "./left-behind.js";

export interface CopyTask {
  source: string;
  target: string;
  /** Source length when planned; the copy must end up exactly this long. */
  length: number;
  blockSize?: number;
  /** copy.preserve: the source file's permission and replication factor, given to the target's CREATE. */
  permission?: string;
  replication?: number;
  job: string;
  unit: string;
  /** Higher runs first within its lane (ties in order of arrival); see priorityForCheckpoint(). */
  priority?: number;
}

/**
 * The queue priority of a checkpoint's copies: fewer files to copy runs first, on a log scale so that
 * checkpoints of similar size share the queue in arrival order.
 */
export function priorityForCheckpoint(filesToCopy: number): number {
  return -Math.ceil(Math.log2(filesToCopy + 1));
}

export class SourceVanishedError extends CkptError {
  readonly kind = "source-vanished";
  constructor(
    readonly path: string,
    cause?: unknown,
  ) {
    super(`source file ${path} disappeared during the copy`, { cause });
  }
}

export class CopyVerificationError extends CkptError {
  readonly kind = "copy-verify";
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`copy of ${path} failed verification: ${problem}`);
  }
}

export interface CopierOptions {
  source: ReadOnlyStorage;
  target: Storage;
  limiter: BandwidthLimiter;
  budget: ByteBudget;
  concurrency: number;
  /** Files up to `maxSize` bytes go through their own lane of `concurrency` transfers (absent: one lane for all). */
  smallFiles?: { maxSize: number; concurrency: number };
  maxQueued: number;
  retries: number;
  checksum: boolean;
  logger: Logger;
  /** Where the temporary of a copy that did not finish is recorded when its removal fails too. */
  leftBehind?: LeftBehind;
  /** Called for every chunk written to the target. */
  onBytes?: (n: number) => void;
  onFileDone?: (task: CopyTask, bytes: number) => void;
  retryBaseMs?: number;
}

export class Copier {
  private readonly large: PQueue;
  private readonly small: PQueue;
  private smallMaxSize: number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly knownDirs = new Set<string>();
  private checksumEnabled: boolean;

  constructor(private readonly o: CopierOptions) {
    this.large = new PQueue({ concurrency: o.concurrency });
    this.small = new PQueue({ concurrency: o.smallFiles?.concurrency ?? 1 });
    this.smallMaxSize = o.smallFiles?.maxSize ?? -1;
    this.checksumEnabled = o.checksum;
  }

  setConcurrency(n: number, smallFiles?: { maxSize: number; concurrency: number }): void {
    this.large.concurrency = n;
    if (smallFiles) {
      this.small.concurrency = smallFiles.concurrency;
      this.smallMaxSize = smallFiles.maxSize;
    }
  }

  setChecksum(enabled: boolean): void {
    this.checksumEnabled = enabled;
  }

  /**
   * Copies one checkpoint hands over at once (copyCheckpointFiles): enough to keep both lanes busy and the
   * queue ordered by priority, while a checkpoint of any size holds only this many tasks in memory.
   */
  get checkpointWindow(): number {
    return 2 * (this.large.concurrency + this.small.concurrency);
  }

  get pending(): number {
    return this.large.size + this.large.pending + this.small.size + this.small.pending;
  }

  /** Copies one file; waits for room in the queue first. Concurrent requests for one target share the work. */
  async copy(task: CopyTask, signal?: AbortSignal): Promise<void> {
    const existing = this.inFlight.get(task.target);
    if (existing) return existing;
    // Registered before the first await, so a concurrent request for the same target finds it.
    const work = this.enqueue(task, signal).finally(() => this.inFlight.delete(task.target));
    this.inFlight.set(task.target, work);
    return work;
  }

  /**
   * The signal drops a copy still waiting in the queue at once. A running copy handles the abort itself, so
   * it settles only after removing its temporary (p-queue would settle it at once and leave the cleanup behind).
   */
  private async enqueue(task: CopyTask, signal?: AbortSignal): Promise<void> {
    const queue = task.length <= this.smallMaxSize ? this.small : this.large;
    await queue.onSizeLessThan(this.o.maxQueued);
    signal?.throwIfAborted();
    const priority = task.priority ?? 0;
    if (!signal) return queue.add(() => this.copyWithRetries(task), { priority });
    const whileQueued = new AbortController();
    const onAbort = () => whileQueued.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await queue.add(
        () => {
          signal.removeEventListener("abort", onAbort);
          return this.copyWithRetries(task, signal);
        },
        { signal: whileQueued.signal, priority },
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async onIdle(): Promise<void> {
    await Promise.all([this.large.onIdle(), this.small.onIdle()]);
  }

  clear(): void {
    this.large.clear();
    this.small.clear();
  }

  private async copyWithRetries(task: CopyTask, signal?: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        await this.copyOnce(task, signal);
        return;
      } catch (err) {
        if (!isRetriableCopyError(err) || attempt >= this.o.retries || signal?.aborted) throw err;
        const delay = Math.min(10_000, (this.o.retryBaseMs ?? 200) * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.o.logger.debug({ job: task.job, checkpoint: task.unit, path: task.source, attempt: attempt + 1, err: errorMessage(err) }, "copy failed, retrying");
        await sleep(delay, undefined, signal ? { signal } : {});
      }
    }
  }

  private async ensureDir(dir: string, signal?: AbortSignal): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await this.o.target.mkdirs(dir, signal ? { signal } : {});
    if (this.knownDirs.size >= 10_000) this.knownDirs.clear(); // bounded: one entry per checkpoint directory
    this.knownDirs.add(dir);
  }

  private async copyOnce(task: CopyTask, signal?: AbortSignal): Promise<void> {
    const { source, target } = this.o;
    const release = await this.o.budget.acquire(task.length);
    const staged = stageWrite(target, task.target, {
      ...(this.o.leftBehind ? { leftBehind: this.o.leftBehind } : {}),
      owner: { job: task.job, checkpoint: task.unit },
    });
    const tmp = staged.path;
    let wroteTemp = false;
    let writeFailure: unknown; // the target's own error, before it is explained as the read's or a vanished source's
    try {
      await this.ensureDir(parentOf(task.target), signal);
      let input: Readable;
      try {
        // Exactly the planned length: a file-merging physical file may grow after the plan was made.
        input = await source.read(task.source, { length: task.length, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (isMissing(err)) throw new SourceVanishedError(task.source, err);
        throw err;
      }
      let copied = 0;
      const count = (n: number) => {
        copied += n;
        this.o.onBytes?.(n);
      };
      // Without a bandwidth limit a small file goes from the source's stream straight into the upload,
      // counted as it leaves the source; otherwise through the limiter's stream. A large copy always takes
      // the limiter's stream: a limit set at runtime then applies to it too (a small one is over soon).
      const direct = this.o.limiter.rate <= 0 && task.length <= this.smallMaxSize;
      const throttled = direct ? null : this.o.limiter.stream(count);
      // The read's own error is kept: it explains a failed write better than the write's echo of it.
      let readError: unknown;
      let piped: Promise<void>;
      if (throttled === null) {
        input.pause(); // counting must not start the flow before the upload consumes it
        input.on("data", (chunk: Buffer) => count(chunk.length));
        piped = finished(input).catch((err: unknown) => {
          readError = err;
        });
      } else {
        // pipeline() owns both streams' errors: a read that breaks before the target has started consuming
        // (its NameNode step is slow) destroys both with the read's error instead of an unhandled 'error'.
        piped = pipeline(input, throttled).catch((err: unknown) => {
          readError = err;
        });
      }
      wroteTemp = true;
      try {
        await target.write(tmp, throttled ?? input, {
          overwrite: staged.overwrite,
          ...(task.blockSize ? { blockSize: task.blockSize } : {}),
          ...(task.permission ? { permission: task.permission } : {}),
          ...(task.replication ? { replication: task.replication } : {}),
          ...(signal ? { signal } : {}),
        });
        await piped;
        if (readError !== undefined) throw readError;
      } catch (err) {
        writeFailure = err;
        // Destroyed with the write's failure: a read that has the whole file but had not handed it on yet
        // (the upload never started) would otherwise leave `piped` unsettled for good (util/streams.ts).
        const echo = destroyWith(err, input, throttled);
        await piped;
        if (isMissing(err)) this.knownDirs.delete(parentOf(task.target)); // the directory went away: recreate it on the retry
        // The read's own failure explains a failed write; a premature close, or the write's failure passed
        // on by the destroy above, is only the echo of the write failing (or being aborted) first.
        const readFailed = readError !== undefined && readError !== echo && (readError as { code?: unknown }).code !== "ERR_STREAM_PREMATURE_CLOSE";
        throw await this.explainReadFailure(task, readFailed && !signal?.aborted ? readError : err);
      }
      // The target acknowledged the whole upload (the DataNode closed the file), so what it holds is what was
      // sent: count it instead of asking the NameNode per file. The closure's lengths are checked again on
      // the target, from directory listings, before its _metadata is published (publish.ts).
      if (copied !== task.length) {
        throw await this.explainReadFailure(task, new CopyVerificationError(task.target, `wrote ${copied} bytes, source had ${task.length}`));
      }
      if (this.checksumEnabled) await this.compareChecksums(task, tmp, signal);
      await staged.commit(task.length, signal ? { signal } : {});
      wroteTemp = false;
      this.o.onFileDone?.(task, copied);
    } finally {
      release();
      // A failed removal (or a write cut off before the target answered) is recorded in leftBehind by the staging.
      if (wroteTemp) await staged.discard(writeFailure);
    }
  }

  /** A failed transfer whose source is gone is a vanished source, not an error of the copy. */
  private async explainReadFailure(task: CopyTask, err: unknown): Promise<unknown> {
    if (err instanceof SourceVanishedError) return err;
    try {
      const st = await this.o.source.stat(task.source);
      if (st === null) return new SourceVanishedError(task.source, err);
      if (st.length < task.length) return new SourceVanishedError(task.source, err); // shrunk: replaced or truncated
    } catch {
      // keep the original error
    }
    return err;
  }

  private async compareChecksums(task: CopyTask, tmp: string, signal?: AbortSignal): Promise<void> {
    const o = signal ? { signal } : {};
    const [a, b] = await Promise.all([this.o.source.checksum(task.source, o), this.o.target.checksum(tmp, o)]);
    if (a === null || b === null) return;
    if (a.split(":")[0] !== b.split(":")[0]) return; // different algorithms are not comparable
    if (a !== b) throw new CopyVerificationError(task.target, `checksum ${b} differs from the source's ${a}`);
  }
}

function isRetriableCopyError(err: unknown): boolean {
  if (err instanceof SourceVanishedError) return false;
  if (err instanceof Error && (err.name === "AbortError" || (err as { code?: string }).code === "ABORT_ERR")) return false;
  return isWorthRetrying(err);
}

/**
 * Copies all files of one checkpoint through the copier, at most `copier.checkpointWindow` of them handed to
 * it at once: memory follows the copies in flight, not the checkpoint's size (nor, over many jobs, the
 * tree's). The first file found gone from the source stops the others (aborted copies remove their
 * temporaries) and is returned; otherwise the other files go on and the first failure is thrown at the end.
 */
export async function copyCheckpointFiles(
  copier: Copier,
  tasks: CopyTask[],
  signal: AbortSignal | undefined,
  onCopied: (task: CopyTask) => void,
): Promise<SourceVanishedError | null> {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per queued file
  const onOuterAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onOuterAbort, { once: true });
  let vanished: SourceVanishedError | null = null;
  let failure: { err: unknown } | null = null;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !controller.signal.aborted) {
      const task = tasks[next++] as CopyTask;
      try {
        await copier.copy(task, controller.signal);
        onCopied(task);
      } catch (err) {
        if (err instanceof SourceVanishedError && !controller.signal.aborted) {
          vanished = err;
          controller.abort(err);
        } else {
          failure ??= { err };
        }
      }
    }
  };
  try {
    if (signal?.aborted) controller.abort(signal.reason);
    await Promise.all(Array.from({ length: Math.min(tasks.length, copier.checkpointWindow) }, worker));
    if (vanished !== null) return vanished;
    if (failure !== null) throw (failure as { err: unknown }).err;
    if (controller.signal.aborted && next < tasks.length) throw controller.signal.reason;
    return null;
  } finally {
    signal?.removeEventListener("abort", onOuterAbort);
  }
}
