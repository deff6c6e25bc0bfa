// Temporaries this process named and could not remove: an aborted or failed
// staged write (a copied file, the published _metadata, a replication record, a
// lease renewal) whose hidden temporary's delete failed too, or whose write was
// cut off before the storage answered (it may create the temporary after the
// delete, so the delete proves nothing yet). One tracker per
// engine: every staged write reports into it, the engine's stop tries each once
// more, and what is still there is what the stop says it left. Remembered up to
// a bound (beyond it, only counted). The one function here that removes a
// temporary is the one every discard uses.

import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { Storage } from "../storage/types.js";

/** How many temporaries left behind a tracker remembers by name (beyond that it only counts them). */
export const LEFT_BEHIND_KEPT = 1000;

type TemporaryStorage = Pick<Storage, "delete" | "stat">;

/** Who a temporary belonged to, for the log line. */
export interface TemporaryOwner {
  job?: string;
  checkpoint?: string;
}

/**
 * Removes a temporary this process named itself (past the lease's fence: nobody else knows the random
 * name). Never throws: null once nothing is left, else the failure.
 */
export function removeOwnTemporary(storage: Pick<Storage, "delete">, path: string, signal?: AbortSignal): Promise<unknown> {
  return storage.delete(path, { ownTemporary: true, ...(signal ? { signal } : {}) }).then(
    () => null,
    (err: unknown) => err ?? new Error(`delete of ${path} failed`),
  );
}

export class LeftBehind {
  private readonly paths = new Map<string, TemporaryStorage>();
  private unlisted = 0;

  constructor(
    private readonly logger: Logger,
    private readonly kept = LEFT_BEHIND_KEPT,
  ) {}

  /** Records a temporary whose removal failed (logged as a warning with its owner). */
  add(storage: TemporaryStorage, path: string, err: unknown, owner: TemporaryOwner = {}): void {
    this.remember(storage, path);
    this.logger.warn(
      { ...owner, path, err: errorMessage(err) },
      "could not remove the temporary of a write that did not finish; it is tried again at stop, and a later run removes it once stale",
    );
  }

  /**
   * Records a temporary removed (or found absent) after a write cut off before the storage answered: the
   * storage may still create it, so the stop looks for it again like one whose removal failed.
   */
  addUnsettled(storage: TemporaryStorage, path: string, err: unknown, owner: TemporaryOwner = {}): void {
    this.remember(storage, path);
    this.logger.warn(
      { ...owner, path, err: errorMessage(err) },
      "a write was cut off before the target answered it: its temporary may still appear; it is looked for again at stop, and a later run removes it once stale",
    );
  }

  private remember(storage: TemporaryStorage, path: string): void {
    if (this.paths.size < this.kept) this.paths.set(path, storage);
    else if (!this.paths.has(path)) this.unlisted++;
  }

  /**
   * Tries once more to remove each remembered temporary; returns those still there (or that could not be
   * looked at), and how many more failed beyond the bound (not tried again). A write aborted before its
   * upload reached the storage never created its temporary: a fresh stat tells, not the error.
   */
  async retry(signal?: AbortSignal): Promise<{ paths: string[]; unlisted: number }> {
    const io = signal ? { signal } : {};
    const left: string[] = [];
    for (const [path, storage] of this.paths) {
      const failed = signal?.aborted ? signal.reason : await removeOwnTemporary(storage, path, signal);
      if (failed === null) {
        this.paths.delete(path);
        continue;
      }
      const there = signal?.aborted ? true : await storage.stat(path, io).then((st) => st !== null, () => true);
      if (there) left.push(path);
      else this.paths.delete(path);
    }
    return { paths: left, unlisted: this.unlisted };
  }
}
