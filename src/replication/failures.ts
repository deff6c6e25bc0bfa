// The typed failures of the operator operations (verify, latest, resync, the
// probes of the configured roots): a root or job that does not exist, a side
// that cannot be read, a job with nothing restorable, a run stopped at
// --max-delete, partly failed or interrupted. The CLI maps each class to its
// exit code (cli/exit-codes.ts); nothing here knows exit codes.

import { CkptError } from "../util/errors.js";

export type Side = "source" | "target";

/** A configured root that does not exist on its cluster. */
export class RootNotFoundError extends CkptError {
  readonly kind = "root-not-found";
  constructor(
    readonly side: Side,
    readonly cluster: string,
    readonly root: string,
    hint = "",
  ) {
    super(`the ${side} root ${root} does not exist on ${cluster}${hint ? ` (${hint})` : ""}`);
  }
}

/** A job named on the command line that no configured root holds. */
export class JobNotFoundError extends CkptError {
  readonly kind = "job-not-found";
  constructor(
    readonly job: string,
    readonly where: string,
    readonly known: string[],
  ) {
    super(
      `no job ${job} under ${where}` +
        (known.length === 0 ? " (no jobs there at all)" : `; jobs there: ${known.slice(0, 10).map(displayJob).join(", ")}${known.length > 10 ? `, ... ${known.length - 10} more` : ""}`),
    );
  }
}

/** A side that cannot be listed: every NameNode unreachable, a DataNode given as NameNode, permission denied. */
export class SideUnreachableError extends CkptError {
  readonly kind = "side-unreachable";
  constructor(
    readonly side: Side,
    readonly cluster: string,
    readonly root: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the ${side} ${cluster} (${root}): ${detail}`, options);
  }
}

/** Jobs that have no restorable checkpoint on the target although something should be there. */
export class NothingRestorableError extends CkptError {
  readonly kind = "nothing-restorable";
  constructor(
    readonly jobs: string[],
    detail: string,
  ) {
    super(detail);
  }
}

/** The run's deletions would have exceeded --max-delete: they stopped there (details in the summary). */
export class MaxDeleteExceededError extends CkptError {
  readonly kind = "max-delete-exceeded";
}

/** A run that did part of its work: some jobs failed or stayed behind (details in the summary). */
export class PartialFailureError extends CkptError {
  readonly kind = "partial-failure";
}

/**
 * A one-shot run (resync) stopped by SIGINT or SIGTERM: it started no new copy, aborted those in flight
 * (their temporaries removed), published nothing partial and released the lease. Exits 128 + the signal.
 */
export class InterruptedError extends CkptError {
  readonly kind = "interrupted";
  constructor(
    readonly signal: "SIGINT" | "SIGTERM",
    detail: string,
  ) {
    super(detail);
  }
}

/** "(root savepoints)" for the pseudo-job of savepoints directly under a root. */
export function displayJob(job: string): string {
  return job === "" ? "(root savepoints)" : job;
}
