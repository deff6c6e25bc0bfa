// Rewrites the absolute paths of a `_metadata` (file handles, file-merging
// segments and directories) through a PathMap, re-serializes it, and re-parses
// the result to check that exactly the expected references changed.

import { referenceClosure, type FileReference } from "./closure.js";
import { parseMetadata, serializeMetadata } from "./metadata.js";
import { mapPath, type PathMap } from "./path-map.js";
import { walkHandles } from "./walk.js";
import type { CheckpointMetadata } from "./model.js";
import { CkptError } from "../util/errors.js";

export class PathRewriteError extends CkptError {
  readonly kind = "path-rewrite";
  constructor(
    message: string,
    /** Absolute paths that no prefix of the map matched. */
    readonly unmatched: readonly string[] = [],
  ) {
    super(message);
  }
}

export interface RewriteResult {
  bytes: Buffer;
  /** Number of path strings changed (each occurrence counts). */
  rewritten: number;
  /** Absolute paths (unique, sorted) that no prefix matched; left unchanged. */
  unmatched: string[];
}

/** Applies `rewrite` to every absolute path string in `md`, in place. Returns how many strings changed and the unmatched ones. */
export function rewritePathsInPlace(md: CheckpointMetadata, rewrite: (path: string) => string | null): { rewritten: number; unmatched: Set<string> } {
  let rewritten = 0;
  const unmatched = new Set<string>();
  const apply = (path: string): string => {
    const mapped = rewrite(path);
    if (mapped === null) {
      unmatched.add(path);
      return path;
    }
    if (mapped !== path) rewritten++;
    return mapped;
  };
  walkHandles(md, {
    stream(h) {
      if (h.type === "file" || h.type === "segment") h.filePath = apply(h.filePath);
    },
    operator(h) {
      if (h.type === "operatorStream" && h.fileMerging) {
        h.fileMerging.taskOwnedDir = apply(h.fileMerging.taskOwnedDir);
        h.fileMerging.sharedDir = apply(h.fileMerging.sharedDir);
      }
    },
  });
  return { rewritten, unmatched };
}

/**
 * Rewrites absolute path prefixes of a `_metadata` file. Relative paths, ids,
 * inline handle names and the trailer are never touched. With `strict`, any
 * absolute path outside the map is an error (PathRewriteError).
 */
export function rewriteMetadataPaths(bytes: Uint8Array, map: PathMap, options: { strict?: boolean } = {}): RewriteResult {
  const md = parseMetadata(bytes);
  const before = referenceClosure(md, "");
  const { rewritten, unmatched } = rewritePathsInPlace(md, (p) => mapPath(map, p));
  const unmatchedList = [...unmatched].sort();
  if (options.strict && unmatchedList.length > 0) {
    throw new PathRewriteError(
      `${unmatchedList.length} absolute path(s) match no prefix of the path map, e.g. ${unmatchedList[0]}`,
      unmatchedList,
    );
  }
  const out = serializeMetadata(md);
  verifyRewrittenClosure(before, out, (p) => mapPath(map, p) ?? p);
  return { bytes: out, rewritten, unmatched: unmatchedList };
}

/**
 * Re-parses rewritten bytes and checks that their closure is `before` with every
 * absolute location passed through `map` (same files, sizes and kinds).
 * `before` must come from referenceClosure(original, ""). Throws PathRewriteError
 * (or MetadataFormatError if `out` does not parse).
 */
export function verifyRewrittenClosure(before: readonly FileReference[], out: Uint8Array, map: (path: string) => string): void {
  const after = referenceClosure(parseMetadata(out), "");
  const expected = new Map(before.map((f) => [f.relative ? f.location : map(f.location), f]));
  const problems: string[] = [];
  if (after.length !== expected.size) problems.push(`${before.length} files before, ${after.length} after`);
  for (const f of after) {
    const old = expected.get(f.location);
    if (!old) problems.push(`unexpected file ${f.location}`);
    else if (old.size !== f.size || old.relative !== f.relative) problems.push(`changed size or kind of ${f.location}`);
  }
  if (problems.length > 0) {
    throw new PathRewriteError(`rewritten metadata does not reference the expected files: ${problems.slice(0, 3).join("; ")}`);
  }
}
