// Small readers for the deployment files the tests check statically: the
// Dockerfile (stages and instructions), .dockerignore patterns, systemd unit
// files, the metric names / label matchers inside PromQL expressions, and the
// packages the compiled sources import at run time.

import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function readProjectFile(relative: string): string {
  return readFileSync(resolve(projectRoot, relative), "utf8");
}

// ---------------------------------------------------------------- Dockerfile

export interface DockerInstruction {
  op: string;
  args: string;
}

export interface DockerStage {
  image: string;
  name: string | null;
  instructions: DockerInstruction[];
}

/** Stages of a Dockerfile in order; comments dropped, `\` continuations joined. */
export function parseDockerfile(text: string): DockerStage[] {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue; // comment inside a continued instruction
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = "";
  }
  if (pending !== "") logical.push(pending.trim());
  const stages: DockerStage[] = [];
  for (const entry of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(entry);
    if (!match) continue;
    const op = (match[1] ?? "").toUpperCase();
    const args = match[2] ?? "";
    if (op === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? args, name: from?.[2] ?? null, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op, args });
    }
  }
  return stages;
}

/** The arguments of every instruction `op` of a stage. */
export function instructionArgs(stage: DockerStage, op: string): string[] {
  return stage.instructions.filter((i) => i.op === op).map((i) => i.args);
}

/** True when a .dockerignore line excludes `path` (supports `*`, `**` and directory prefixes). */
export function dockerignoreExcludes(patterns: string[], path: string): boolean {
  let excluded = false;
  for (const raw of patterns) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, "");
    const source = pattern
      .split("**")
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]"))
      .join(".*");
    if (new RegExp(`^${source}(/.*)?$`).test(path)) excluded = !negated;
  }
  return excluded;
}

// ---------------------------------------------------------------- runtime imports

/**
 * Packages that `dir`'s TypeScript files import at run time, with a file that imports each.
 * `import type` / `export type` are left out (erased); relative and node: imports too.
 */
export function runtimePackageImports(dir: string): Map<string, string> {
  const packages = new Map<string, string>();
  const files = readdirSync(resolve(projectRoot, dir), { recursive: true, encoding: "utf8" }).filter(
    (f) => f.endsWith(".ts") && !f.endsWith(".d.ts"),
  );
  const patterns = [
    /^\s*(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const file of files) {
    const text = readFileSync(resolve(projectRoot, dir, file), "utf8");
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        const specifier = match[1] ?? "";
        if (specifier.startsWith(".") || specifier.startsWith("/") || isBuiltin(specifier)) continue;
        const parts = specifier.split("/");
        const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
        if (!packages.has(name)) packages.set(name, `${dir}/${file}`);
      }
    }
  }
  return packages;
}

// ---------------------------------------------------------------- systemd

/** section -> key -> every value given for it (systemd keys may repeat). */
export type UnitFile = Map<string, Map<string, string[]>>;

export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] ?? "", section);
      continue;
    }
    const eq = line.indexOf("=");
    if (section === null || eq < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

export function unitValue(unit: UnitFile, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

// ---------------------------------------------------------------- PromQL

const PROMQL_WORDS = new Set([
  "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
  "sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev", "stdvar", "count_values",
  "abs", "absent", "absent_over_time", "ceil", "changes", "clamp_max", "clamp_min", "delta", "deriv",
  "floor", "histogram_quantile", "idelta", "increase", "irate", "label_replace", "rate", "resets",
  "round", "scalar", "time", "timestamp", "vector", "avg_over_time", "max_over_time", "min_over_time",
  "sum_over_time", "count_over_time", "last_over_time", "present_over_time",
]);

/** Strips string literals, label matchers and range/offset durations, keeping only names. */
function promqlSkeleton(expr: string): string {
  return expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\boffset\s+\d+[smhdwy]\b/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
}

/** Metric names an expression reads (function names and keywords excluded). */
export function promqlMetricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const match of promqlSkeleton(expr).matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    if (!PROMQL_WORDS.has(word)) names.add(word);
  }
  return [...names];
}

export interface LabelMatcher {
  metric: string;
  label: string;
  op: string;
  value: string;
}

/** `metric{label="value", ...}` matchers of an expression. */
export function promqlMatchers(expr: string): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  for (const selector of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g)) {
    for (const m of (selector[2] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      out.push({ metric: selector[1] ?? "", label: m[1] ?? "", op: m[2] ?? "", value: m[3] ?? "" });
    }
  }
  return out;
}
