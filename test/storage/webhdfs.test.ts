// WebHdfsStorage against the Storage contract, on the emulated cluster.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { storageContract } from "./contract.js";

let stateDir: string;
let sandbox: Sandbox;
let storage: WebHdfsStorage;
let n = 0;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "webhdfs-storage-"));
  sandbox = await startSandbox({ stateDir, clusters: ["hdfs1"] });
  storage = new WebHdfsStorage(
    new WebHdfsClient({ name: "hdfs1", namenodes: sandbox.endpoints.clusters.hdfs1!.namenodes, user: "flink", requestTimeoutMs: 5000, retry: { baseDelayMs: 10, maxDelayMs: 50 } }),
  );
});
afterAll(async () => {
  storage?.close();
  await sandbox?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

storageContract("WebHdfsStorage", async () => {
  const dir = `/contract/t${n++}`;
  await storage.mkdirs(dir);
  return { storage, dir };
});
