// Making a source _metadata valid on the target: absolute paths are rewritten
// with the configured prefix map (every spelling of the source cluster maps to
// the target URI, so several prefixes may share one destination, which a
// general-purpose invertible map would refuse). Relative paths are untouched.

import { rewriteMetadataPaths, type PathMap } from "../flink/index.js";
import type { PrefixRewrite } from "../config/load.js";

export function targetPathMap(rewrites: PrefixRewrite[]): PathMap {
  const trim = (p: string) => (p.length > 1 && p.endsWith("/") && !p.endsWith(":/") ? p.replace(/\/+$/, "") : p);
  return { mappings: rewrites.map((r) => ({ from: trim(r.from), to: trim(r.to) })).sort((a, b) => b.from.length - a.from.length) };
}

/** The bytes to publish on the target; throws PathRewriteError when an absolute path has no mapping. */
export function metadataForTarget(bytes: Buffer, rewrites: PrefixRewrite[]): Buffer {
  if (rewrites.length === 0) return bytes;
  return rewriteMetadataPaths(bytes, targetPathMap(rewrites), { strict: true }).bytes;
}
