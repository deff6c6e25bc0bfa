// The simulator against the project's WebHDFS emulator through WebHdfsStorage:
// a short run whose retained checkpoints parse back (read over WebHDFS) to
// exactly the files on the cluster, and the simulate-job command with --namenode.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSimulateJob } from "../../../src/cli/commands/simulate-job.js";
import { startSandbox, type Sandbox } from "../../../src/sandbox/emulator/index.js";
import { FlinkJobSimulator, type RetainedCheckpoint } from "../../../src/sandbox/simulator/index.js";
import { WebHdfsStorage } from "../../../src/storage/webhdfs.js";
import { silentLogger } from "../../../src/util/log.js";
import { WebHdfsClient } from "../../../src/webhdfs/index.js";
import { fileTree, parsedClosure } from "./helpers.js";

let sandbox: Sandbox;
let stateDir: string;
let storage: WebHdfsStorage;
let namenodes: string[];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "simulator-emulator-"));
  sandbox = await startSandbox({ stateDir, clusters: ["hdfs1"] });
  namenodes = sandbox.endpoints.clusters.hdfs1!.namenodes;
  storage = new WebHdfsStorage(new WebHdfsClient({ name: "hdfs1", namenodes, user: "flink" }));
});

afterAll(async () => {
  storage?.close();
  await sandbox?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function expectTreeIsRetainedClosures(sim: FlinkJobSimulator, retained: RetainedCheckpoint[]): Promise<void> {
  const expected = new Map<string, number>();
  for (const c of retained) {
    expect(await parsedClosure(sim, storage, c)).toEqual(c.files.map(({ path, size }) => ({ path, size })));
    for (const f of c.files) expected.set(f.path, f.size);
    expected.set(c.metadataPath, c.metadataSize);
  }
  expect(new Map([...(await fileTree(storage, sim.jobDir))].sort())).toEqual(new Map([...expected].sort()));
}

describe("simulator on the WebHDFS emulator", () => {
  it("a short run leaves exactly the retained closures on the cluster", async () => {
    const sim = new FlinkJobSimulator({
      storage,
      fsUri: "hdfs://hdfs1",
      root: "/flink/checkpoints",
      stateSizeBytes: 256 * 1024,
      intervalMs: 0,
      retained: 2,
      channelState: true,
      taskOwnedState: true,
      formatVersion: 5,
      seed: 11,
    });
    await sim.run({ count: 3 });
    expect(sim.retained().map((c) => c.id)).toEqual([2, 3]);
    await expectTreeIsRetainedClosures(sim, sim.retained());
    const chk = await storage.list(sim.jobDir);
    expect(chk?.map((e) => e.name).sort()).toEqual(["chk-2", "chk-3", "shared", "taskowned"]);
  });

  it("simulate-job --namenode writes through WebHDFS as the given user", async () => {
    let out = "";
    const stdout = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    const sim = await runSimulateJob(
      { namenode: namenodes, root: "/cli/checkpoints", user: "alice", count: 2, interval: "10ms", stateSize: "64KiB", retained: 1, seed: 3, paths: "absolute" },
      { signal: new AbortController().signal, stdout, logger: silentLogger },
    );
    expect(out).toContain(`simulating job ${sim.jobId} in hdfs://hdfs1/cli/checkpoints/${sim.jobId}`);
    expect(out).toContain("retained: chk-2");
    await expectTreeIsRetainedClosures(sim, sim.retained());
    const owner = await storage.client.getFileStatus(sim.retained()[0]!.metadataPath);
    expect(owner).toMatchObject({ owner: "alice" });
  });
});
