// Rewrites the absolute paths of a `_metadata` (file handles, file-merging
// segments and directories) through a PathMap, re-serializes it, and re-parses
// the result to check that exactly the expected references changed.

import { MetadataFormatError } from "./errors.js";
import { referenceClosure } from "./closure.js";
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
  verifyRewrite(out, before, map);
  return { bytes: out, rewritten, unmatched: unmatchedList };
}

/** Re-parses the output and checks its closure is the input closure with mapped locations. */
function verifyRewrite(out: Buffer, before: ReturnType<typeof referenceClosure>, map: PathMap): void {
  const after = referenceClosure(parseMetadata(out), "");
  const expected = new Map(before.map((f) => [f.relative ? f.location : (mapPath(map, f.location) ?? f.location), f]));
  const problems: string[] = [];
  if (after.length !== expected.size) problems.push(`${before.length} files before, ${after.length} after`);
  for (const f of after) {
    const old = expected.get(f.location);
    if (!old) problems.push(`unexpected file ${f.location}`);
    else if (old.size !== f.size || old.relative !== f.relative) problems.push(`changed size or kind of ${f.location}`);
  }
  if (problems.length > 0) {
    throw new MetadataFormatError(0, "", `a rewritten file with the same references: ${problems.slice(0, 3).join("; ")}`);
  }
}
