// Test helper: one sandbox per test file in a fresh temporary state dir,
// started in beforeAll and stopped (dir removed) in afterAll.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../../src/sandbox/emulator/index.js";

export interface SandboxFixture {
  readonly sandbox: Sandbox;
  readonly stateDir: string;
  /** NameNode base URL of cluster hdfs1 (index 0 = initially active). */
  nn(index?: number, cluster?: string): string;
  dn(index?: number, cluster?: string): string;
}

export function useSandbox(options: Partial<SandboxOptions> = {}): SandboxFixture {
  let sandbox: Sandbox | undefined;
  let stateDir = "";
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "ckpt-emulator-"));
    sandbox = await startSandbox({ stateDir, ...options });
  });
  afterAll(async () => {
    await sandbox?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });
  const endpoints = (cluster: string) => {
    const e = sandbox?.endpoints.clusters[cluster];
    if (e === undefined) throw new Error(`no cluster ${cluster}`);
    return e;
  };
  return {
    get sandbox() {
      if (sandbox === undefined) throw new Error("sandbox not started");
      return sandbox;
    },
    get stateDir() {
      return stateDir;
    },
    nn: (index = 0, cluster = "hdfs1") => endpoints(cluster).namenodes[index] ?? "",
    dn: (index = 0, cluster = "hdfs1") => endpoints(cluster).datanodes[index] ?? "",
  };
}

/** Polls `condition` every 10 ms until it holds (or fails after `timeoutMs`). */
export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
