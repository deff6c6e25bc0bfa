// Checking that files are present with the lengths a checkpoint needs, one
// directory listing per distinct parent directory. Serves both the pre-publish
// check (exact source length) and `verify` (at least the referenced size).

import { baseName, parentOf, type Entry, type ReadOnlyStorage } from "../storage/types.js";

export interface RequiredFile {
  path: string;
  /** The file must be at least this long (the size the checkpoint references). */
  minLength: number;
  /** When known (pre-publish), the file must be exactly this long (the source's length). */
  exactLength?: number;
}

export interface PresenceProblem {
  path: string;
  problem: "missing" | "short" | "length-differs" | "not-a-file";
  expected: number;
  actual: number | null;
}

/**
 * `listings` (fresh directory listings already taken, path -> entries by name) answer for the directories
 * they hold; every other directory is listed now.
 */
export async function checkPresence(
  storage: ReadOnlyStorage,
  files: RequiredFile[],
  signal?: AbortSignal,
  listings?: ReadonlyMap<string, ReadonlyMap<string, Entry>>,
): Promise<PresenceProblem[]> {
  const byDir = new Map<string, RequiredFile[]>();
  for (const f of files) {
    const dir = parentOf(f.path);
    const list = byDir.get(dir);
    if (list) list.push(f);
    else byDir.set(dir, [f]);
  }
  const problems: PresenceProblem[] = [];
  await Promise.all(
    [...byDir].map(async ([dir, wanted]) => {
      const index = listings?.get(dir) ?? new Map<string, Entry>(((await storage.list(dir, signal ? { signal } : {})) ?? []).map((e) => [e.name, e]));
      for (const f of wanted) {
        const e = index.get(baseName(f.path));
        const problem = judge(f, e);
        if (problem) problems.push(problem);
      }
    }),
  );
  return problems.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function judge(f: RequiredFile, e: Entry | undefined): PresenceProblem | null {
  if (e === undefined) return { path: f.path, problem: "missing", expected: f.exactLength ?? f.minLength, actual: null };
  if (e.type !== "file") return { path: f.path, problem: "not-a-file", expected: f.exactLength ?? f.minLength, actual: null };
  if (f.exactLength !== undefined && e.length !== f.exactLength) {
    return { path: f.path, problem: "length-differs", expected: f.exactLength, actual: e.length };
  }
  if (e.length < f.minLength) return { path: f.path, problem: "short", expected: f.minLength, actual: e.length };
  return null;
}

export function describeProblem(p: PresenceProblem): string {
  switch (p.problem) {
    case "missing":
      return `${p.path} is missing`;
    case "not-a-file":
      return `${p.path} is not a file`;
    case "short":
      return `${p.path} has ${p.actual} bytes, the checkpoint needs ${p.expected}`;
    case "length-differs":
      return `${p.path} has ${p.actual} bytes, the source has ${p.expected}`;
  }
}
