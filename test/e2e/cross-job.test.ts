// A job restored from another job's checkpoint keeps referencing that job's
// shared files (hdfs://.../<old-job>/shared/...). The old job's reaper must not
// delete such a file on the target while a kept checkpoint of the new job needs
// it, even after the source has deleted it.

import { afterEach, beforeEach, expect, it } from "vitest";
import { buildCheckpointMetadata, serializeMetadata } from "../../src/flink/index.js";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import type { Storage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

const OLD = "0a".repeat(16);
const NEW = "0b".repeat(16);

/** A checkpoint whose keyed state is one private file plus the given absolute shared files. */
async function writeCheckpoint(storage: Storage, job: string, id: number, shared: string[]): Promise<void> {
  const dir = `${SOURCE_ROOT}/${job}/chk-${id}`;
  await storage.mkdirs(dir);
  await storage.write(`${dir}/meta`, Buffer.alloc(300, 1));
  const md = buildCheckpointMetadata({
    version: 4,
    checkpointId: id,
    operators: [
      {
        operatorId: "ffeeddccbbaa99887766554433221100",
        parallelism: 1,
        subtasks: [
          {
            index: 0,
            keyed: {
              kind: "incremental",
              keyGroups: { start: 0, count: 128 } as never,
              meta: { relative: "meta", size: 300 },
              shared: shared.map((p, i) => ({ localPath: `${i}.sst`, file: { absolute: `hdfs://hdfs1${p}`, size: 4096 } })),
              private: [],
            },
          },
        ],
      },
    ],
  });
  await storage.write(`${dir}/_metadata`, serializeMetadata(md));
}

it("keeps the old job's shared file that the new job's kept checkpoint references", async () => {
  const source = pair.storage("hdfs1");
  const x = `${SOURCE_ROOT}/${OLD}/shared/x-sst`;
  const y = `${SOURCE_ROOT}/${OLD}/shared/y-sst`;
  await source.mkdirs(`${SOURCE_ROOT}/${OLD}/shared`);
  await source.write(x, Buffer.alloc(4096, 2));
  await writeCheckpoint(source, OLD, 1, [x]);
  // The new job was restored from the old one's chk-1 and still references x.
  await writeCheckpoint(source, NEW, 5, [x]);

  const config = await pair.config("retain: {min: 1, max: 3}\n");
  const target = createStorage(config.target, silentLogger);
  const engine = new Engine({ config, source: createStorage(config.source, silentLogger), target, logger: silentLogger });
  await engine.start();
  try {
    await cycleUntil(engine, async () => (await targetVerdicts(config, target)).length === 2);

    // On the source: the old job moves on (chk-2 without x, chk-1 and x deleted); the new job's chk-5 is
    // subsumed by a chk-6 whose _metadata is not written yet, so the target keeps chk-5 (retain.min).
    await source.write(y, Buffer.alloc(4096, 3));
    await writeCheckpoint(source, OLD, 2, [y]);
    await source.delete(`${SOURCE_ROOT}/${OLD}/chk-1`, { recursive: true });
    await source.delete(x);
    await source.delete(`${SOURCE_ROOT}/${NEW}/chk-5`, { recursive: true });
    await source.mkdirs(`${SOURCE_ROOT}/${NEW}/chk-6`);

    await cycleUntil(engine, () => engine.status().jobs.find((j) => j.job === OLD)?.newestPublishedCheckpoint === 2);
    await engine.cycle({ wait: true });
    const verdicts = await targetVerdicts(config, target);
    const fromNew = verdicts.find((v) => v.job === NEW);
    expect(fromNew).toMatchObject({ unit: "chk-5", state: "restorable" });
    expect(await target.stat(`${TARGET_ROOT}/${OLD}/shared/x-sst`)).not.toBeNull();
    // The old job's own subsumed checkpoint is gone: retention still works around the shared file.
    expect(verdicts.filter((v) => v.job === OLD).map((v) => v.unit)).toEqual(["chk-2"]);
  } finally {
    await engine.stop();
    target.close();
  }
});
