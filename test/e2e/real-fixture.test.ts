// A real retained checkpoint written by Flink on a real HDFS cluster (from
// ../shared), placed on the emulated source with state files of the recorded
// sizes: the replicator publishes it restorable on the target, its paths
// rewritten to the target cluster and nothing else in it changed.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { parseMetadata, parsePathMap, referenceClosure, rewriteMetadataPaths } from "../../src/flink/index.js";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { describeWithShared } from "../helpers/shared.js";
import { startSandboxPair, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

const FIXTURE = "realworld-flink-1.x-rocksdb-incremental-checkpoint-hdfs";
const JOB = "1fe80538d21e27d116185cd97e89294e";

describeWithShared("real Flink checkpoint through the replicator", (shared) => {
  let pair: SandboxPair;
  beforeEach(async () => {
    pair = await startSandboxPair();
  });
  afterEach(async () => {
    await pair.close();
  });

  it("publishes the real chk-513 restorable on the target with rewritten paths", async () => {
    const bytes = await readFile(join(shared, "fixtures", "flink-metadata", FIXTURE, "_metadata"));
    const original = parseMetadata(bytes);
    const chkDir = `/user/flink/checkpoints/${JOB}/chk-513`;
    const refs = referenceClosure(original, `hdfs:${chkDir}`);
    const source = pair.storage("hdfs1");
    for (const r of refs) {
      const path = r.location.replace(/^hdfs:/, "");
      await source.mkdirs(path.slice(0, path.lastIndexOf("/")));
      await source.write(path, Buffer.alloc(Math.max(0, r.size), 7));
    }
    await source.write(`${chkDir}/_metadata`, bytes);

    const config = await pair.config("paths: [{source: /user/flink/checkpoints, target: /dr/flink}]\n");
    const target = createStorage(config.target, silentLogger);
    const engine = new Engine({ config, source: createStorage(config.source, silentLogger), target, logger: silentLogger });
    await engine.start();
    try {
      await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 513);
      const [v] = await targetVerdicts(config, target);
      expect(v).toMatchObject({ job: JOB, unit: "chk-513", state: "restorable", files: refs.length });

      const published = await readSmallFile(target, `/dr/flink/${JOB}/chk-513/_metadata`, 1 << 20);
      const copy = parseMetadata(published);
      const copyRefs = referenceClosure(copy, `hdfs://hdfs2/dr/flink/${JOB}/chk-513`);
      expect(copyRefs.map((r) => r.location)).toEqual(refs.map((r) => r.location.replace(/^hdfs:\/user\/flink\/checkpoints/, "hdfs://hdfs2/dr/flink")));
      expect(copyRefs.map((r) => r.size)).toEqual(refs.map((r) => r.size));
      // Only the paths changed: with them mapped back, the bytes are the original's.
      const back = rewriteMetadataPaths(published, parsePathMap(["hdfs://hdfs2/dr/flink=hdfs:/user/flink/checkpoints"]), { strict: true });
      expect(back.bytes.equals(bytes)).toBe(true);
    } finally {
      await engine.stop();
      target.close();
    }
  });
});
