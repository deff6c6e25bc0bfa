// End to end against the emulated hdfs1 -> hdfs2 pair with the Flink job
// simulator checkpointing on hdfs1: the promises operators rely on.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile, type Storage } from "../../src/storage/types.js";
import { Engine, LeaseHeldError, newestRestorable } from "../../src/replication/index.js";
import { MetadataChangedError } from "../../src/replication/catalog.js";
import { silentLogger } from "../../src/util/log.js";
import type { Config } from "../../src/config/load.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleInBackground, cycleUntil, recordingStorage, startSampler, targetVerdicts, WRITE_METHODS } from "../helpers/replication.js";

let pair: SandboxPair;
const open: { close(): void }[] = [];

beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  for (const o of open.splice(0)) o.close();
  await pair.close();
});

function engineFor(config: Config, source?: Storage): { engine: Engine; source: Storage; target: Storage } {
  const src = source ?? createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  open.push(src, target);
  return { engine: new Engine({ config, source: src, target, logger: silentLogger }), source: src, target };
}

/** The source storage with `hook` run on every read (it may change the source first, as Flink would meanwhile). */
function sourceWithReadHook(config: Config, hook: (path: string) => Promise<void>): Storage {
  const inner = createStorage(config.source, silentLogger);
  open.push(inner);
  const source: Storage = Object.create(inner) as Storage;
  source.read = async (path, o) => {
    await hook(path);
    return inner.read(path, o);
  };
  return source;
}

async function newestOnSource(sim: { retained(): { id: number }[] }): Promise<number> {
  return Math.max(...sim.retained().map((c) => c.id));
}

