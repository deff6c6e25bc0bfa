// Issue 10: with many transfers in flight the lease renewal must not wait behind them. Every
// target upload is held at the NameNode (CREATE under the job's directory stalls 7 s, past the
// 3 s ttl) while 64 transfers are in flight, which fills the target's NameNode connection pool; the
// lease must stay renewed the whole time.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStorage } from "../../src/storage/factory.js";
import { Engine } from "../../src/replication/index.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

describe("lease renewal under saturated transfers", () => {
  it("stays renewed while every NameNode connection of the copies is stalled past the ttl", async () => {
    const job = "e".repeat(32);
    const config = await pair.config("copy: {concurrency: 32, smallFiles: {concurrency: 32, maxSize: 4KiB}}\nlease: {ttl: 3s}\n");
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    const engine = new Engine({ config, source, target, logger: silentLogger });
    try {
      // One checkpoint of ~200 files of about 4 KiB, split by size between the two lanes (32 + 32 in flight).
      await pair.simulator({ jobId: job, operators: 4, parallelism: 25, inlineState: false, stateSizeBytes: 200 * 1024 }).run({ count: 1 });
      await engine.start();
      let stalled = 0;
      const stop = pair.sandbox.faults.observe((r) => {
        if (r.cluster === "hdfs1" && r.role === "namenode" && r.op === "OPEN") stalled++;
      });
      const stall = pair.sandbox.faults.add({
        cluster: "hdfs2", role: "namenode", op: "CREATE", pathPrefix: `${TARGET_ROOT}/${job}/`, times: "always", action: { kind: "latency", ms: 7000 },
      });
      const cycle = engine.cycle({ wait: true }).catch((err: unknown) => err);
      // Each transfer opens its source before it creates the target file: 64 opens = 64 uploads held.
      const begun = performance.now();
      while (stalled < 64 && performance.now() - begun < 30_000) await new Promise((r) => setTimeout(r, 20));
      expect(stalled).toBeGreaterThanOrEqual(64);
      // Watch the lease for 4 s while the uploads stay held (7 s): a starved renewal lapses within
      // ttl/2 + ttl/4 = 2.25 s (the last renewal before the pool filled, then no successful one).
      const lapses: string[] = [];
      const watchUntil = performance.now() + 4000;
      while (performance.now() < watchUntil) {
        try {
          engine.lease!.assertHeld();
        } catch (err) {
          lapses.push((err as Error).message);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      stop();
      // The held uploads are not waited for: stopping aborts them.
      await engine.stop();
      await cycle;
      pair.sandbox.faults.remove(stall);
      expect(lapses).toEqual([]);
    } finally {
      await engine.stop();
      source.close();
      target.close();
    }
  }, 90_000);
});
