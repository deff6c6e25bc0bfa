// Issue 7, bug 1: with slow copies and a job that keeps one checkpoint, the
// reaper used to delete published, restorable checkpoints (planned from a stale
// cached listing) and the same checkpoint was published several times. Sampled
// while it runs: once a checkpoint is restorable on the target, there always is
// one; no checkpoint is published twice; the only deletions of published
// checkpoints are retention's.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine, type PublishedEvent } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

describe("the target never loses its newest restorable checkpoint (issue 7, bug 1)", () => {
  it("holds with slow copies, Flink retaining one checkpoint and retain 1/2", async () => {
    const job = "1a".repeat(16);
    const config = await pair.config("retain: {min: 1, max: 2}\ncopy: {bandwidth: 600KiB, concurrency: 4}\n");
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    const published: PublishedEvent[] = [];
    const deletions: { path: string; reason: string }[] = [];
    const engine = new Engine({
      config,
      source,
      target,
      logger: silentLogger,
      hooks: { onPublished: (e) => published.push(e), onDeleted: (_j, path, reason) => deletions.push({ path, reason }) },
    });
    await engine.start();
    const sim = pair.simulator({ seed: 91, jobId: job, retained: 1, intervalMs: 700, stateSizeBytes: 600 * 1024 });
    // Like the daemon: cycles keep scanning while a job's copy runs in the background.
    let cycling = true;
    const loopDone = (async () => {
      while (cycling) {
        await engine.cycle({ wait: false }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 60));
      }
    })();
    const loop = { stop: async () => { cycling = false; await loopDone; await engine.drain(); } };
    let everRestorable = false;
    const gaps: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const ok = (await targetVerdicts(config, target)).filter((v) => v.state === "restorable");
          if (ok.length > 0) everRestorable = true;
          else if (everRestorable) gaps.push(new Date().toISOString());
        } catch {
          // a sample that cannot read the target says nothing
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    try {
      await sim.run({ count: 8 });
      const newest = Math.max(...sim.retained().map((c) => c.id));
      const deadline = Date.now() + 60_000;
      while (engine.status().jobs[0]?.newestPublishedCheckpoint !== newest && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await loop.stop();
      await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === newest, 30_000);
    } finally {
      sampling = false;
      await sampler;
      await loop.stop();
      await engine.stop();
      source.close();
      target.close();
    }
    expect(everRestorable).toBe(true);
    expect(gaps, "samples that found no restorable checkpoint after one had been").toEqual([]);
    const names = published.map((p) => p.unit);
    expect(names.length, `published: ${names.join(", ")}`).toBe(new Set(names).size);
    const metadataDeletions = deletions.filter((d) => d.path.endsWith("/_metadata"));
    for (const d of metadataDeletions) expect(d.reason).toMatch(/subsumed on the source|beyond retain.max/);
  }, 90_000);
});
