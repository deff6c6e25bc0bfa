// Turns that bound how much of the tree the engine holds at once across jobs.
// A job's sync lists its target directory afresh and re-verifies what is
// published there (one record per file of the job); planning a checkpoint holds
// one record per file of its closure and copying it a queue window of its tasks.
// When every job does that at the same moment (a first sync, a start-up, every
// warm cycle), memory follows the tree, not the work in flight. So:
// - verification turns: at most VERIFY_SLOTS jobs list and re-verify their
//   target at once (short, no copies; a job that has nothing to publish also
//   reaps in its turn);
// - large-checkpoint turns: a checkpoint lacking more than LARGE_CHECKPOINT_FILES
//   files on the target, or with a closure of more than LARGE_CLOSURE_FILES, is
//   planned, copied and published in its turn, one at a time engine-wide. One
//   checkpoint's window already keeps both copy lanes busy
//   (Copier.checkpointWindow), so taking turns does not slow the copy; a
//   checkpoint with few files (a job's fresh incremental one) never waits for a
//   turn, so a huge backlog does not hold it back.

import PQueue from "p-queue";

/** A checkpoint lacking more files than this on the target takes a large turn (the listings' estimate). */
export const LARGE_CHECKPOINT_FILES = 1_000;
/** A checkpoint whose closure has more files than this takes a large turn even when none is missing (its plan is that big). */
export const LARGE_CLOSURE_FILES = 5_000;
/** Large checkpoints planned and copied at once, engine-wide. */
export const LARGE_CHECKPOINT_SLOTS = 1;
/** Jobs listing and re-verifying their target at once, engine-wide. */
export const VERIFY_SLOTS = 4;

export class Turns {
  private readonly queue: PQueue;

  constructor(slots: number) {
    this.queue = new PQueue({ concurrency: slots });
  }

  /** Turns taken (at most the slots) and waiting. */
  get running(): number {
    return this.queue.pending;
  }

  get waiting(): number {
    return this.queue.size;
  }

  /** Runs `work` in its turn, in order of arrival. The signal drops work still waiting (the promise rejects with its reason). */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.queue.add(work, signal ? { signal } : {});
  }

  /** Waits for a turn and holds it until the returned function is called. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await new Promise<void>((entered, failed) => {
      this.queue.add(() => (entered(), held), signal ? { signal } : {}).catch(failed);
    });
    return release;
  }
}

export class LargeCheckpointTurns extends Turns {
  constructor(
    slots = LARGE_CHECKPOINT_SLOTS,
    readonly threshold = LARGE_CHECKPOINT_FILES,
    readonly closureThreshold = LARGE_CLOSURE_FILES,
  ) {
    super(slots);
  }

  /** True when a checkpoint lacking `filesToCopy` files, of a closure of `closureFiles`, takes a turn. */
  isLarge(filesToCopy: number, closureFiles = 0): boolean {
    return filesToCopy > this.threshold || closureFiles > this.closureThreshold;
  }
}
