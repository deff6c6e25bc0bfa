// Savepoints (savepoint-*/_metadata, with state files next to it referenced by
// relative paths) are replicated like checkpoints: each published once every
// file is there, restorable on the target, under the job or directly under a root.

import { afterEach, beforeEach, expect, it } from "vitest";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts, writeSavepoint } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

it("replicates savepoints in a job directory and at the root, each restorable on the target", async () => {
  const config = await pair.config();
  const source = pair.storage("hdfs1");
  const inJob = `${SOURCE_ROOT}/${"8".repeat(32)}/savepoint-888888-0123456789ab`;
  const atRoot = `${SOURCE_ROOT}/savepoint-abcdef-ba9876543210`;
  await writeSavepoint(source, inJob, { "3f1c0a2e-keyed": 70_000, "9b2d4e6f-operator": 1_234 });
  await writeSavepoint(source, atRoot, { "aa11-keyed": 5_000, "bb22-operator": 10 });
  const target = createStorage(config.target, silentLogger);
  const engine = new Engine({ config, source: createStorage(config.source, silentLogger), target, logger: silentLogger });
  await engine.start();
  try {
    await cycleUntil(engine, async () => (await targetVerdicts(config, target)).length === 2);
    const verdicts = await targetVerdicts(config, target);
    expect(verdicts.map((v) => [v.dir, v.kind, v.state]).sort()).toEqual(
      [
        [`${TARGET_ROOT}/${"8".repeat(32)}/savepoint-888888-0123456789ab`, "savepoint", "restorable"],
        [`${TARGET_ROOT}/savepoint-abcdef-ba9876543210`, "savepoint", "restorable"],
      ].sort(),
    );
    expect(verdicts.every((v) => v.files === 2)).toBe(true);
    // Published once: a further cycle copies nothing new.
    const copied = engine.status().jobs.reduce((n, j) => n + j.totals.filesCopied, 0);
    await engine.cycle({ wait: true });
    expect(engine.status().jobs.reduce((n, j) => n + j.totals.filesCopied, 0)).toBe(copied);
  } finally {
    await engine.stop();
    target.close();
  }
});
