// A job's backlog: the files and bytes of every checkpoint a sync has selected to
// publish but not published yet that are not on the target. A file several of
// those checkpoints share (an incremental shared file) counts once. It shrinks
// as files are copied and units are published or given up, and is empty when
// the job is caught up. Status, metrics, the stats line and the status page read it.

/** What a job still has to copy before every checkpoint it selected is published. */
export interface PendingWork {
  files: number;
  bytes: number;
  /** The selected units not published yet, in the order they are attempted. */
  checkpoints: string[];
}

export const NO_PENDING_WORK: PendingWork = Object.freeze({ files: 0, bytes: 0, checkpoints: [] as string[] }) as PendingWork;

export class Backlog {
  /** Unit -> the target paths it lacked when it was selected (and that were not copied since). */
  readonly #units = new Map<string, Set<string>>();
  /** Target path -> its length and how many selected units need it. */
  readonly #files = new Map<string, { length: number; units: number }>();
  /** Paths copied (or found on the target) during this sync: never pending again. */
  readonly #done = new Set<string>();
  #bytes = 0;

  /** A unit selected to publish, with the target paths (and lengths) its closure lacks. A unit added twice counts once. */
  add(unit: string, missing: ReadonlyMap<string, number>): void {
    if (this.#units.has(unit)) return;
    const paths = new Set<string>();
    for (const [path, length] of missing) {
      if (this.#done.has(path)) continue;
      paths.add(path);
      const f = this.#files.get(path);
      if (f) f.units++;
      else {
        this.#files.set(path, { length, units: 1 });
        this.#bytes += length;
      }
    }
    this.#units.set(unit, paths);
  }

  /** A file is on the target now. */
  copied(path: string): void {
    this.#done.add(path);
    const f = this.#files.get(path);
    if (!f) return;
    this.#files.delete(path);
    this.#bytes -= f.length;
  }

  /**
   * The unit is published (`onTarget`: its whole closure is there) or given up (subsumed, abandoned,
   * unpublishable): what only it needed is no longer pending.
   */
  drop(unit: string, onTarget: boolean): void {
    const paths = this.#units.get(unit);
    if (!paths) return;
    this.#units.delete(unit);
    for (const path of paths) {
      if (onTarget) {
        this.copied(path);
        continue;
      }
      const f = this.#files.get(path);
      if (!f) continue;
      if (--f.units === 0) {
        this.#files.delete(path);
        this.#bytes -= f.length;
      }
    }
  }

  clear(): void {
    this.#units.clear();
    this.#files.clear();
    this.#done.clear();
    this.#bytes = 0;
  }

  summary(): PendingWork {
    if (this.#units.size === 0) return NO_PENDING_WORK;
    return { files: this.#files.size, bytes: this.#bytes, checkpoints: [...this.#units.keys()] };
  }
}
