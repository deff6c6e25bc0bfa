// Issue 7, bug 7: a job restarted with the same job id writes into the same
// directory and counts its checkpoints from 1 again. The new run's checkpoints are
// newer by completion time: they are published at once (not after the ids pass
// the old maximum), `latest` picks them, and the status says a new run started.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine, newestRestorable } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, SOURCE_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

describe("a job directory reused by a new run (issue 7, bug 7)", () => {
  it("publishes the new run's checkpoints at once and recommends them", async () => {
    const job = "8".repeat(32);
    const config = await pair.config("retain: {min: 1, max: 2}\n");
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    const engine = new Engine({ config, source, target, logger: silentLogger });
    await engine.start();
    try {
      const first = pair.simulator({ seed: 81, jobId: job, retained: 2 });
      for (let i = 1; i <= 6; i++) {
        await first.checkpointOnce();
        await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === i);
      }
      // The job is cancelled and its checkpoints cleaned up; it restarts with the same id, ids from 1 again.
      for (const e of (await source.list(`${SOURCE_ROOT}/${job}`)) ?? []) {
        if (e.name.startsWith("chk-")) await pair.storage("hdfs1").delete(`${SOURCE_ROOT}/${job}/${e.name}`, { recursive: true });
      }
      await new Promise((r) => setTimeout(r, 20));
      const second = pair.simulator({ seed: 82, jobId: job, retained: 2 });
      await second.checkpointOnce();
      await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 1, 15_000);
      const status = engine.status().jobs[0]!;
      expect(status.newRunDetectedAt).not.toBeNull();
      expect(status.lagSeconds).toBe(0);
      const best = newestRestorable(await targetVerdicts(config, target), job);
      expect(best?.unit).toBe("chk-1");
      expect(best?.metadataMtime).toBe((await source.stat(`${SOURCE_ROOT}/${job}/chk-1/_metadata`))?.mtime);

      // The new run goes on; the old run's checkpoints are reaped by retention, the new ones kept.
      await second.checkpointOnce();
      await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
      await engine.cycle({ wait: true });
      const units = (await targetVerdicts(config, target)).map((v) => [v.unit, v.state]);
      expect(units).toEqual([["chk-2", "restorable"], ["chk-1", "restorable"]]);
    } finally {
      await engine.stop();
      source.close();
      target.close();
    }
  }, 60_000);
});
