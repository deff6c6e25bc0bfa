// The replicator against the shapes Flink writes: format versions 3 to 5,
// absolute or relative exclusive paths, unaligned-checkpoint channel state,
// file-merging segments under taskowned/, inline state. Each must arrive
// restorable, with its absolute paths on the target cluster.

import { afterEach, beforeEach, expect, it } from "vitest";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import type { SimulatorOptions } from "../../src/sandbox/simulator/index.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

it.each<[string, Partial<SimulatorOptions>]>([
  ["format 3 (Flink 1.11-1.15), absolute paths", { formatVersion: 3, paths: "absolute" }],
  ["format 5 (Flink 2.x), relative paths, inline state", { formatVersion: 5, paths: "relative", inlineState: true }],
  ["unaligned checkpoints with channel state", { channelState: true }],
  ["file merging: segments of task-owned files", { taskOwnedState: true, formatVersion: 4 }],
])("%s", async (_name, variant) => {
  const config = await pair.config();
  const job = "e7".repeat(16);
  const sim = pair.simulator({ seed: 91, jobId: job, ...variant });
  await sim.run({ count: 3 });
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  const engine = new Engine({ config, source, target, logger: silentLogger });
  await engine.start();
  try {
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 3);
    const [v] = await targetVerdicts(config, target);
    expect(v).toMatchObject({ checkpointId: 3, state: "restorable" });
    const expected = sim.retained().find((c) => c.id === 3)!.files.length;
    expect(v!.files).toBe(expected);
    const md = parseMetadata(await readSmallFile(target, `${v!.dir}/_metadata`, 1 << 20));
    for (const r of referenceClosure(md, `hdfs://hdfs2${v!.dir}`)) {
      expect(r.location.startsWith(`hdfs://hdfs2${TARGET_ROOT}/${job}/`)).toBe(true);
    }
  } finally {
    await engine.stop();
  }
});
