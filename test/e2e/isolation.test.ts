// Promise 4: bad input and unexpected server answers hit one job, with a clear
// error naming what and where, while the daemon keeps serving the other jobs.
// Also: a crash between publishing a _metadata and writing its record heals.

import { afterEach, beforeEach, expect, it } from "vitest";
import { Engine } from "../../src/replication/index.js";
import { recordPath } from "../../src/replication/layout.js";
import { createStorage } from "../../src/storage/factory.js";
import type { Storage } from "../../src/storage/types.js";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { silentLogger } from "../../src/util/log.js";
import type { Config } from "../../src/config/load.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil } from "../helpers/replication.js";

let pair: SandboxPair;
let open: Storage[] = [];
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  for (const s of open) s.close();
  open = [];
  await pair.close();
});

const A = "a1".repeat(16);
const B = "b2".repeat(16);

function engineFor(config: Config): { engine: Engine; target: Storage } {
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  open.push(source, target);
  return { engine: new Engine({ config, source, target, logger: silentLogger }), target };
}

it("a job whose target directory refuses writes fails alone, with the remote exception in its status", async () => {
  const config = await pair.config();
  await pair.simulator({ seed: 51, jobId: A }).run({ count: 2 });
  await pair.simulator({ seed: 52, jobId: B }).run({ count: 2 });
  // An operator created B's target directory as another user, read-only for the replicator.
  const admin = new WebHdfsStorage(new WebHdfsClient({ name: "hdfs2", namenodes: pair.sandbox.endpoints.clusters.hdfs2!.namenodes, user: "hdfs" }));
  open.push(admin);
  const { engine, target } = engineFor(config);
  await target.mkdirs(TARGET_ROOT); // the replicator's own root...
  await admin.mkdirs(`${TARGET_ROOT}/${B}`); // ...with one job directory it may not write into
  await engine.start();
  try {
    await cycleUntil(engine, () => engine.status().jobs.find((j) => j.job === A)?.newestPublishedCheckpoint === 2);
    await engine.cycle({ wait: true });
    const b = engine.status().jobs.find((j) => j.job === B)!;
    expect(b.newestPublishedCheckpoint).toBeNull();
    expect(b.lastError).toMatch(/hdfs2: .*\/dr\/flink\/b2b2.* \(403 AccessControlException\): Permission denied: user=replicator/);
    expect(b.totals.errors).toBeGreaterThan(0);
  } finally {
    await engine.stop();
  }
}, 60_000);

it("unexpected server answers for one job's listing leave the other jobs replicating", async () => {
  const config = await pair.config();
  await pair.simulator({ seed: 53, jobId: A }).run({ count: 2 });
  await pair.simulator({ seed: 54, jobId: B }).run({ count: 2 });
  pair.sandbox.faults.add({
    cluster: "hdfs1",
    role: "namenode",
    op: "LISTSTATUS_BATCH",
    pathPrefix: `${SOURCE_ROOT}/${B}`,
    times: "always",
    action: { kind: "error", status: 500, javaClassName: "java.lang.NullPointerException", message: null },
  });
  const { engine, target } = engineFor(config);
  await engine.start();
  try {
    await cycleUntil(engine, () => engine.status().jobs.find((j) => j.job === A)?.newestPublishedCheckpoint === 2);
    const b = engine.status().jobs.find((j) => j.job === B)!;
    expect(b.newestPublishedCheckpoint).toBeNull();
    expect(b.lastError).toMatch(/incomplete listing: cannot list \/flink\/checkpoints\/b2b2.*500 NullPointerException/);
    expect(await target.stat(`${TARGET_ROOT}/${B}`)).toBeNull(); // nothing half-done for B
  } finally {
    await engine.stop();
  }
}, 60_000);

it("a publish whose record was never written (crash in between) gets its record on restart", async () => {
  const config = await pair.config();
  await pair.simulator({ seed: 55, jobId: A }).run({ count: 1 });
  const first = engineFor(config);
  await first.engine.start();
  await cycleUntil(first.engine, () => first.engine.status().jobs[0]?.newestPublishedCheckpoint === 1);
  await first.engine.stop();
  const record = recordPath(TARGET_ROOT, A, "chk-1");
  expect(await first.target.stat(record)).not.toBeNull();
  await first.target.delete(record);

  const second = engineFor(config);
  await second.engine.start();
  try {
    await second.engine.cycle({ wait: true });
    expect(await second.target.stat(record)).not.toBeNull();
    expect(second.engine.status().jobs[0]?.totals.filesCopied).toBe(0); // nothing copied again
  } finally {
    await second.engine.stop();
  }
});
