// Mapping between the locations a _metadata names (hdfs://ns1/p, hdfs:///p,
// hdfs:/p, hdfs://nn1:8020/p, relative names resolved to URIs, file:/p) and
// plain paths on one side, and between source and target roots.

import type { ClusterSide, RootPair } from "../config/load.js";
import { flinkUri } from "../storage/backend.js";

export interface ParsedLocation {
  scheme: string | null;
  authority: string;
  path: string;
}

/**
 * Splits a location the way Flink's Path(String) does (flink-core org.apache.flink.core.fs.Path): a scheme
 * before the first ':' that comes before any '/', an authority after '//' up to the next '/', and the rest
 * is the path, taken as it is written. Flink writes Path.toString() into _metadata, which carries the
 * decoded path: '#', '?', '%' and spaces are literal characters of the name, never query, fragment or
 * percent-escapes. Decoding them would look up another file.
 */
export function parseLocation(location: string): ParsedLocation | null {
  if (location.startsWith("/")) return { scheme: null, authority: "", path: normalizePath(location) };
  const colon = location.indexOf(":");
  const slash = location.indexOf("/");
  if (colon <= 0 || (slash !== -1 && slash < colon)) return null; // relative: no scheme
  const scheme = location.slice(0, colon);
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(scheme)) return null;
  let start = colon + 1;
  let authority = "";
  if (location.startsWith("//", start) && location.length - start > 2) {
    const next = location.indexOf("/", start + 2);
    const end = next > 0 ? next : location.length;
    authority = location.slice(start + 2, end);
    start = end;
  }
  const path = location.slice(start);
  if (!path.startsWith("/")) return null;
  return { scheme: scheme.toLowerCase(), authority: authority.toLowerCase(), path: normalizePath(path) };
}

function normalizePath(p: string): string {
  const collapsed = p.replace(/\/{2,}/g, "/");
  return collapsed.length > 1 ? collapsed.replace(/\/$/, "") : collapsed;
}

/** Resolves locations to paths on one cluster, given every spelling of that cluster's URI. */
export class ClusterLocator {
  private readonly scheme: string;
  private readonly authorities: Set<string>;

  constructor(side: ClusterSide) {
    this.scheme = side.uri?.slice(0, side.uri.indexOf(":")).toLowerCase() ?? side.backend.scheme;
    this.authorities = new Set<string>([""]);
    for (const uri of [side.uri, ...side.aliases]) {
      const parsed = uri === undefined ? null : parseLocation(`${uri}/`);
      if (parsed && parsed.scheme === this.scheme) this.authorities.add(parsed.authority);
    }
  }

  /** The path on this cluster a location names, or null when it names another filesystem. */
  pathOf(location: string): string | null {
    const parsed = parseLocation(location);
    if (parsed === null) return null;
    if (parsed.scheme === null) return parsed.path;
    if (parsed.scheme !== this.scheme || !this.authorities.has(parsed.authority)) return null;
    return parsed.path;
  }

  /** A URI for a path on this cluster, for resolving relative handles. */
  uriOf(path: string, side: ClusterSide): string {
    return flinkUri(side, path);
  }
}

/** Longest-matching root pair for a path, or null when the path is outside every root. */
export function rootFor(path: string, roots: RootPair[], side: "source" | "target"): RootPair | null {
  let best: RootPair | null = null;
  for (const pair of roots) {
    const root = pair[side];
    if (path === root || path.startsWith(root === "/" ? "/" : `${root}/`)) {
      if (best === null || root.length > best[side].length) best = pair;
    }
  }
  return best;
}

/** The target path that mirrors a source path, or null when it is outside every source root. */
export function targetPathFor(sourcePath: string, roots: RootPair[]): string | null {
  const pair = rootFor(sourcePath, roots, "source");
  if (pair === null) return null;
  const rest = sourcePath.slice(pair.source === "/" ? 0 : pair.source.length);
  return pair.target === "/" ? rest || "/" : `${pair.target}${rest}`;
}
