// Large checkpoints take turns across jobs (large-checkpoints.ts): with two jobs'
// 1,200-file checkpoints to copy, the second is not planned or copied while the
// first is, so a first sync holds one large plan at a time, not one per job; a
// third job's small fresh checkpoint is published meanwhile, without waiting
// for either. The first large checkpoint's uploads are held (fault injection)
// to force the overlap the bound must prevent.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { metadataForGeneratedJob } from "../../src/bench/engine-scale.js";
import { parseConfigText } from "../../src/config/load.js";
import { Engine } from "../../src/replication/index.js";
import { LARGE_CHECKPOINT_FILES, LargeCheckpointTurns, Turns, VERIFY_SLOTS } from "../../src/replication/large-checkpoints.js";
import { LocalStorage } from "../../src/storage/local.js";
import type { Storage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { targetVerdicts } from "../helpers/replication.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "large-checkpoints-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LARGE = LARGE_CHECKPOINT_FILES + 200;

/** A job directory with one complete checkpoint referencing `files` zero-length shared files. */
async function generatedJob(name: string, files: number): Promise<void> {
  const jobDir = `${dir}/src/${name}`;
  await mkdir(`${jobDir}/shared`, { recursive: true });
  await mkdir(`${jobDir}/chk-1`, { recursive: true });
  for (let f = 0; f < files; f++) await writeFile(`${jobDir}/shared/${String(f).padStart(8, "0")}-sst`, "");
  await writeFile(`${jobDir}/chk-1/_metadata`, metadataForGeneratedJob(jobDir, files, "file:"));
}

/** The target, with every upload into a large job's shared/ held until release() and recorded in order. */
function heldTarget(inner: Storage) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const uploads: string[] = [];
  const storage = new Proxy(inner, {
    get(t, prop, receiver) {
      if (prop !== "write") return Reflect.get(t, prop, receiver) as unknown;
      return async (path: string, ...rest: unknown[]) => {
        const job = /\/(large-[ab])\/shared\//.exec(path)?.[1];
        if (job !== undefined) {
          uploads.push(job);
          await released;
        }
        return (t.write as (...a: unknown[]) => Promise<unknown>).call(t, path, ...rest);
      };
    },
  });
  return { storage, uploads, release };
}

