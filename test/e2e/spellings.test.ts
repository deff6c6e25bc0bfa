// Flink spells one cluster several ways in its paths. Every configured spelling
// (uri, aliases, authority-less forms) maps to the target; a path on a cluster
// the config does not name makes that checkpoint unpublishable: counted and
// reported, never published, never a crash.

import { afterEach, beforeEach, expect, it } from "vitest";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { Engine, type EngineHooks } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile, type Storage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import type { Config } from "../../src/config/load.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

let pair: SandboxPair;
const open: Storage[] = [];
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await pair.close();
});

function engineFor(config: Config, hooks: EngineHooks = {}) {
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  open.push(source, target);
  return { engine: new Engine({ config, source, target, logger: silentLogger, hooks }), target };
}

it.each([
  ["a NameNode host:port alias", "hdfs://nn1.prod.example.com:8020", "source: {aliases: ['hdfs://nn1.prod.example.com:8020']}\n"],
  ["the authority-less form hdfs:/", "hdfs:", ""],
])("maps paths written with %s to the target cluster", async (_name, fsUri, extra) => {
  const config = await pair.config(extra);
  const job = "5".repeat(32);
  await pair.simulator({ seed: 61, jobId: job, fsUri }).run({ count: 2 });
  const { engine, target } = engineFor(config);
  await engine.start();
  try {
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
    const [newest] = await targetVerdicts(config, target);
    expect(newest?.state).toBe("restorable");
    const md = parseMetadata(await readSmallFile(target, `${newest!.dir}/_metadata`, 1 << 20));
    const absolute = referenceClosure(md, `hdfs://hdfs2${newest!.dir}`).filter((r) => !r.relative);
    expect(absolute.length).toBeGreaterThan(0);
    for (const r of absolute) expect(r.location.startsWith(`hdfs://hdfs2${TARGET_ROOT}/${job}/`)).toBe(true);
  } finally {
    await engine.stop();
  }
});

it("a checkpoint referencing another cluster is unpublishable, reported once, and other jobs go on", async () => {
  const config = await pair.config();
  const foreign = "6".repeat(32);
  const fine = "c".repeat(32);
  await pair.simulator({ seed: 62, jobId: foreign, fsUri: "hdfs://some-other-cluster" }).run({ count: 1 });
  await pair.simulator({ seed: 63, jobId: fine }).run({ count: 1 });
  const reports: string[][] = [];
  const { engine, target } = engineFor(config, { onUnpublishable: (_job, _unit, reasons) => reports.push(reasons) });
  await engine.start();
  try {
    await cycleUntil(engine, () => engine.status().jobs.find((j) => j.job === fine)?.newestPublishedCheckpoint === 1);
    await engine.cycle({ wait: true });
    const status = engine.status().jobs.find((j) => j.job === foreign)!;
    expect(status.totals.unpublishable).toBe(1);
    expect(status.newestPublishedCheckpoint).toBeNull();
    expect(reports).toHaveLength(1);
    expect(reports[0]![0]).toMatch(/^references hdfs:\/\/some-other-cluster\/flink\/checkpoints\/6+\/.*, which is not on the source cluster$/);
    expect(await target.stat(`${TARGET_ROOT}/${foreign}/chk-1/_metadata`)).toBeNull();
  } finally {
    await engine.stop();
  }
});
