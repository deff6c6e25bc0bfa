// Reading and understanding _metadata files: fetch (bounded), parse, compute the
// reference closure, classify as complete / not complete yet / corrupt. Results
// are cached by (path, length, modification time) so each version of a file is
// parsed once. The cache keeps the closure and a CRC-32C of the bytes, not the
// bytes: a publication reads the file again before its copy (readVerified) and
// gets exactly the bytes whose closure was planned, or a typed error.

import { crc32c } from "@node-rs/crc32";
import { CkptError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { isMissing, joinPath, readSmallFile, type Entry, type ReadOnlyStorage } from "../storage/types.js";
import { parseMetadata, referenceClosure } from "../flink/index.js";
import { ClosureFiles } from "./closure-files.js";
import { METADATA_FILE } from "./layout.js";

export type MetadataView =
  | { state: "complete"; length: number; crc32c: number; checkpointId: number; references: ClosureFiles; entry: Entry }
  | { state: "incomplete"; reason: string }
  | { state: "corrupt"; reason: string; entry: Entry };

export type CompleteView = Extract<MetadataView, { state: "complete" }>;

export interface CatalogOptions {
  storage: ReadOnlyStorage;
  maxBytes: number;
  /** A _metadata unchanged for this long that still does not parse is corrupt, not "being written". */
  corruptAfterMs: number;
  /** URI of a unit directory, against which relative handles resolve. */
  dirUri: (dir: string) => string;
  logger: Logger;
  onCorrupt?: (path: string, reason: string) => void;
  now?: () => number;
}

/** A _metadata read again for publishing is not the version whose closure was planned (rewritten in place, or replaced). */
export class MetadataChangedError extends CkptError {
  readonly kind = "metadata-changed";
  constructor(readonly path: string) {
    super(`${path} changed since it was read: not published on the basis of the earlier version`);
  }
}

export class MetadataCatalog {
  private readonly cache = new Map<string, { key: string; view: MetadataView }>();

  constructor(private readonly o: CatalogOptions) {}

  /** True when the listed _metadata is already known complete (no fresh stat needed). */
  isKnownComplete(unitDir: string, listed: Entry): boolean {
    const cached = this.cache.get(unitDir);
    return cached !== undefined && cached.view.state === "complete" && cached.key === cacheKey(listed);
  }

  async view(unitDir: string, entry: Entry, signal?: AbortSignal): Promise<MetadataView> {
    const key = cacheKey(entry);
    const cached = this.cache.get(unitDir);
    if (cached && cached.key === key && cached.view.state !== "incomplete") return cached.view;
    const view = await this.load(unitDir, entry, signal);
    if (view.state === "corrupt" && cached?.view.state !== "corrupt") this.o.onCorrupt?.(joinPath(unitDir, METADATA_FILE), view.reason);
    this.cache.set(unitDir, { key, view });
    return view;
  }

  /**
   * The bytes of a complete view's _metadata, read again: the same length and CRC-32C as the version the view
   * was parsed from, else MetadataChangedError (and the cached view is dropped, so the next sync parses the
   * new version). A file gone meanwhile rejects with the storage's typed "missing" error.
   */
  async readVerified(unitDir: string, view: CompleteView, signal?: AbortSignal): Promise<Buffer> {
    const path = joinPath(unitDir, METADATA_FILE);
    const bytes = await readSmallFile(this.o.storage, path, this.o.maxBytes, signal ? { signal } : {});
    if (bytes.length !== view.length || crc32c(bytes) !== view.crc32c) {
      this.cache.delete(unitDir);
      throw new MetadataChangedError(path);
    }
    return bytes;
  }

  /** Drop entries of units that no longer exist. */
  retainOnly(unitDirs: Set<string>): void {
    for (const dir of this.cache.keys()) if (!unitDirs.has(dir)) this.cache.delete(dir);
  }

  private async load(unitDir: string, entry: Entry, signal?: AbortSignal): Promise<MetadataView> {
    const path = joinPath(unitDir, METADATA_FILE);
    const now = (this.o.now ?? Date.now)();
    const settled = now - entry.mtime > this.o.corruptAfterMs;
    if (entry.length === 0) {
      return settled ? { state: "corrupt", reason: `${path} is empty`, entry } : { state: "incomplete", reason: "being written (length 0)" };
    }
    if (entry.length > this.o.maxBytes) {
      return { state: "corrupt", reason: `${path} is ${entry.length} bytes, above scan.maxMetadataSize (${this.o.maxBytes})`, entry };
    }
    let bytes: Buffer;
    try {
      bytes = await readSmallFile(this.o.storage, path, this.o.maxBytes, signal ? { signal } : {});
    } catch (err) {
      if (isMissing(err)) return { state: "incomplete", reason: `${path} is gone` };
      return { state: "incomplete", reason: `cannot read yet: ${errorMessage(err)}` };
    }
    // Not the version that was listed (replaced since, or a read cut short without an error): no verdict
    // on it. Only the listed length, read whole, can be judged corrupt.
    if (bytes.length !== entry.length) {
      return { state: "incomplete", reason: `${path}: read ${bytes.length} bytes where the listing says ${entry.length} (changed since it was listed, or a short read)` };
    }
    try {
      const md = parseMetadata(bytes);
      // Kept compact (closure-files.ts): the catalog holds one of these per checkpoint on each side.
      const references = new ClosureFiles(referenceClosure(md, this.o.dirUri(unitDir)));
      return { state: "complete", length: bytes.length, crc32c: crc32c(bytes), checkpointId: Number(md.checkpointId), references, entry };
    } catch (err) {
      const reason = `${path}: ${errorMessage(err)}`;
      if (!settled) return { state: "incomplete", reason };
      return { state: "corrupt", reason, entry };
    }
  }
}

function cacheKey(e: Entry): string {
  return `${e.length}:${e.mtime}`;
}
