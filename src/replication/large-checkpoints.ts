// How many large checkpoints the engine plans and copies at the same time,
// across all jobs. Planning a checkpoint holds one record per file of its
// closure and copying it a queue window of its tasks; when every job of a first
// sync (or of a big catch-up) does that at once, memory follows the tree, not
// the work in flight. One checkpoint's window already keeps both copy lanes
// busy (Copier.checkpointWindow), so large checkpoints take turns without
// slowing the copy; a checkpoint with few files to copy (a job's fresh
// incremental one) never waits for a turn, so a huge backlog does not hold it back.

import PQueue from "p-queue";

/** A checkpoint lacking more files than this on the target takes a turn (the listings' estimate). */
export const LARGE_CHECKPOINT_FILES = 1_000;
/** Large checkpoints planned and copied at once, engine-wide. */
export const LARGE_CHECKPOINT_SLOTS = 1;

export class LargeCheckpointTurns {
  private readonly queue: PQueue;

  constructor(
    slots = LARGE_CHECKPOINT_SLOTS,
    readonly threshold = LARGE_CHECKPOINT_FILES,
  ) {
    this.queue = new PQueue({ concurrency: slots });
  }

  /** Large checkpoints running (at most the slots) and waiting for a turn. */
  get running(): number {
    return this.queue.pending;
  }

  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Runs `work` for a checkpoint lacking `filesToCopy` files: at once when it is small, else in its turn,
   * in order of arrival. The signal drops a checkpoint still waiting (the promise rejects with its reason).
   */
  async run<T>(filesToCopy: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (filesToCopy <= this.threshold) return work();
    return this.queue.add(work, signal ? { signal } : {});
  }
}
