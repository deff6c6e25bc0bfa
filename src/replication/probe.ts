// Looking at the configured roots before (and independently of) the engine:
// does each root exist, can it be read at all, and which jobs does it hold?
// Commands use this to fail with the right exit code instead of reporting "up
// to date" about a tree they never saw (a NameNode that is down, a misspelt
// root, a DataNode address given as NameNode), and to resolve job prefixes.

import type { Config } from "../config/load.js";
import { classifyUnitDir, isHiddenName } from "./layout.js";
import { baseName, joinPath, parentOf, StorageError, type ReadOnlyStorage } from "../storage/types.js";
import { errorMessage, UsageError } from "../util/errors.js";
import { displayJob, JobNotFoundError, RootNotFoundError, SideUnreachableError, type Side } from "./failures.js";

export interface RootProbe {
  side: Side;
  cluster: string;
  root: string;
  state: "ok" | "missing" | "unreadable";
  /** Set for missing and unreadable roots: what to tell the operator. */
  detail?: string;
  error?: unknown;
  /** Job directory names under the root ("" for savepoints directly under it). */
  jobs: string[];
}

/** Lists every configured root of one side: exists, readable, jobs. Never throws for I/O problems. */
export async function probeSide(config: Config, side: Side, storage: ReadOnlyStorage, signal?: AbortSignal): Promise<RootProbe[]> {
  const cluster = config[side].name;
  const roots = [...new Set(config.paths.map((p) => p[side]))];
  return Promise.all(roots.map((root) => probeRoot(side, cluster, root, storage, signal)));
}

async function probeRoot(side: Side, cluster: string, root: string, storage: ReadOnlyStorage, signal?: AbortSignal): Promise<RootProbe> {
  const io = signal ? { signal } : {};
  const base = { side, cluster, root, jobs: [] as string[] };
  try {
    const st = await storage.stat(root, io);
    if (st === null) return { ...base, state: "missing", detail: await missingHint(storage, root, io) };
    if (st.type !== "dir") return { ...base, state: "missing", detail: "it is a file, not a directory" };
    const children = (await storage.list(root, io)) ?? [];
    const jobs: string[] = [];
    let rootSavepoints = false;
    for (const c of children) {
      if (c.type !== "dir" || isHiddenName(c.name)) continue;
      const unit = classifyUnitDir(c.name);
      if (unit === null) jobs.push(c.name);
      else if (unit.kind === "savepoint") rootSavepoints = true;
    }
    if (rootSavepoints) jobs.push("");
    return { ...base, state: "ok", jobs: jobs.sort() };
  } catch (err) {
    return { ...base, state: "unreadable", detail: explainUnreadable(err), error: err };
  }
}

/** "did you mean ...": names in the parent directory close to the missing root's name. */
async function missingHint(storage: ReadOnlyStorage, root: string, io: { signal?: AbortSignal }): Promise<string> {
  const parent = parentOf(root);
  try {
    const siblings = await storage.list(parent, io);
    if (siblings === null) return `its parent ${parent} does not exist either`;
    const name = baseName(root);
    const close = siblings.filter((e) => e.type === "dir" && editDistance(e.name, name) <= Math.max(2, Math.floor(name.length / 4)));
    if (close.length > 0) return `did you mean ${close.map((e) => joinPath(parent, e.name)).join(" or ")}?`;
    return `${parent} holds no similar name`;
  } catch {
    return "";
  }
}

/** One line on why a side cannot be read, with the hint the storage's adapter gave (it knows its backend). */
export function explainUnreadable(err: unknown): string {
  if (err instanceof StorageError) {
    if (err.reason === "denied") return `permission denied: ${err.message}`;
    if (err.reason === "unreachable") return `unreachable${err.hint ? ` (${err.hint})` : ""}: ${err.message}`;
    if (err.hint) return `${err.message} (${err.hint})`;
  }
  return errorMessage(err);
}

/** The failure of a probed root, typed for its exit code, or null when it is fine. */
export function probeFailure(p: RootProbe, o: { missingOk?: boolean } = {}): RootNotFoundError | SideUnreachableError | null {
  if (p.state === "missing") return o.missingOk ? null : new RootNotFoundError(p.side, p.cluster, p.root, p.detail);
  if (p.state === "unreadable") return new SideUnreachableError(p.side, p.cluster, p.root, p.detail ?? "cannot be listed", { cause: p.error });
  return null;
}

/** Throws the first failure among the probes (missing roots first, then unreadable). */
export function assertProbes(probes: RootProbe[], o: { missingOk?: boolean } = {}): void {
  const failures = probes.map((p) => probeFailure(p, o)).filter((f) => f !== null);
  const missing = failures.find((f) => f instanceof RootNotFoundError);
  if (missing) throw missing;
  if (failures[0]) throw failures[0];
}

/** Every job seen in the probes, sorted, without duplicates. */
export function jobsOf(...probes: RootProbe[][]): string[] {
  return [...new Set(probes.flat().flatMap((p) => p.jobs))].sort();
}

/**
 * A job given on the command line: an exact name, or a unique prefix of one (the demo prints 8-character
 * prefixes). An ambiguous prefix is a usage error listing the candidates; an unknown one JobNotFoundError.
 */
export function resolveJob(query: string, known: string[], where: string): string {
  if (known.includes(query)) return query;
  if (query === "") throw new UsageError("--job needs a job id (or a unique prefix of one)");
  const matches = known.filter((k) => k.startsWith(query));
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1) {
    throw new UsageError(`--job ${query} is ambiguous: it is a prefix of ${matches.length} jobs: ${matches.map(displayJob).join(", ")}`);
  }
  throw new JobNotFoundError(query, where, known);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