describe("replication end to end", () => {
  it("publishes only restorable checkpoints while the job runs, never writes the source, and converges", async () => {
    const config = await pair.config();
    const recorded = recordingStorage(createStorage(config.source, silentLogger));
    const { engine, target } = engineFor(config, recorded.storage);
    await engine.start();
    const sim = pair.simulator({ seed: 7, jobId: "a".repeat(32) });
    const sampler = startSampler(config, target);
    const loop = cycleInBackground(engine);
    await sim.run({ count: 12 });
    expect(await loop.stop()).toEqual([]);
    const newest = await newestOnSource(sim);
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === newest);
    const { samples, failures } = await sampler.stop();
    expect(samples).toBeGreaterThan(3);
    expect(failures).toEqual([]);

    // Every write-capable method of the source storage stayed untouched.
    for (const m of WRITE_METHODS) expect(recorded.calls.get(m) ?? 0).toBe(0);
    expect(recorded.calls.get("list")).toBeGreaterThan(0);

    const verdicts = await targetVerdicts(config, target);
    expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
    expect(verdicts.length).toBeLessThanOrEqual(config.retain.max);
    expect(newestRestorable(verdicts, "a".repeat(32))?.checkpointId).toBe(newest);

    // The published _metadata names files on hdfs2 under the target root, and carries the source's time.
    const best = newestRestorable(verdicts, "a".repeat(32))!;
    const sourceMetadata = await recorded.storage.stat(`${SOURCE_ROOT}/${"a".repeat(32)}/${best.unit}/_metadata`);
    expect((await target.stat(`${best.dir}/_metadata`))?.mtime).toBe(sourceMetadata?.mtime);
    const md = parseMetadata(await readSmallFile(target, `${best.dir}/_metadata`, 1 << 20));
    const absolute = referenceClosure(md, `hdfs://hdfs2${best.dir}`).filter((r) => !r.relative);
    expect(absolute.length).toBeGreaterThan(0);
    for (const r of absolute) expect(r.location.startsWith(`hdfs://hdfs2${TARGET_ROOT}/`)).toBe(true);
    await engine.stop();
  }, 90_000);

  it("copes with files deleted mid-copy: subsumed checkpoints are dropped, published ones stay restorable", async () => {
    // Slow copies (bandwidth limit) and a fast job that keeps one checkpoint: the source deletes files under us.
    const config = await pair.config("copy: {concurrency: 2, bandwidth: 3MiB, retries: 2}\n");
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 11, jobId: "b".repeat(32), retained: 1, intervalMs: 20, stateSizeBytes: 1024 * 1024 });
    const sampler = startSampler(config, target);
    // Every target upload stalls 1.5 s, so a checkpoint's copy outlasts the job's next checkpoints, whatever the
    // machine's speed; the job keeps checkpointing until the source has pulled a checkpoint from under a copy.
    const stall = pair.sandbox.faults.add({ cluster: "hdfs2", role: "datanode", op: "CREATE", pathPrefix: `${TARGET_ROOT}/${"b".repeat(32)}/`, times: "always", action: { kind: "latency", ms: 1500 } });
    const loop = cycleInBackground(engine, 10);
    const subsumed = () => (engine.status().jobs[0]?.totals.abandonedSubsumed ?? 0) > 0;
    for (let n = 0; n < 12 || (!subsumed() && n < 200); n++) await sim.run({ count: 1 });
    pair.sandbox.faults.remove(stall);
    await loop.stop();
    const newest = await newestOnSource(sim);
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === newest, 60_000);
    const { failures } = await sampler.stop();
    expect(failures).toEqual([]);
    const totals = engine.status().jobs[0]!.totals;
    expect(totals.abandonedSubsumed).toBeGreaterThan(0);
    expect(totals.abandonedMissing).toBe(0);
    await engine.stop();
  }, 90_000);

  it("rides through NameNode failovers on both clusters mid-run", async () => {
    const config = await pair.config();
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 3, jobId: "c".repeat(32) });
    const sampler = startSampler(config, target);
    const loop = cycleInBackground(engine);
    const flips = setInterval(() => {
      pair.sandbox.failover("hdfs1");
      pair.sandbox.failover("hdfs2");
    }, 150);
    try {
      await sim.run({ count: 10 });
    } finally {
      clearInterval(flips);
    }
    expect(await loop.stop()).toEqual([]);
    const newest = await newestOnSource(sim);
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === newest);
    expect((await sampler.stop()).failures).toEqual([]);
    await engine.stop();
  });

  it("catches up after the target was unreachable for a while", async () => {
    const config = await pair.config();
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 5, jobId: "d".repeat(32) });
    await sim.run({ count: 2 });
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
    await pair.sandbox.faults.makeUnreachable("hdfs2", "refuse");
    await sim.run({ count: 3 });
    await engine.cycle({ wait: true }).catch(() => undefined);
    const during = engine.status().jobs[0]!;
    expect(during.newestPublishedCheckpoint).toBe(2);
    expect(during.lagSeconds).toBeGreaterThan(0);
    await pair.sandbox.faults.makeReachable("hdfs2");
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 5);
    expect(engine.status().jobs[0]!.lagSeconds).toBe(0);
    const verdicts = await targetVerdicts(config, target);
    expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
    await engine.stop();
  });

  it("keeps the newest restorable checkpoint when the job's directory disappears from the source", async () => {
    const config = await pair.config("retain: {min: 1, max: 3}\n");
    const { engine, target } = engineFor(config);
    await engine.start();
    const job = "e".repeat(32);
    const sim = pair.simulator({ seed: 9, jobId: job });
    await sim.run({ count: 4 });
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 4);
    // A second job keeps the root non-empty, as on a real cluster where one job is cancelled and cleaned up.
    const other = pair.simulator({ seed: 10, jobId: "f".repeat(32) });
    await other.run({ count: 1 });
    await pair.storage("hdfs1").delete(`${SOURCE_ROOT}/${job}`, { recursive: true });
    await cycleUntil(engine, () => engine.status().jobs.find((j) => j.job === "f".repeat(32))?.newestPublishedCheckpoint === 1);
    await engine.cycle({ wait: true });
    const verdicts = (await targetVerdicts(config, target)).filter((v) => v.job === job);
    expect(verdicts.map((v) => v.checkpointId)).toEqual([4]);
    expect(verdicts[0]!.state).toBe("restorable");
    await engine.stop();
  });

  it("deletes nothing when the source root vanishes or is unreachable", async () => {
    const config = await pair.config("retain: {min: 1, max: 3}\n");
    const { engine, target } = engineFor(config);
    await engine.start();
    const sim = pair.simulator({ seed: 12, jobId: "1".repeat(32) });
    await sim.run({ count: 3 });
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 3);
    const before = (await targetVerdicts(config, target)).map((v) => v.unit);
    await pair.sandbox.faults.makeUnreachable("hdfs1", "reset");
    await engine.cycle({ wait: true }).catch(() => undefined);
    await pair.sandbox.faults.makeReachable("hdfs1");
    await pair.storage("hdfs1").delete(SOURCE_ROOT, { recursive: true });
    await engine.cycle({ wait: true });
    expect((await targetVerdicts(config, target)).map((v) => v.unit)).toEqual(before);
    expect(engine.status().sourceRootsHealthy).toBe(false);
    await engine.stop();

    // After a restart the scanner remembers nothing: an empty source root facing a target with jobs is
    // still distrusted.
    await pair.storage("hdfs1").mkdirs(SOURCE_ROOT);
    const restarted = engineFor(config).engine;
    await restarted.start();
    await restarted.cycle({ wait: true });
    expect(restarted.status().sourceRootsHealthy).toBe(false);
    expect((await targetVerdicts(config, target)).map((v) => v.unit)).toEqual(before);
    await restarted.stop();
  });

  it("refuses to start a second writer on the same target", async () => {
    const config = await pair.config();
    const first = engineFor(config).engine;
    await first.start();
    const second = engineFor(config).engine;
    await expect(second.start()).rejects.toBeInstanceOf(LeaseHeldError);
    await expect(second.start()).rejects.toThrow(/another replicator holds the target lease/);
    await first.stop();
    // Released on a clean stop: a new daemon may start at once.
    const third = engineFor(config).engine;
    await third.start();
    await third.stop();
  });

  it("counts and logs a corrupt source _metadata while other jobs are unaffected", async () => {
    const config = await pair.config();
    const { engine } = engineFor(config);
    await engine.start();
    const good = pair.simulator({ seed: 21, jobId: "2".repeat(32) });
    const bad = pair.simulator({ seed: 22, jobId: "3".repeat(32) });
    await good.run({ count: 2 });
    await bad.run({ count: 1 });
    const src = pair.storage("hdfs1");
    const badDir = `${SOURCE_ROOT}/${"3".repeat(32)}/chk-1`;
    await src.write(`${badDir}/_metadata`, Buffer.from("this is not a Flink _metadata file"), { overwrite: true });
    await new Promise((r) => setTimeout(r, 1100)); // older than scan.corruptAfter: corrupt, not "being written"
    await cycleUntil(engine, () => engine.status().jobs.find((j) => j.job === "2".repeat(32))?.newestPublishedCheckpoint === 2);
    await engine.cycle({ wait: true });
    const badStatus = engine.status().jobs.find((j) => j.job === "3".repeat(32))!;
    expect(badStatus.totals.corruptMetadata).toBe(1);
    expect(badStatus.newestPublishedCheckpoint).toBeNull();
    expect(badStatus.lastError).toBeNull();
    await engine.stop();
  });

  it("publishes the _metadata whose closure it planned: one rewritten in place after it was parsed is read again and refused", async () => {
    const config = await pair.config();
    const jobId = "4".repeat(32);
    const sim = pair.simulator({ seed: 23, jobId });
    await sim.run({ count: 1 });
    const src = pair.storage("hdfs1");
    const metadataPath = `${SOURCE_ROOT}/${jobId}/chk-1/_metadata`;
    const original = await readSmallFile(src, metadataPath, 1 << 24);
    // The same length, other bytes: one character of a referenced file's name changed, written between the
    // engine's first read of the _metadata (parsed, its closure planned) and its read for publishing.
    const at = original.indexOf(Buffer.from("/shared/"));
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(original);
    tampered[at + 8] = tampered[at + 8] === 0x78 ? 0x79 : 0x78;
    let metadataReads = 0;
    const source = sourceWithReadHook(config, async (path) => {
      if (path === metadataPath && ++metadataReads === 2) await src.write(metadataPath, tampered, { overwrite: true });
    });
    const { engine, target } = engineFor(config, source);
    await engine.start();
    const errors: unknown[] = [];
    engine.events.subscribe((e) => {
      if (e.type === "job-error") errors.push(e.error);
    });
    await engine.cycle({ wait: true });
    expect(metadataReads).toBeGreaterThanOrEqual(2);
    expect(errors.filter((e) => e instanceof MetadataChangedError).map((e) => (e as MetadataChangedError).path)).toEqual([metadataPath]);
    expect(await target.stat(`${TARGET_ROOT}/${jobId}/chk-1/_metadata`)).toBeNull();
    // Later cycles plan the version that is there now, which names a file the source never had: never published.
    for (let i = 0; i < 3; i++) await engine.cycle({ wait: true });
    expect(await target.stat(`${TARGET_ROOT}/${jobId}/chk-1/_metadata`)).toBeNull();
  });

  it("publishes a checkpoint whose files were all copied although Flink subsumed it (deleted its _metadata) during the copy", async () => {
    const config = await pair.config();
    const jobId = "5".repeat(32);
    const sim = pair.simulator({ seed: 24, jobId });
    await sim.run({ count: 1 });
    const src = pair.storage("hdfs1");
    const metadataPath = `${SOURCE_ROOT}/${jobId}/chk-1/_metadata`;
    let deleted = false;
    const source = sourceWithReadHook(config, async (path) => {
      if (deleted || path.endsWith("/_metadata")) return;
      deleted = true;
      await src.delete(metadataPath); // the state files stay until the copy is over (Flink deletes the _metadata first)
    });
    const { engine, target } = engineFor(config, source);
    await engine.start();
    await engine.cycle({ wait: true });
    expect(deleted).toBe(true);
    const verdicts = await targetVerdicts(config, target);
    expect(verdicts.map((v) => [v.unit, v.state])).toEqual([["chk-1", "restorable"]]);
    await engine.stop();
  });
});
