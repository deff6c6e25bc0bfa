// External programs some tests run (promtool, prometheus, chromium), installed from
// Debian packages by .ci/install-monitoring-tools. When one is missing the test
// fails under CI=true (CI must have it) and otherwise skips, printing the reason,
// so the skip is never silent.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface SkipContext {
  skip(note?: string): never;
}

/** Absolute path of a program on PATH (or an absolute path that exists), or null. */
export function findTool(name: string): string | null {
  if (name.startsWith("/")) return existsSync(name) ? name : null;
  try {
    const out = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    return out === "" ? null : out;
  } catch {
    return null;
  }
}

/**
 * The tool's path; when it is missing: throws under CI=true, else prints `SKIPPED: <what>: ...` and skips
 * the running test through its context.
 */
export function requireTool(ctx: SkipContext, name: string, what: string): string {
  const path = findTool(name);
  if (path !== null) return path;
  return ctx.skip(missingTool(name, what));
}

/**
 * For a whole suite (beforeAll has no skip): the tool's path, or null after printing `SKIPPED: ...`;
 * under CI=true a missing tool throws. The suite's tests then skip themselves while it is null.
 */
export function toolForSuite(name: string, what: string): string | null {
  const path = findTool(name);
  if (path !== null) return path;
  missingTool(name, what);
  return null;
}

function missingTool(name: string, what: string): string {
  const reason = `SKIPPED: ${what}: ${name} is not installed (run .ci/install-monitoring-tools)`;
  if (process.env.CI === "true") throw new Error(`${what}: ${name} is missing, and CI=true requires it (.ci/install-monitoring-tools installs it)`);
  process.stderr.write(`${reason}\n`);
  return reason;
}
