// Errors of the Flink job simulator: a storage step of a checkpoint that failed
// (with the operation, the path and the checkpoint), and an unusable state of the
// target directory (e.g. a job directory that already holds checkpoints).

import { CkptError, errorMessage } from "../../util/errors.js";

export type SimulatorOperation = "mkdirs" | "write" | "write-metadata" | "delete" | "list";

/** A storage operation of the simulator failed; `cause` is the storage's own typed error. */
export class SimulatorError extends CkptError {
  readonly kind = "simulator";
  constructor(
    readonly jobId: string,
    readonly checkpointId: number | null,
    readonly operation: SimulatorOperation,
    readonly path: string,
    cause: unknown,
  ) {
    const at = checkpointId === null ? `job ${jobId}` : `job ${jobId} checkpoint ${checkpointId}`;
    super(`simulator ${at}: ${operation} ${path} failed: ${errorMessage(cause)}`, { cause });
  }
}

/** The simulator cannot start in the given directory (existing checkpoints of the same job id). */
export class SimulatorConflictError extends CkptError {
  readonly kind = "simulator-conflict";
  constructor(
    readonly jobDir: string,
    readonly existing: string[],
  ) {
    super(
      `job directory ${jobDir} already holds checkpoints (${existing.slice(0, 3).join(", ")}${existing.length > 3 ? ", ..." : ""}); ` +
        "choose another seed or job id, or remove the directory",
    );
  }
}

/** The caller's AbortSignal stopped a checkpoint; what it had written was discarded. */
export class CheckpointAbortedError extends CkptError {
  readonly kind = "simulator-aborted";
  constructor(
    readonly jobId: string,
    readonly checkpointId: number | null,
    reason: unknown,
  ) {
    super(`simulator job ${jobId}: checkpoint ${checkpointId ?? "(not started)"} aborted`, { cause: reason });
  }
}
