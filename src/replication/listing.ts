// One directory listing held compactly: what the scanner caches and what a
// snapshot hands to planning and reaping (name -> entry). A listing of many files
// is kept as columns rather than as an object per file: every name in one string
// (found through an open-addressing hash table of row numbers), lengths and
// modification times in typed arrays, and the attributes files of one directory
// share (type, block size, permission, replication) as an index into a small
// palette. An Entry is made when asked for and not kept, so a cached listing
// costs its names plus about 27 bytes per file.

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
  /** Open addressing, linear probing: row number + 1 per slot, 0 for an empty slot; its size a power of two. */
  private readonly slots: Uint16Array | Uint32Array;

  /** Throws DuplicateName when a name is listed twice (of() then keeps the last entry of each). */
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
    let previous: Attributes | null = null;
    let previousIndex = 0;
    for (let i = 0; i < n; i++) {
      const e = rows[i] as Entry;
      offset += e.name.length;
      this.ends[i] = offset;
      this.lengths[i] = e.length;
      this.mtimes[i] = e.mtime;
      if (e.type === "file") files++;
      // Neighbours in a listing nearly always share their attributes: compare before building a key.
      if (previous === null || !sameAttributes(previous, e)) {
        const key = `${e.type}|${e.blockSize ?? ""}|${e.permission ?? ""}|${e.replication ?? ""}`;
        let index = paletteIndex.get(key);
        if (index === undefined) {
          index = this.palette.length;
          paletteIndex.set(key, index);
          this.palette.push(attributesOf(e));
        }
        previous = this.palette[index] as Attributes;
        previousIndex = index;
      }
      indices[i] = previousIndex;
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
    let size = 16;
    while (size < n * 2) size *= 2;
    this.slots = n < 0xffff ? new Uint16Array(size) : new Uint32Array(size);
    const mask = size - 1;
    for (let i = 0; i < n; i++) {
      const name = (rows[i] as Entry).name;
      let slot = hashOf(name) & mask;
      for (;;) {
        const row = this.slots[slot] as number;
        if (row === 0) break;
        if (this.nameEquals(row - 1, name)) throw DUPLICATE_NAME;
        slot = (slot + 1) & mask;
      }
      this.slots[slot] = i + 1;
    }
  }

  /** The listing of these entries, in their order; a name listed twice keeps its last entry (as a Map would). */
  static of(entries: readonly Entry[]): CompactListing {
    try {
      return new CompactListing(entries);
    } catch (err) {
      if (err !== DUPLICATE_NAME) throw err;
      return new CompactListing([...new Map(entries.map((e) => [e.name, e])).values()]);
    }
  }

  get(name: string): Entry | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.entryAt(i, name);
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

  private entryAt(i: number, name = this.nameAt(i)): Entry {
    const a = this.palette[this.attributes[i] as number] as Attributes;
    const e: Entry = { name, type: a.type, length: this.lengths[i] as number, mtime: this.mtimes[i] as number };
    if (a.blockSize !== undefined) e.blockSize = a.blockSize;
    if (a.permission !== undefined) e.permission = a.permission;
    if (a.replication !== undefined) e.replication = a.replication;
    const version = this.versions?.[i];
    if (version !== undefined) e.version = version;
    return e;
  }

  /** The row of a name, or -1: its hash's slot and the ones after it, each compared in place (no substring is made). */
  private indexOf(name: string): number {
    const mask = this.slots.length - 1;
    let slot = hashOf(name) & mask;
    for (;;) {
      const row = this.slots[slot] as number;
      if (row === 0) return -1;
      if (this.nameEquals(row - 1, name)) return row - 1;
      slot = (slot + 1) & mask;
    }
  }

  private nameEquals(i: number, name: string): boolean {
    const start = i === 0 ? 0 : (this.ends[i - 1] as number);
    if ((this.ends[i] as number) - start !== name.length) return false;
    for (let k = 0; k < name.length; k++) if (this.names.charCodeAt(start + k) !== name.charCodeAt(k)) return false;
    return true;
  }
}

/** Thrown by the constructor for a name listed twice (a control-flow marker, never seen outside this module). */
const DUPLICATE_NAME = Symbol("duplicate name");

/** FNV-1a over the UTF-16 code units. */
function hashOf(name: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < name.length; k++) h = Math.imul(h ^ name.charCodeAt(k), 0x01000193);
  return h >>> 0;
}

function sameAttributes(a: Attributes, e: Entry): boolean {
  return a.type === e.type && a.blockSize === e.blockSize && a.permission === e.permission && a.replication === e.replication;
}

function attributesOf(e: Entry): Attributes {
  const a: Attributes = { type: e.type };
  if (e.blockSize !== undefined) a.blockSize = e.blockSize;
  if (e.permission !== undefined) a.permission = e.permission;
  if (e.replication !== undefined) a.replication = e.replication;
  return a;
}
