// The layering of src/ (README "Architecture"), read from the imports of every
// source file: nothing outside src/cli imports src/cli, and a lower layer never
// imports a higher one (util < webhdfs, flink < storage < config < replication
// < daemon, metrics < cli; sandbox and bench may use anything but the CLI, and
// only they and the CLI use them).

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

const RANK: Record<string, number> = {
  util: 0,
  webhdfs: 1,
  flink: 1,
  storage: 2,
  config: 3,
  replication: 4,
  daemon: 5,
  metrics: 5,
  sandbox: 6,
  bench: 6,
  cli: 7,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

/** The layer (top directory under src/) of a file, or null for files directly under src/. */
function layerOf(file: string): string | null {
  const parts = relative(SRC, file).split("/");
  return parts.length > 1 ? (parts[0] as string) : null;
}

interface Edge {
  from: string;
  to: string;
}

/** Every relative import, re-export and import() of the files under src/, resolved to a file under src/. */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const target = resolve(dirname(file), ref.fileName.replace(/\.js$/, ".ts"));
      if (relative(SRC, target).startsWith("..")) continue;
      edges.push({ from: relative(SRC, file), to: relative(SRC, target) });
    }
  }
  return edges;
}

/** Why the import `e` breaks the layering, or null when it is allowed. */
function violation(e: Edge): string | null {
  const from = layerOf(join(SRC, e.from));
  const to = layerOf(join(SRC, e.to));
  if (from === null || to === null || from === to) return null;
  if (to === "cli") return `${e.from} imports ${e.to}: nothing outside src/cli imports the CLI`;
  const a = RANK[from];
  const b = RANK[to];
  if (a === undefined || b === undefined) return `${e.from} imports ${e.to}: ${a === undefined ? from : to}/ is no known layer (add it to RANK and the README)`;
  if (b > a) return `${e.from} imports ${e.to}: ${from}/ is below ${to}/`;
  return null;
}

describe("layering of src/", () => {
  const edges = importEdges();

  it("reads the imports of the source tree (the check has something to check)", () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: "replication/engine.ts", to: "replication/sides.ts" });
    expect(edges).toContainEqual({ from: "cli/commands/latest.ts", to: "replication/latest.ts" });
  });

  it("has no import from a lower layer into a higher one, and none into src/cli from outside it", () => {
    expect(edges.map(violation).filter((v) => v !== null)).toEqual([]);
  });

  it("flags the imports it is meant to forbid", () => {
    expect(violation({ from: "sandbox/demo.ts", to: "cli/commands/latest.ts" })).toMatch(/nothing outside src\/cli/);
    expect(violation({ from: "storage/s3.ts", to: "replication/sides.ts" })).toMatch(/storage\/ is below replication\//);
    expect(violation({ from: "replication/job.ts", to: "metrics/metrics.ts" })).toMatch(/below metrics/);
    expect(violation({ from: "daemon/daemon.ts", to: "sandbox/demo.ts" })).toMatch(/below sandbox/);
    expect(violation({ from: "cli/main.ts", to: "replication/index.ts" })).toBeNull();
  });
});
