// One directory listing held compactly: what the scanner caches and what a
// snapshot hands to planning and reaping (name -> entry). A listing of many files
// is kept as columns rather than as an object per file: every name in one string
// (sorted, found by binary search), lengths and modification times in typed arrays,
// and the attributes files of one directory share (type, block size, permission,
// replication) as an index into a small palette. An Entry is made when asked for
// and not kept, so a cached listing costs its names plus about 22 bytes per file.

import type { Entry } from "../storage/types.js";

interface Attributes {
  type: Entry["type"];
  blockSize?: number;
  permission?: string;
  replication?: number;
}

const ROWS_PER_U8_PALETTE = 0xff;

export class CompactListing implements ReadonlyMap<string, Entry> {
  readonly size: number;
  /** How many of the entries are files. */
  readonly fileCount: number;
  private readonly names: string;
  /** End offset of each name in `names` (name i spans ends[i-1]..ends[i]). */
  private readonly ends: Uint32Array;
  private readonly lengths: Float64Array;
  private readonly mtimes: Float64Array;
  private readonly attributes: Uint8Array | Uint16Array | Uint32Array;
  private readonly palette: Attributes[];
  /** Per-file version tokens (object stores' ETags), only when some entry has one. */
  private readonly versions: (string | undefined)[] | null;

  private constructor(rows: readonly Entry[]) {
    const n = rows.length;
    this.size = n;
    this.ends = new Uint32Array(n);
    this.lengths = new Float64Array(n);
    this.mtimes = new Float64Array(n);
    const paletteIndex = new Map<string, number>();
    this.palette = [];
    const indices: number[] = new Array<number>(n);
    let files = 0;
    let offset = 0;
    let versions: (string | undefined)[] | null = null;
    for (let i = 0; i < n; i++) {
      const e = rows[i] as Entry;
      offset += e.name.length;
      this.ends[i] = offset;
      this.lengths[i] = e.length;
      this.mtimes[i] = e.mtime;
      if (e.type === "file") files++;
      const key = `${e.type}|${e.blockSize ?? ""}|${e.permission ?? ""}|${e.replication ?? ""}`;
      let index = paletteIndex.get(key);
      if (index === undefined) {
        index = this.palette.length;
        paletteIndex.set(key, index);
        this.palette.push(attributesOf(e));
      }
      indices[i] = index;
      if (e.version !== undefined) {
        versions ??= new Array<string | undefined>(n).fill(undefined);
        versions[i] = e.version;
      }
    }
    this.fileCount = files;
    this.attributes = this.palette.length <= ROWS_PER_U8_PALETTE ? Uint8Array.from(indices) : this.palette.length <= 0xffff ? Uint16Array.from(indices) : Uint32Array.from(indices);
    this.versions = versions;
    // One flat string: a join of the names, so that no name keeps its own header.
    this.names = rows.map((e) => e.name).join("");
  }

  /** The listing of these entries; a name listed twice keeps its last entry (as a Map would). */
  static of(entries: readonly Entry[]): CompactListing {
    return new CompactListing(sortedUnique(entries));
  }

  get(name: string): Entry | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.entryAt(i);
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** The subdirectories, without making an Entry for every file. */
  *directories(): IterableIterator<Entry> {
    for (let i = 0; i < this.size; i++) if ((this.palette[this.attributes[i] as number] as Attributes).type === "dir") yield this.entryAt(i);
  }

  *entries(): MapIterator<[string, Entry]> {
    for (let i = 0; i < this.size; i++) {
      const e = this.entryAt(i);
      yield [e.name, e];
    }
  }

  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.nameAt(i);
  }

  *values(): MapIterator<Entry> {
    for (let i = 0; i < this.size; i++) yield this.entryAt(i);
  }

  [Symbol.iterator](): MapIterator<[string, Entry]> {
    return this.entries();
  }

  forEach(fn: (value: Entry, key: string, map: ReadonlyMap<string, Entry>) => void): void {
    for (let i = 0; i < this.size; i++) {
      const e = this.entryAt(i);
      fn(e, e.name, this);
    }
  }

  /** Every entry as a plain array (for the small directories callers walk: roots, jobs, checkpoints). */
  toArray(): Entry[] {
    return [...this.values()];
  }

  private nameAt(i: number): string {
    return this.names.slice(i === 0 ? 0 : (this.ends[i - 1] as number), this.ends[i] as number);
  }

  private entryAt(i: number): Entry {
    const a = this.palette[this.attributes[i] as number] as Attributes;
    const e: Entry = { name: this.nameAt(i), type: a.type, length: this.lengths[i] as number, mtime: this.mtimes[i] as number };
    if (a.blockSize !== undefined) e.blockSize = a.blockSize;
    if (a.permission !== undefined) e.permission = a.permission;
    if (a.replication !== undefined) e.replication = a.replication;
    const version = this.versions?.[i];
    if (version !== undefined) e.version = version;
    return e;
  }

  /** Binary search over the sorted names, comparing in place (no substring is made). */
  private indexOf(name: string): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareAt(mid, name);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private compareAt(i: number, name: string): number {
    const start = i === 0 ? 0 : (this.ends[i - 1] as number);
    const length = (this.ends[i] as number) - start;
    const common = Math.min(length, name.length);
    for (let k = 0; k < common; k++) {
      const d = this.names.charCodeAt(start + k) - name.charCodeAt(k);
      if (d !== 0) return d;
    }
    return length - name.length;
  }
}

function attributesOf(e: Entry): Attributes {
  const a: Attributes = { type: e.type };
  if (e.blockSize !== undefined) a.blockSize = e.blockSize;
  if (e.permission !== undefined) a.permission = e.permission;
  if (e.replication !== undefined) a.replication = e.replication;
  return a;
}

/** Sorted by UTF-16 code units (the order compareAt searches in), the last entry of a repeated name kept. */
function sortedUnique(entries: readonly Entry[]): readonly Entry[] {
  let sorted = true;
  for (let i = 1; i < entries.length && sorted; i++) sorted = (entries[i - 1] as Entry).name < (entries[i] as Entry).name;
  if (sorted) return entries;
  const last = new Map<string, Entry>();
  for (const e of entries) {
    last.delete(e.name);
    last.set(e.name, e);
  }
  return [...last.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
