// Issue 7, bug 8: a checkpoint whose file is gone from the source is abandoned and
// said once (one warning, one count), not on every cycle while it stays there.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, SOURCE_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

describe("a checkpoint missing a source file (issue 7, bug 8)", () => {
  it("is abandoned once, however many cycles see it", async () => {
    const job = "ab".repeat(16);
    const sim = pair.simulator({ seed: 95, jobId: job, retained: 2 });
    await sim.run({ count: 1 });
    const dir = `${SOURCE_ROOT}/${job}/chk-1`;
    const hdfs1 = pair.storage("hdfs1");
    const md = parseMetadata(await readSmallFile(hdfs1, `${dir}/_metadata`, 1 << 20));
    const victim = referenceClosure(md, `hdfs://hdfs1${dir}`).find((r) => r.shared)!;
    await hdfs1.delete(victim.location.replace("hdfs://hdfs1", ""));
    const config = await pair.config();
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    const abandoned: string[] = [];
    const engine = new Engine({ config, source, target, logger: silentLogger, hooks: { onAbandoned: (_j, unit, reason) => abandoned.push(`${unit}:${reason}`) } });
    await engine.start();
    try {
      for (let i = 0; i < 6; i++) await engine.cycle({ wait: true });
      expect(abandoned).toEqual(["chk-1:missing-file"]);
      expect(engine.status().jobs[0]?.totals.abandonedMissing).toBe(1);
      expect(engine.status().jobs[0]?.newestPublishedCheckpoint).toBeNull();
    } finally {
      await engine.stop();
      source.close();
      target.close();
    }
  }, 60_000);
});
