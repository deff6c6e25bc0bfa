// Prefix maps for rewriting absolute paths (`FROM=TO`): longest prefix wins,
// matching respects path-segment boundaries, and ambiguous maps (a source twice,
// overlapping targets) are rejected when the map is built, not when a path
// happens to hit them.

import { UsageError } from "../util/errors.js";
import { isUnderPrefix } from "./closure.js";

export interface PathMapping {
  from: string;
  to: string;
}

export interface PathMap {
  /** Sorted longest `from` first. */
  readonly mappings: readonly PathMapping[];
}

/** Trailing slashes are not significant for matching (except for a bare root such as `/`). */
function normalizePrefix(p: string): string {
  const trimmed = p.replace(/\/+$/, "");
  return trimmed === "" || trimmed.endsWith(":") ? p : trimmed;
}

/** Builds a map from `FROM=TO` strings. Throws UsageError on malformed, duplicate or overlapping entries. */
export function parsePathMap(pairs: readonly string[]): PathMap {
  const mappings: PathMapping[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`path map entry ${JSON.stringify(pair)} is not FROM=TO`);
    const from = normalizePrefix(pair.slice(0, eq));
    const to = normalizePrefix(pair.slice(eq + 1));
    if (pair.indexOf("=", eq + 1) >= 0) {
      throw new UsageError(`path map entry ${JSON.stringify(pair)} is ambiguous: more than one "="`);
    }
    mappings.push({ from, to });
  }
  return pathMapOf(mappings);
}

/**
 * Validates a list of mappings (same rules as parsePathMap). Nested source
 * prefixes are allowed (the longest match wins); a source listed twice, or two
 * targets that are equal or nested (two source trees could land on the same
 * path, and the map could not be inverted), are rejected.
 */
export function pathMapOf(mappings: readonly PathMapping[]): PathMap {
  for (let i = 0; i < mappings.length; i++) {
    for (let j = i + 1; j < mappings.length; j++) {
      const a = mappings[i]!;
      const b = mappings[j]!;
      if (a.from === b.from) throw new UsageError(`path map lists ${a.from} twice (-> ${a.to} and -> ${b.to}): ambiguous`);
      if (isUnderPrefix(a.to, b.to) || isUnderPrefix(b.to, a.to)) {
        throw new UsageError(`path map targets ${a.to} (from ${a.from}) and ${b.to} (from ${b.from}) overlap: different sources could land on the same path`);
      }
    }
  }
  return { mappings: [...mappings].sort((a, b) => b.from.length - a.from.length) };
}

/** The map with every entry reversed (TO=FROM). */
export function invertPathMap(map: PathMap): PathMap {
  return pathMapOf(map.mappings.map(({ from, to }) => ({ from: to, to: from })));
}

/** The rewritten path, or null when no prefix matches (on a segment boundary). */
export function mapPath(map: PathMap, path: string): string | null {
  for (const { from, to } of map.mappings) {
    if (isUnderPrefix(path, from)) return joinRest(to, path.slice(from.length));
  }
  return null;
}

/** `to` + the rest of a matched path, with exactly one `/` between them (root prefixes end with `/`). */
function joinRest(to: string, rest: string): string {
  if (rest === "") return to;
  const restHasSlash = rest.startsWith("/");
  if (to.endsWith("/")) return restHasSlash ? to + rest.slice(1) : to + rest;
  return restHasSlash ? to + rest : `${to}/${rest}`;
}
