// Loading a configuration file: YAML text -> schema validation -> cross-field
// checks -> the normalized Config (secrets resolved, rewrite map derived).
// Every failure is a ConfigError naming the file, the key and the problem.

import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { flinkUri, type BackendDefinition, type ClusterSide } from "../storage/backend.js";
import { BACKENDS } from "../storage/factory.js";
import { CkptError } from "../util/errors.js";
import { configSchemaFor, type ParsedConfig, type SideConfig } from "./schema.js";

export type { ClusterSide } from "../storage/backend.js";

export class ConfigError extends CkptError {
  readonly kind = "config";
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration ${file}: ${problems.join("; ")}`);
  }
}

export interface RootPair {
  /** Absolute path on the source (for a local side: a filesystem path, file:// stripped). */
  source: string;
  target: string;
}

export interface PrefixRewrite {
  from: string;
  to: string;
}

export type Config = Omit<ParsedConfig, "source" | "target" | "paths" | "rewrite"> & {
  source: ClusterSide;
  target: ClusterSide;
  paths: RootPair[];
  /** Prefix map applied to absolute paths inside published _metadata (empty: no rewrite needed). */
  rewrite: PrefixRewrite[];
  /** Where the config came from (for messages and reload). */
  file: string;
};

/** How a configuration is read: the environment its secrets come from, and the storage backends its sides may name. */
export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  backends?: readonly BackendDefinition[];
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, o: LoadOptions = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  return parseConfigText(text, file, env, o);
}

export async function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, o: LoadOptions = {}): Promise<Config> {
  const backends = o.backends ?? BACKENDS;
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`));
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, ["the file must hold a YAML mapping with at least source, target and paths"]);
  }
  const result = (backends === BACKENDS ? DEFAULT_SCHEMA : configSchemaFor(backends)).safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return normalize(result.data, file, env, backends);
}

function formatIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      // e.g. metrics: false | {listen}: report the branch that got furthest, not "Invalid input".
      const branches = issue.errors.filter((b) => !b.every((i) => (i.code === "invalid_type" || i.code === "invalid_value") && i.path.length === 0));
      if (branches.length === 1) return formatIssues(branches[0] as z.core.$ZodIssue[], [...prefix, ...issue.path]);
    }
    const path = [...prefix, ...issue.path];
    const key = path.length > 0 ? path.map(String).join(".") : "(top level)";
    if (issue.code === "unrecognized_keys") {
      return [`${key === "(top level)" ? "" : `${key}: `}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`];
    }
    return [`${key}: ${issue.message}`];
  });
}

const DEFAULT_SCHEMA = configSchemaFor(BACKENDS);

