// Vitest global setup: compiles the project once into node_modules/.cache so
// tests that run the real CLI as a child process (SIGTERM, kill -9) share one
// build. Tests read the entry point with inject("cliBin").

import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(projectRoot, "node_modules", ".cache", `ckpt-test-dist-${process.pid}`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await rm(outDir, { recursive: true, force: true });
  const tsc = join(projectRoot, "node_modules", "typescript", "bin", "tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", outDir, "--sourceMap", "false"], { cwd: projectRoot });
  } catch (err) {
    await rm(outDir, { recursive: true, force: true }); // no teardown runs after a failed setup
    throw err;
  }
  project.provide("cliBin", join(outDir, "cli", "bin.js"));
  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    cliBin: string;
  }
}
