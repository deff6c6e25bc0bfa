// Promise 2 under a target that cannot serve reads for a while (a DataNode restarting, a NameNode
// failing over): a published checkpoint whose _metadata cannot be read right now is not broken. A
// replicator with a cold cache (just restarted) that finds its checkpoints' _metadata unreadable keeps
// them; none is unpublished, and the newest stays restorable even when the source has long subsumed it.
// Judged from a separate client's listing of hdfs2, not from the engine's own view.

import { afterEach, beforeEach, expect, it } from "vitest";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

const JOB = "c3".repeat(16);

/** The chk-N directories of the job on hdfs2 that hold a _metadata, from a client of its own. */
async function publishedOnTarget(): Promise<string[]> {
  const hdfs2 = pair.storage("hdfs2");
  const out: string[] = [];
  for (const e of (await hdfs2.list(`${TARGET_ROOT}/${JOB}`)) ?? []) {
    if (e.type === "dir" && e.name.startsWith("chk-") && (await hdfs2.stat(`${TARGET_ROOT}/${JOB}/${e.name}/_metadata`)) !== null) out.push(e.name);
  }
  return out.sort();
}

it.each([
  ["the DataNode resets every read", { kind: "reset" } as const],
  ["the DataNode answers 500 to every read", { kind: "error", status: 500, javaClassName: "java.io.IOException", message: "DataNode restarting" } as const],
])("a restarted replicator keeps its published checkpoints while %s of their _metadata", async (_why, action) => {
  const config = await pair.config("retain: {min: 1, max: 2}\n");
  const sim = pair.simulator({ seed: 61, jobId: JOB, retained: 1 });
  await sim.run({ count: 2 });
  const first = pair.engine(config);
  await first.start();
  try {
    await cycleUntil(first, () => first.status().jobs.find((j) => j.job === JOB)?.newestPublishedCheckpoint === 2);
  } finally {
    await first.stop();
  }
  // The source moves on and subsumes what the target holds: nothing there could be copied again.
  await sim.run({ count: 2 });
  const before = await publishedOnTarget();
  expect(before).toContain("chk-2");

  // hdfs2's DataNode cannot serve the job's files (nor take new ones, so nothing newer is published and
  // nothing is reaped for it); its NameNode lists them as before.
  const faults = ["OPEN", "CREATE"].map((op) => pair.sandbox.faults.add({ cluster: "hdfs2", role: "datanode", op, pathPrefix: `${TARGET_ROOT}/${JOB}`, times: "always", action }));
  const second = pair.engine(config);
  await second.start();
  try {
    for (let i = 0; i < 3; i++) await second.cycle({ wait: true });
    expect(await publishedOnTarget()).toEqual(before);
  } finally {
    for (const f of faults) pair.sandbox.faults.remove(f);
  }
  try {
    // Once it can read again it goes on as usual: the source's newer checkpoints are published.
    await cycleUntil(second, () => second.status().jobs.find((j) => j.job === JOB)?.newestPublishedCheckpoint === 4);
  } finally {
    await second.stop();
  }
}, 90_000);
