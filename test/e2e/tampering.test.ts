// Issue 7, bug 4: a target tampered with behind the daemon's back. Every sync
// re-verifies the published checkpoints from a fresh listing: what the source
// still has is repaired (re-copied, republished), what it has not is unpublished
// (_metadata first); the status (and so metrics and readiness) counts only
// checkpoints that are restorable right now, and a _metadata deleted on the
// target is republished without a restart.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile, type Storage } from "../../src/storage/types.js";
import { Engine } from "../../src/replication/index.js";
import { silentLogger } from "../../src/util/log.js";
import type { Config } from "../../src/config/load.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

let pair: SandboxPair;
const open: { close(): void }[] = [];
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  for (const o of open.splice(0)) o.close();
  await pair.close();
});

function engineFor(config: Config): { engine: Engine; target: Storage } {
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  open.push(source, target);
  return { engine: new Engine({ config, source, target, logger: silentLogger }), target };
}

/** The job checkpoints `count` times, each published before the next (the daemon skips intermediate ones). */
async function publishEach(engine: Engine, sim: { checkpointOnce(): Promise<unknown> }, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await sim.checkpointOnce();
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === i);
  }
}

/** Target paths of the shared files a published checkpoint references, with their lengths. */
async function sharedFilesOf(target: Storage, dir: string): Promise<{ path: string; size: number }[]> {
  const md = parseMetadata(await readSmallFile(target, `${dir}/_metadata`, 1 << 20));
  return referenceClosure(md, `hdfs://hdfs2${dir}`)
    .filter((r) => r.shared)
    .map((r) => ({ path: r.location.replace("hdfs://hdfs2", ""), size: r.size }));
}

describe("a target tampered with behind the daemon's back (issue 7, bug 4)", () => {
  it("repairs deleted and truncated files the source still has; counts only restorable checkpoints meanwhile", async () => {
    const job = "4".repeat(32);
    const config = await pair.config("retain: {min: 1, max: 3}\n");
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 41, jobId: job, retained: 3, stateSizeBytes: 256 * 1024 });
    await publishEach(engine, sim, 3);
    expect(engine.status().jobs[0]?.publishedOnTarget).toBe(3);

    const newest = `${TARGET_ROOT}/${job}/chk-3`;
    const [deleted, truncated] = await sharedFilesOf(target, newest);
    const hdfs2 = target; // tampered as the replicator's own user
    await hdfs2.delete(deleted!.path);
    await hdfs2.write(truncated!.path, Buffer.alloc(7), { overwrite: true });
    const broken = (await targetVerdicts(config, target)).filter((v) => v.state !== "restorable").map((v) => v.unit);
    expect(broken).toContain("chk-3");

    // One sync sees it, unpublishes it and repairs it from the source.
    await engine.cycle({ wait: true });
    const status = engine.status().jobs[0]!;
    expect(status.totals.unpublishedBroken).toBeGreaterThanOrEqual(1);
    await cycleUntil(engine, async () => (await targetVerdicts(config, target)).filter((v) => v.state === "restorable").length === 3);
    const verdicts = await targetVerdicts(config, target);
    expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
    expect((await hdfs2.stat(deleted!.path))?.length).toBe((await pair.storage("hdfs1").stat(deleted!.path.replace(TARGET_ROOT, SOURCE_ROOT)))?.length);
    expect((await hdfs2.stat(truncated!.path))?.length).toBe((await pair.storage("hdfs1").stat(truncated!.path.replace(TARGET_ROOT, SOURCE_ROOT)))?.length);
    expect(engine.status().jobs[0]?.publishedOnTarget).toBe(3);
    await engine.stop();
  }, 60_000);

  it("republishes a _metadata deleted on the target, without a restart", async () => {
    const job = "5".repeat(32);
    const config = await pair.config("retain: {min: 1, max: 3}\n");
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 42, jobId: job, retained: 3 });
    await publishEach(engine, sim, 3);
    expect((await targetVerdicts(config, target)).length).toBe(3);
    await target.delete(`${TARGET_ROOT}/${job}/chk-2/_metadata`);
    await engine.cycle({ wait: true });
    await cycleUntil(engine, async () => (await targetVerdicts(config, target)).some((v) => v.unit === "chk-2" && v.state === "restorable"));
    expect(engine.status().jobs[0]?.publishedOnTarget).toBe(3);
    await engine.stop();
  }, 60_000);

  it("unpublishes (never offers) a broken checkpoint the source no longer has, keeping the newest restorable one", async () => {
    const job = "6".repeat(32);
    // Flink keeps one checkpoint; the target keeps two (retain.min 2).
    const config = await pair.config("retain: {min: 2, max: 3}\n");
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 43, jobId: job, retained: 1 });
    await sim.run({ count: 1 });
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 1);
    await sim.run({ count: 1 });
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
    expect((await targetVerdicts(config, target)).map((v) => v.unit)).toEqual(["chk-2", "chk-1"]);

    const old = `${TARGET_ROOT}/${job}/chk-1`;
    const files = await sharedFilesOf(target, old);
    const onlyOld = files.find((f) => f.path.includes("/shared/"))!;
    await target.delete(onlyOld.path);
    await engine.cycle({ wait: true });
    await engine.cycle({ wait: true });
    const verdicts = await targetVerdicts(config, target);
    expect(verdicts.map((v) => [v.unit, v.state])).toEqual([["chk-2", "restorable"]]);
    expect(await target.stat(`${old}/_metadata`)).toBeNull();
    const status = engine.status().jobs[0]!;
    expect(status.publishedOnTarget).toBe(1);
    expect(status.newestPublishedCheckpoint).toBe(2);
    await engine.stop();
  }, 60_000);
});
