// The run-wide deletion threshold (reap.maxDelete / --max-delete, rclone's and
// rsync's --max-delete): one allowance per cycle, shared by every job the cycle
// syncs. A count limits the paths deleted on the target by all jobs together; a
// percentage is of the files on the target under the configured roots when the
// cycle began. Each job reserves its whole reap before deleting anything: a reap
// that would take the run past the threshold deletes nothing, and from then on
// no job deletes anything for the rest of the run (copies and publishes go on).

import type { MaxDelete } from "../config/schema.js";
import { CkptError } from "../util/errors.js";
import type { TreeJob, TreeSnapshot } from "./scan.js";

/** The reap would take the run's deletions past reap.maxDelete / --max-delete: it deleted nothing. */
export class ReapAbortedError extends CkptError {
  readonly kind = "reap-aborted";
}

/** Files of a job as a scan lists them: shared and task-owned files, and every entry of its checkpoint directories. */
export function filesOf(job: TreeJob): number {
  return job.sharedFiles.size + job.units.reduce((n, u) => n + u.entries.length, 0);
}

export function filesUnderRoots(target: TreeSnapshot): number {
  let n = 0;
  for (const job of target.jobs.values()) n += filesOf(job);
  return n;
}

export interface DeleteLimitState {
  /** The threshold in paths (null: none configured). */
  max: number | null;
  /** Paths reserved by the reaps that went ahead. */
  used: number;
  /** Set once a reap was refused: which job, and how many it would have deleted. */
  exceeded: { job: string; wouldDelete: number } | null;
}

export class DeleteLimit {
  readonly max: number | null;
  #used = 0;
  #exceeded: { job: string; wouldDelete: number } | null = null;
  readonly #describe: string;

  constructor(limit: MaxDelete | undefined, targetFiles: number) {
    if (limit === undefined) {
      this.max = null;
      this.#describe = "";
    } else if ("count" in limit) {
      this.max = limit.count;
      this.#describe = `${limit.count}`;
    } else {
      this.max = Math.floor((targetFiles * limit.percent) / 100);
      this.#describe = `${limit.percent}% of the ${targetFiles} files on the target = ${this.max}`;
    }
  }

  /**
   * Reserves `paths` deletions for `job`'s reap; throws ReapAbortedError when that would take the run past
   * the threshold, or when an earlier reap of this run already did (nothing is to be deleted then).
   */
  reserve(job: string, paths: number): void {
    if (this.max === null || paths === 0) return;
    if (this.#exceeded !== null) {
      throw new ReapAbortedError(
        `deletions stopped for the rest of this run: job ${this.#exceeded.job} would have taken them past max-delete (${this.#describe}); this reap would delete ${paths} paths: nothing deleted`,
      );
    }
    if (this.#used + paths > this.max) {
      this.#exceeded = { job, wouldDelete: paths };
      const others = this.#used > 0 ? ` (${this.#used} already deleted by other jobs this run)` : "";
      throw new ReapAbortedError(`reap would delete ${paths} paths on the target${others}, more than max-delete allows for the run (${this.#describe}): nothing deleted`);
    }
    this.#used += paths;
  }

  state(): DeleteLimitState {
    return { max: this.max, used: this.#used, exceeded: this.#exceeded };
  }
}
