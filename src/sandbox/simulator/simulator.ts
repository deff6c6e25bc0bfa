// FlinkJobSimulator: checkpoints like a Flink job with RocksDB incremental state
// into any Storage. Per checkpoint it writes the state files (streamed from the
// seeded generator), then `_metadata` in place, then subsumes checkpoints beyond
// the retained count. A checkpoint that fails or is aborted is cleaned up and
// never becomes retained; the next one gets the next id, as in Flink.

import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import PQueue from "p-queue";
import { buildCheckpointMetadata, serializeMetadata } from "../../flink/index.js";
import { parentOf } from "../../storage/types.js";
import { errorMessage, UsageError } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import { discardCheckpoint, planDiscard } from "./discard.js";
import { CheckpointAbortedError, SimulatorConflictError, SimulatorError, type SimulatorOperation } from "./errors.js";
import type { CheckpointEvent, RetainedCheckpoint, SubsumedEvent } from "./events.js";
import { JobLayout } from "./layout.js";
import { resolveOptions, type ResolvedOptions, type SimulatorOptions } from "./options.js";
import { planCheckpoint, type BackendStates, type CheckpointPlan } from "./plan.js";
import { STATE_CHUNK_BYTES, stateBytesStream } from "./state-bytes.js";

export class FlinkJobSimulator {
  readonly jobId: string;
  readonly layout: JobLayout;
  readonly #o: ResolvedOptions;
  readonly #logger: Logger;
  #backends: BackendStates = new Map();
  #retained: RetainedCheckpoint[] = [];
  #nextCheckpointId = 1;
  #prepared = false;
  #busy = false;