async function normalize(parsed: ParsedConfig, file: string, env: NodeJS.ProcessEnv, backends: readonly BackendDefinition[]): Promise<Config> {
  const problems: string[] = [];
  const source = await normalizeSide("source", parsed.source, parsed.paths.map((p) => p.source), env, backends, problems);
  const target = await normalizeSide("target", parsed.target, parsed.paths.map((p) => p.target), env, backends, problems);
  if (source !== null && target !== null) {
    for (const b of new Set([source.backend, target.backend])) b.checkTogether?.([source, target].filter((s) => s.backend === b), problems);
  }
  if (source === null || target === null) throw new ConfigError(file, problems);
  const paths = parsed.paths.map((p) => ({ source: source.backend.rootPath(p.source), target: target.backend.rootPath(p.target) }));
  checkRootsDisjoint("paths[].source", paths.map((p) => p.source), problems);
  checkRootsDisjoint("paths[].target", paths.map((p) => p.target), problems);
  await checkTargetApartFromSource(source, target, paths, parsed.lease.path, problems);
  let rewrite: PrefixRewrite[] = [];
  if (parsed.rewrite !== undefined) {
    rewrite = parsed.rewrite;
    const froms = new Set<string>();
    for (const r of rewrite) {
      if (froms.has(r.from)) problems.push(`rewrite: ${r.from} is listed twice`);
      froms.add(r.from);
    }
  }
  else if (problems.length === 0) rewrite = deriveRewrite(source, target, paths, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const { source: _s, target: _t, paths: _p, rewrite: _r, ...rest } = parsed;
  return { ...rest, source, target, paths, rewrite, file };
}

/**
 * Resolves one side: the first backend that claims its roots and settings serves it, settings of any other
 * backend are refused by name, and the backend checks and resolves its own. Null when no backend serves it.
 */
async function normalizeSide(
  key: "source" | "target",
  side: SideConfig,
  roots: string[],
  env: NodeJS.ProcessEnv,
  backends: readonly BackendDefinition[],
  problems: string[],
): Promise<ClusterSide | null> {
  const backend = backends.find((b) => b.claims(side, roots));
  if (backend === undefined) {
    problems.push(`paths[].${key}: no storage backend serves ${roots.join(", ")} (roots are ${backends.map((b) => b.rootForm).join(", or ")})`);
    return null;
  }
  for (const other of backends) {
    if (other === backend) continue;
    for (const setting of Object.keys(other.settings)) {
      if (setting in backend.settings || side[setting] === undefined) continue;
      problems.push(`${key}.${setting}: set, but ${key} is served by ${backend.label} (its roots: ${backend.rootForm}); ${setting} is a setting of ${other.label} (roots ${other.rootForm})`);
    }
  }
  const resolved = await backend.resolve({ key, raw: side, roots, env, problems });
  return {
    kind: backend.kind,
    backend,
    name: side.name ?? key,
    uri: resolved.uri,
    aliases: resolved.aliases,
    requestTimeoutMs: side.requestTimeout,
    retry: { maxAttempts: side.retry.attempts, baseDelayMs: side.retry.baseDelay, maxDelayMs: side.retry.maxDelay },
    settings: resolved.settings,
  };
}

function checkRootsDisjoint(key: string, roots: string[], problems: string[]): void {
  for (let i = 0; i < roots.length; i++) {
    for (let j = 0; j < roots.length; j++) {
      const a = roots[i] as string;
      const b = roots[j] as string;
      if (i !== j && (a === b || b.startsWith(a === "/" ? "/" : `${a}/`)) && i < j) {
        problems.push(`${key}: roots ${a} and ${b} overlap; list each tree once`);
      }
    }
  }
}

/** True when the two sides are one filesystem (their backend says how to tell: NameNodes in common, one bucket...). */
export async function sameCluster(a: ClusterSide, b: ClusterSide): Promise<boolean> {
  return a.backend === b.backend && (await a.backend.sameFilesystem(a, b));
}

function nested(a: string, b: string): boolean {
  const under = (x: string, y: string) => x === y || y === "/" || x.startsWith(`${y}/`);
  return under(a, b) || under(b, a);
}

/**
 * The replicator writes and deletes under its target roots: on the source's own cluster a target root
 * equal to, inside, or containing a source root would delete Flink's checkpoints. Refused outright.
 */
async function checkTargetApartFromSource(source: ClusterSide, target: ClusterSide, paths: RootPair[], leasePath: string | undefined, problems: string[]): Promise<void> {
  if (!(await sameCluster(source, target))) return;
  paths.forEach((pair, i) => {
    for (const s of paths) {
      if (nested(pair.target, s.source)) {
        problems.push(
          `paths[${i}].target: ${pair.target} ${pair.target === s.source ? "is" : "overlaps"} the source root ${s.source} on the same cluster; the replicator deletes under its target roots, so it must be a separate tree`,
        );
      }
    }
  });
  if (leasePath !== undefined) {
    for (const s of paths) {
      if (nested(leasePath, s.source)) problems.push(`lease.path: ${leasePath} is under the source root ${s.source} on the same cluster; the source is never written`);
    }
  }
}

/**
 * All the ways Flink may spell an absolute path under `root` on this side: the configured URI and
 * aliases (hdfs://ns1/root), the authority-less forms Flink's Path produces (hdfs:/root, hdfs:///root)
 * and, for a local side, file:/root and file:///root.
 */
export function pathSpellings(side: ClusterSide, root: string): string[] {
  const schemes = new Set<string>([side.backend.scheme]);
  const spellings = new Set<string>();
  for (const uri of [side.uri, ...side.aliases]) {
    if (uri === undefined) continue;
    const scheme = uri.slice(0, uri.indexOf(":"));
    schemes.add(scheme);
    if (uri !== `${scheme}://`) spellings.add(`${uri}${root}`);
  }
  spellings.add(root); // scheme-less absolute paths resolve against the default filesystem
  for (const scheme of schemes) {
    spellings.add(`${scheme}:${root}`);
    spellings.add(`${scheme}://${root}`);
  }
  return [...spellings];
}

function deriveRewrite(source: ClusterSide, target: ClusterSide, paths: RootPair[], problems: string[]): PrefixRewrite[] {
  const sameCluster = source.uri === target.uri;
  const map: PrefixRewrite[] = [];
  for (const pair of paths) {
    if (sameCluster && pair.source === pair.target) continue;
    if (target.uri === undefined) {
      problems.push(
        `target.uri: required to rewrite absolute paths in _metadata from ${pair.source} to ${pair.target} (e.g. hdfs://ns2), or give an explicit rewrite map`,
      );
      return [];
    }
    const to = flinkUri(target, pair.target);
    for (const from of pathSpellings(source, pair.source)) map.push({ from, to });
  }
  return map;
}