describe("engine: large checkpoints take turns", () => {
  it("copies one job's large checkpoint at a time and publishes a small fresh one meanwhile", async () => {
    await generatedJob("large-a", LARGE);
    await generatedJob("large-b", LARGE);
    await generatedJob("small", 5);
    const config = await parseConfigText(`source: {}\ntarget: {}\npaths: [{source: "file://${dir}/src", target: "file://${dir}/dr"}]\nmetrics: false\n`, "t.yaml", {});
    const target = heldTarget(new LocalStorage("dr"));
    const published: string[] = [];
    const engine = new Engine({
      config,
      source: new LocalStorage("src"),
      target: target.storage,
      logger: silentLogger,
      useLease: false,
      hooks: { onPublished: (e) => published.push(e.job) },
    });
    const cycle = engine.cycle({ wait: true });
    // The small job is published while the first large checkpoint's uploads are held.
    const deadline = Date.now() + 20_000;
    while (!published.includes("small") || target.uploads.length === 0) {
      if (Date.now() > deadline) throw new Error(`small job not published beside the held large copy (published: ${published.join(", ")})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200)); // room for the other large job to start, were it allowed to
    const first = target.uploads[0];
    expect(new Set(target.uploads)).toEqual(new Set([first])); // the other large job has not uploaded anything
    expect(published).toEqual(["small"]);
    const waiting = engine.status().jobs.find((j) => j.job !== first && j.job.startsWith("large-"));
    expect(waiting?.phase).toBe("planning"); // waiting for its turn, nothing of it copied yet
    expect(waiting?.totals.filesCopied).toBe(0);

    target.release();
    const report = await cycle;
    expect([...report.outcomes.values()].every((o) => o.publishedNow.length === 1)).toBe(true);
    expect(published.sort()).toEqual(["large-a", "large-b", "small"]);
    // Every upload of one large checkpoint came before any of the other's: one switch in the sequence.
    const switches = target.uploads.filter((j, i) => i > 0 && j !== target.uploads[i - 1]).length;
    expect(switches).toBe(1);
    expect(target.uploads.length).toBe(2 * LARGE);
    const verdicts = await targetVerdicts(config, new LocalStorage("dr"));
    expect(verdicts.map((v) => `${v.job}/${v.unit}:${v.state}`).sort()).toEqual(["large-a/chk-1:restorable", "large-b/chk-1:restorable", "small/chk-1:restorable"]);
    await engine.stop();
  });

  it("lets at most VERIFY_SLOTS jobs list and re-verify their target at once", async () => {
    const jobs = VERIFY_SLOTS + 3;
    for (let j = 0; j < jobs; j++) await generatedJob(`job-${j}`, 3);
    const config = await parseConfigText(`source: {}\ntarget: {}\npaths: [{source: "file://${dir}/src", target: "file://${dir}/dr"}]\nmetrics: false\n`, "t.yaml", {});
    // Every target listing below a job directory is slowed down, so that syncs allowed to overlap do overlap
    // (the cycle's own scan lists only the root and the job directories of an unchanged tree).
    const listing = new Map<string, number>();
    let slow = false;
    let most = 0;
    const inner = new LocalStorage("dr");
    const target = new Proxy(inner, {
      get(t, prop, receiver) {
        if (prop !== "list") return Reflect.get(t, prop, receiver) as unknown;
        return async (path: string, ...rest: unknown[]) => {
          const job = /\/dr\/(job-\d+)\/./.exec(path)?.[1];
          if (!slow || job === undefined) return (t.list as (...a: unknown[]) => Promise<unknown>).call(t, path, ...rest);
          listing.set(job, (listing.get(job) ?? 0) + 1);
          most = Math.max(most, [...listing.values()].filter((n) => n > 0).length);
          try {
            await new Promise((r) => setTimeout(r, 30));
            return await (t.list as (...a: unknown[]) => Promise<unknown>).call(t, path, ...rest);
          } finally {
            listing.set(job, (listing.get(job) ?? 1) - 1);
          }
        };
      },
    });
    const engine = new Engine({ config, source: new LocalStorage("src"), target, logger: silentLogger, useLease: false });
    const first = await engine.cycle({ wait: true });
    expect([...first.outcomes.values()].filter((o) => o.publishedNow.length === 1).length).toBe(jobs);
    await engine.cycle({ wait: true }); // the scan's cache settles (the published directories changed)
    await new Promise((r) => setTimeout(r, 100));
    await engine.cycle({ wait: true });
    slow = true;
    const warm = await engine.cycle({ wait: true }); // every job lists its target afresh and re-verifies its checkpoint
    expect(warm.started.length).toBe(jobs);
    expect([...warm.outcomes.values()].every((o) => o.upToDate)).toBe(true);
    expect(most).toBe(VERIFY_SLOTS);
    await engine.stop();
  });

  it("tells large checkpoints from small ones, runs turns in order and drops a waiting one on abort", async () => {
    const large = new LargeCheckpointTurns(1, 10, 100);
    expect(large.isLarge(10, 100)).toBe(false); // few files to copy, a plan of 100: no turn
    expect(large.isLarge(11, 0)).toBe(true);
    expect(large.isLarge(0, 101)).toBe(true); // nothing to copy, but a big plan
    const turns = new Turns(1);
    const release = await turns.acquire();
    const order: string[] = [];
    const second = turns.run(async () => {
      order.push("second");
      return "second";
    });
    const controller = new AbortController();
    const aborted = turns.acquire(controller.signal);
    expect(turns.running).toBe(1);
    expect(turns.waiting).toBe(2);
    controller.abort(new Error("stopping"));
    await expect(aborted).rejects.toThrow("stopping");
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]); // held until released
    release();
    expect(await second).toBe("second");
  });
});