  constructor(o: SimulatorOptions) {
    this.#o = resolveOptions(o);
    this.jobId = this.#o.jobId;
    this.layout = new JobLayout(this.#o.fsUri, this.#o.root, this.jobId);
    this.#logger = this.#o.logger.child({ component: "simulator", jobId: this.jobId });
  }

  /** `<root>/<job-id>` on the storage. */
  get jobDir(): string {
    return this.layout.jobDir;
  }

  /** Retained checkpoints, oldest first, with every state file each references. */
  retained(): RetainedCheckpoint[] {
    return this.#retained.map((c) => ({ ...c, files: c.files.map((f) => ({ ...f })) }));
  }

  /**
   * Writes one checkpoint (state files, then `_metadata`), then subsumes checkpoints beyond the retained count.
   * Rejects with SimulatorError when a storage step fails and CheckpointAbortedError when `signal` aborts;
   * either way the checkpoint's files are removed again and it is not retained.
   */
  async checkpointOnce(signal?: AbortSignal): Promise<CheckpointEvent> {
    if (this.#busy) throw new UsageError("simulator: checkpointOnce() called while a checkpoint is in progress");
    this.#busy = true;
    try {
      if (signal?.aborted) throw new CheckpointAbortedError(this.jobId, null, signal.reason);
      await this.#prepare(signal);
      const id = this.#nextCheckpointId++;
      const started = performance.now();
      const plan = planCheckpoint(this.#o, this.layout, id, this.#backends);
      const metadata = serializeMetadata(buildCheckpointMetadata(plan.spec));
      const planned: RetainedCheckpoint = {
        id,
        dir: plan.dir,
        metadataPath: plan.metadataPath,
        metadataSize: metadata.length,
        metadataSha256: createHash("sha256").update(metadata).digest("hex"),
        files: plan.references,
      };
      this.#o.onPlanned?.({ jobId: this.jobId, ...planned, files: planned.files.map((f) => ({ ...f })) });
      try {
        await this.#writeCheckpoint(plan, metadata, signal);
      } catch (err) {
        await this.#abandon(plan, err, signal?.aborted ?? false);
        throw signal?.aborted ? new CheckpointAbortedError(this.jobId, id, signal.reason) : err;
      }
      this.#backends = plan.backends;
      this.#retained.push(planned);
      const event: CheckpointEvent = {
        jobId: this.jobId,
        checkpointId: id,
        dir: plan.dir,
        metadataPath: plan.metadataPath,
        metadataBytes: metadata.length,
        files: plan.references.length,
        bytes: plan.references.reduce((n, f) => n + f.size, 0),
        newFiles: plan.writes.length,
        newBytes: plan.writes.reduce((n, f) => n + f.size, 0),
        durationMs: Math.round(performance.now() - started),
      };
      const { jobId: _jobId, ...fields } = event;
      this.#logger.info(fields, "checkpoint completed");
      this.#o.onCheckpoint?.(event);
      await this.#subsume();
      return event;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Takes `count` checkpoints (default: the `checkpoints` option, else until `signal` aborts),
   * starting one every intervalMs; the first starts at once. Resolves normally when aborted.
   */
  async run(o: { count?: number; signal?: AbortSignal } = {}): Promise<void> {
    const count = o.count ?? this.#o.checkpoints;
    const signal = o.signal;
    let lastStart = 0;
    for (let taken = 0; count === undefined || taken < count; taken++) {
      if (signal?.aborted) return;
      if (taken > 0) {
        const wait = lastStart + this.#o.intervalMs - performance.now();
        if (wait > 0) {
          try {
            await sleep(wait, undefined, signal ? { signal } : {});
          } catch (err) {
            if (signal?.aborted) return;
            throw err;
          }
        }
      }
      lastStart = performance.now();
      try {
        await this.checkpointOnce(signal);
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
    }
  }

  /** First checkpoint only: refuse a job directory with checkpoints in it, create shared/ and taskowned/. */
  async #prepare(signal: AbortSignal | undefined): Promise<void> {
    if (this.#prepared) return;
    const { storage } = this.#o;
    const entries = await this.#step("list", this.layout.jobDir, null, () => storage.list(this.layout.jobDir, { signal }));
    const existing = (entries ?? []).filter((e) => e.type === "dir" && /^chk-\d+$/.test(e.name)).map((e) => e.name);
    if (existing.length > 0) throw new SimulatorConflictError(this.layout.jobDir, existing);
    for (const dir of [this.layout.sharedDir, this.layout.taskOwnedDir]) {
      await this.#step("mkdirs", dir, null, () => storage.mkdirs(dir, { signal }));
    }
    this.#prepared = true;
  }

  async #writeCheckpoint(plan: CheckpointPlan, metadata: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    const { storage } = this.#o;
    const id = plan.checkpointId;
    const dirs = new Set([plan.dir, ...plan.writes.map((w) => parentOf(w.path))]);
    for (const dir of dirs) await this.#step("mkdirs", dir, id, () => storage.mkdirs(dir, { signal }));
    const queue = new PQueue({ concurrency: this.#o.writeConcurrency });
    const controller = new AbortController();
    const writeSignal = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
    setMaxListeners(0, writeSignal); // every write in flight (writeConcurrency of them) listens to it
    try {
      await queue.addAll(
        plan.writes.map((w) => async () => {
          writeSignal.throwIfAborted();
          return await this.#step("write", w.path, id, () => storage.write(w.path, stateBytesStream(w.contentKey, w.size), { signal: writeSignal }));
        }),
      );
    } catch (err) {
      controller.abort(err);
      queue.clear();
      await queue.onIdle();
      throw err;
    }
    await this.#step("write-metadata", plan.metadataPath, id, () => storage.write(plan.metadataPath, chunked(metadata), signal ? { signal } : {}));
  }

  /** A failed or aborted checkpoint: remove what it wrote (its new shared files and its directory). */
  async #abandon(plan: CheckpointPlan, cause: unknown, aborted = false): Promise<void> {
    if (aborted) this.#logger.info({ checkpointId: plan.checkpointId }, "checkpoint aborted; discarding its files");
    else this.#logger.warn({ checkpointId: plan.checkpointId, err: errorMessage(cause) }, "checkpoint failed; discarding its files");
    const { storage } = this.#o;
    for (const w of plan.writes.filter((f) => f.shared)) {
      await storage.delete(w.path).catch((err: unknown) => this.#logger.warn({ path: w.path, err: errorMessage(err) }, "cleanup failed"));
    }
    await storage.delete(plan.dir, { recursive: true }).catch((err: unknown) => this.#logger.warn({ path: plan.dir, err: errorMessage(err) }, "cleanup failed"));
  }

  async #subsume(): Promise<void> {
    while (this.#retained.length > this.#o.retained) {
      const victim = this.#retained.shift()!;
      const result = await discardCheckpoint(this.#o.storage, planDiscard(victim, this.#retained), this.#o.writeConcurrency, this.#logger);
      const event: SubsumedEvent = { jobId: this.jobId, checkpointId: victim.id, dir: victim.dir, ...result };
      const { jobId: _jobId, ...fields } = event;
      this.#logger.info(fields, "checkpoint subsumed");
      this.#o.onSubsumed?.(event);
    }
  }

  async #step<T>(operation: SimulatorOperation, path: string, checkpointId: number | null, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new SimulatorError(this.jobId, checkpointId, operation, path, err);
    }
  }
}

/** `_metadata` bytes as a stream of bounded chunks, so it is created and streamed in place like Flink does. */
function chunked(bytes: Uint8Array): Readable {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= view.length) {
        this.push(null);
        return;
      }
      this.push(view.subarray(offset, offset + STATE_CHUNK_BYTES));
      offset += STATE_CHUNK_BYTES;
    },
  });
}
