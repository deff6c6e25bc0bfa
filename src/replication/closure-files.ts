// The files a parsed _metadata references, as the engine keeps them between
// cycles (the metadata catalog caches one per checkpoint on each side): only
// what replication decides on (location, bytes needed, shared), in columns,
// each location split into its directory, stored once per directory, and its
// name. A checkpoint of 10,000 files is then a few typed arrays and 10,000 short
// names instead of 10,000 objects with their full URIs and usage paths (those,
// for `inspect`, stay in flink's FileReference). Iterating yields fresh small
// objects that the caller does not keep.

import type { FileReference } from "../flink/index.js";

/** One referenced file, as the engine reads it. */
export interface ClosureFile {
  location: string;
  /** Bytes the file must have (state size or segment end); -1 if unknown. */
  size: number;
  shared: boolean;
}

export class ClosureFiles implements Iterable<ClosureFile> {
  private readonly dirs: string[] = [];
  private readonly dirOf: Uint32Array;
  private readonly names: string[];
  private readonly sizes: Float64Array;
  private readonly sharedFlags: Uint8Array;

  constructor(references: readonly Pick<FileReference, "location" | "size" | "shared">[]) {
    const n = references.length;
    this.dirOf = new Uint32Array(n);
    this.names = new Array<string>(n);
    this.sizes = new Float64Array(n);
    this.sharedFlags = new Uint8Array(n);
    const dirIndex = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = references[i] as ClosureFile;
      const slash = r.location.lastIndexOf("/");
      const dir = r.location.slice(0, slash);
      let d = dirIndex.get(dir);
      if (d === undefined) {
        d = this.dirs.length;
        dirIndex.set(dir, d);
        this.dirs.push(detached(dir));
      }
      this.dirOf[i] = d;
      this.names[i] = detached(r.location.slice(slash + 1));
      this.sizes[i] = r.size;
      this.sharedFlags[i] = r.shared ? 1 : 0;
    }
  }

  get length(): number {
    return this.names.length;
  }

  /** Total bytes the files must have (unknown sizes count 0). */
  get bytes(): number {
    let n = 0;
    for (const s of this.sizes) n += Math.max(0, s);
    return n;
  }

  *[Symbol.iterator](): IterableIterator<ClosureFile> {
    for (let i = 0; i < this.names.length; i++) {
      yield { location: `${this.dirs[this.dirOf[i] as number]}/${this.names[i]}`, size: this.sizes[i] as number, shared: this.sharedFlags[i] === 1 };
    }
  }
}

/**
 * A copy of `s` that does not point into the string it was cut from: V8 keeps a long slice as a view of its
 * parent, which would keep every file's whole URI alive behind its short name.
 */
function detached(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, "utf8").toString("utf8");
}
