// Copying single files source -> target through a bounded queue: p-queue for
// concurrency, a cap on queued tasks, a byte budget for data in flight and the
// shared bandwidth limiter. Each file is streamed (never buffered) so that it
// appears whole (atomic.ts: a hidden temporary renamed into place, or a direct
// write where writes are atomic), its length checked (and optionally its
// checksum) first. A source file that disappears is reported as such.

import { setMaxListeners } from "node:events";
import PQueue from "p-queue";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { CkptError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { isWorthRetrying } from "../storage/errors.js";
import { isMissing, parentOf, type ReadOnlyStorage, type Storage } from "../storage/types.js";
import type { BandwidthLimiter, ByteBudget } from "./bandwidth.js";
import { stageWrite } from "./atomic.js";

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
  maxQueued: number;
  retries: number;
  checksum: boolean;
  logger: Logger;
  /** Called for every chunk written to the target. */
  onBytes?: (n: number) => void;
  onFileDone?: (task: CopyTask, bytes: number) => void;
  retryBaseMs?: number;
}

export class Copier {
  private readonly queue: PQueue;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly knownDirs = new Set<string>();
  private checksumEnabled: boolean;

  constructor(private readonly o: CopierOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency });
    this.checksumEnabled = o.checksum;
  }

  setConcurrency(n: number): void {
    this.queue.concurrency = n;
  }

  setChecksum(enabled: boolean): void {
    this.checksumEnabled = enabled;
  }

  get pending(): number {
    return this.queue.size + this.queue.pending;
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
    await this.queue.onSizeLessThan(this.o.maxQueued);
    signal?.throwIfAborted();
    if (!signal) return this.queue.add(() => this.copyWithRetries(task));
    const whileQueued = new AbortController();
    const onAbort = () => whileQueued.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.queue.add(
        () => {
          signal.removeEventListener("abort", onAbort);
          return this.copyWithRetries(task, signal);
        },
        { signal: whileQueued.signal },
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async onIdle(): Promise<void> {
    await this.queue.onIdle();
  }

  clear(): void {
    this.queue.clear();
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
    const staged = stageWrite(target, task.target);
    const tmp = staged.path;
    let wroteTemp = false;
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
      const throttled = this.o.limiter.stream((n) => {
        copied += n;
        this.o.onBytes?.(n);
      });
      // pipeline() owns both streams' errors: a read that breaks before the target has started consuming
      // (its NameNode step is slow) destroys both with the read's error instead of an unhandled 'error'.
      let readError: unknown;
      const piped = pipeline(input, throttled).catch((err: unknown) => {
        readError = err;
      });
      wroteTemp = true;
      try {
        await target.write(tmp, throttled, {
          overwrite: staged.overwrite,
          ...(task.blockSize ? { blockSize: task.blockSize } : {}),
          ...(task.permission ? { permission: task.permission } : {}),
          ...(task.replication ? { replication: task.replication } : {}),
          ...(signal ? { signal } : {}),
        });
        await piped;
        if (readError !== undefined) throw readError;
      } catch (err) {
        input.destroy();
        throttled.destroy();
        await piped;
        if (isMissing(err)) this.knownDirs.delete(parentOf(task.target)); // the directory went away: recreate it on the retry
        // The read's own failure explains a failed write; a premature close is only the echo of the write
        // failing (or being aborted) first.
        const readFailed = readError !== undefined && (readError as { code?: unknown }).code !== "ERR_STREAM_PREMATURE_CLOSE";
        throw await this.explainReadFailure(task, readFailed && !signal?.aborted ? readError : err);
      }
      const written = await target.stat(tmp, signal ? { signal } : {});
      if (written === null || written.length !== task.length) {
        throw await this.explainReadFailure(
          task,
          new CopyVerificationError(task.target, `wrote ${written?.length ?? "no"} bytes, source had ${task.length}`),
        );
      }
      if (this.checksumEnabled) await this.compareChecksums(task, tmp, signal);
      await staged.commit(task.length, signal ? { signal } : {});
      wroteTemp = false;
      this.o.onFileDone?.(task, copied);
    } finally {
      release();
      if (wroteTemp) await staged.discard();
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
 * Copies all files of one checkpoint through the copier. The first file found gone from the source stops
 * the others (aborted copies remove their temporaries) and is returned; any other failure is thrown.
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
  try {
    const results = await Promise.allSettled(
      tasks.map(async (task) => {
        try {
          await copier.copy(task, controller.signal);
        } catch (err) {
          if (err instanceof SourceVanishedError && !controller.signal.aborted) {
            vanished = err;
            controller.abort(err);
          }
          throw err;
        }
        onCopied(task);
      }),
    );
    if (vanished !== null) return vanished;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    return null;
  } finally {
    signal?.removeEventListener("abort", onOuterAbort);
  }
}
