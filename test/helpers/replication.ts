// Test helpers around the engine: a source storage that records which methods
// were called (to prove the source is never written), a sampler that verifies
// every target _metadata while the replicator runs, and a loop that cycles the
// engine until a condition holds, a savepoint written as Flink writes one, and
// checks of what a crash or a stop left on the target (and the moment to stop:
// an upload in progress; a target that refuses to delete).

import type { Config } from "../../src/config/load.js";
import { buildCheckpointMetadata, serializeMetadata } from "../../src/flink/index.js";
import { verifyCheckpoints, type Engine, type UnitVerdict } from "../../src/replication/index.js";
import { expect } from "vitest";
import { joinPath, type Entry, type ReadOnlyStorage, type Storage } from "../../src/storage/types.js";
import { countingStorage } from "../../src/storage/counting.js";
import type { FaultRule } from "../../src/sandbox/emulator/faults.js";
import { waitFor } from "./child.js";
import { SOURCE_ROOT, TARGET_ROOT } from "./sandbox-pair.js";

export function recordingStorage(inner: Storage): { storage: Storage; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return { storage: countingStorage(inner, calls), calls };
}

export const WRITE_METHODS = ["write", "mkdirs", "rename", "delete"];

export async function targetVerdicts(config: Config, target: ReadOnlyStorage): Promise<UnitVerdict[]> {
  return verifyCheckpoints({ config, side: "target", storage: target });
}

/** Verifies the target every `intervalMs` until stopped; collects every non-restorable verdict seen. */
export function startSampler(config: Config, target: ReadOnlyStorage, intervalMs = 50) {
  let running = true;
  let samples = 0;
  let published = 0;
  const failures: string[] = [];
  const done = (async () => {
    while (running) {
      try {
        const verdicts = await targetVerdicts(config, target);
        samples++;
        published = Math.max(published, verdicts.length);
        for (const v of verdicts) if (v.state !== "restorable") failures.push(`${v.job}/${v.unit}: ${v.state}: ${v.problems.join("; ")}`);
      } catch {
        // the target may be unreachable on purpose; the next sample tries again
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { samples, failures, maxPublished: published };
    },
  };
}

/** Runs engine cycles (waiting for each) until `done()` is true; throws after timeoutMs. */
export async function cycleUntil(engine: Engine, done: () => boolean | Promise<boolean>, timeoutMs = 30_000, pauseMs = 50): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let cycles = 0;
  let lastError: unknown = null;
  for (;;) {
    try {
      await engine.cycle({ wait: true });
      lastError = null;
    } catch (err) {
      lastError = err; // e.g. the lease lapsed while the target was down: it is renewed shortly
    }
    cycles++;
    if (lastError === null && (await done())) return cycles;
    if (Date.now() > deadline) {
      throw new Error(`condition not reached after ${cycles} cycles (last error: ${String(lastError)}); status: ${JSON.stringify(engine.status().jobs, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** Runs engine cycles in the background (like the daemon) until stopped. */
export function cycleInBackground(engine: Engine, pauseMs = 50) {
  let running = true;
  const errors: unknown[] = [];
  const done = (async () => {
    while (running) {
      try {
        await engine.cycle({ wait: true });
      } catch (err) {
        errors.push(err);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return errors;
    },
  };
}

/** A canonical savepoint as Flink writes it: state files next to _metadata, referenced relatively. */
export async function writeSavepoint(storage: Storage, dir: string, files: Record<string, number>): Promise<void> {
  await storage.mkdirs(dir);
  for (const [name, size] of Object.entries(files)) await storage.write(`${dir}/${name}`, Buffer.alloc(size, 7));
  const [first, second] = Object.entries(files);
  const md = buildCheckpointMetadata({
    version: 4,
    checkpointId: 12,
    properties: { kind: "savepoint" },
    operators: [
      {
        operatorId: "00112233445566778899aabbccddeeff",
        parallelism: 1,
        subtasks: [
          {
            index: 0,
            keyed: { kind: "keyGroups", savepoint: true, keyGroups: { start: 0, count: 128 } as never, file: { relative: first![0], size: first![1] } },
            operatorState: { states: [{ name: "s", offsets: [0] }], file: { relative: second![0], size: second![1] } },
          },
        ],
      },
    ],
  });
  await storage.write(`${dir}/_metadata`, serializeMetadata(md));
}

/** Every file below `dir`, recursively (path -> entry). */
export async function walk(storage: Storage, dir: string, out = new Map<string, Entry>()): Promise<Map<string, Entry>> {
  for (const e of (await storage.list(dir)) ?? []) {
    const p = joinPath(dir, e.name);
    if (e.type === "dir") await walk(storage, p, out);
    else out.set(p, e);
  }
  return out;
}

export const isTemp = (path: string) => /\/\.[^/]*\.ckpt-tmp\.[0-9a-f]+$/.test(path);
/** A temporary of a state-file copy (not of the lease or a record under .ckpt-replicator/). */
export const isCopyTemp = (path: string) => isTemp(path) && !path.includes("/.ckpt-replicator/");

/** Waits until a copy's temporary is there at two looks 300 ms apart: an upload in progress, not one about to be renamed. */
export async function waitForUploadInProgress(target: Storage, root: string, timeoutMs: number): Promise<void> {
  let before = new Set<string>();
  await waitFor(async () => {
    const now = [...(await walk(target, root)).keys()].filter(isCopyTemp);
    const stable = now.some((p) => before.has(p));
    before = new Set(now);
    if (!stable) await new Promise((r) => setTimeout(r, 300));
    return stable;
  }, timeoutMs, "an upload in progress");
}

/** A fault rule: hdfs2's NameNode refuses every DELETE under `pathPrefix` (permission denied), until removed. */
export function refuseTargetDeletes(pathPrefix: string): FaultRule {
  return {
    cluster: "hdfs2",
    role: "namenode",
    op: "DELETE",
    pathPrefix,
    times: "always",
    action: { kind: "error", status: 403, javaClassName: "org.apache.hadoop.security.AccessControlException", message: "Permission denied (injected)" },
  };
}

/** Nothing visible under a final name on the target differs from the source file it mirrors. */
export async function assertNoHalfWrittenFiles(source: Storage, target: Storage, targetFiles: Map<string, Entry>): Promise<void> {
  for (const [path, e] of targetFiles) {
    if (isTemp(path) || path.includes("/.ckpt-replicator/") || path.endsWith("/_metadata")) continue;
    const src = await source.stat(SOURCE_ROOT + path.slice(TARGET_ROOT.length));
    if (src !== null) expect(`${path}: ${e.length}`).toBe(`${path}: ${src.length}`);
  }
}
