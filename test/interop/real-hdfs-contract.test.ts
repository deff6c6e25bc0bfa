// The Storage contract (test/storage/contract.ts) against a real HDFS: the harness's MiniDFSCluster
// (interop.Cluster: HA, two NameNodes and a DataNode, real WebHDFS), the same cases the emulated
// cluster, local files and S3 pass. Without Java 17 or Maven it is skipped with the reason printed
// (under CI=true that is a failure). The Maven build is the one `npm run interop` uses (same
// output directory), so the interop run finds it built.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { storageContract } from "../storage/contract.js";
import { buildInterop, startMiniDfs, type MiniDfs } from "./minidfs.js";

function toolchainMissing(): string | null {
  const missing = ["java", "mvn"].filter((t) => {
    const r = spawnSync(t, [t === "java" ? "-version" : "-v"], { encoding: "utf8" });
    return r.error !== undefined || r.status !== 0;
  });
  if (missing.length === 0) return null;
  const reason = `SKIPPED: Storage contract on real HDFS: ${missing.join(" and ")} not found (it needs Java 17 and Maven)`;
  if (process.env.CI === "true") throw new Error(`${reason}; under CI=true this is a failure`);
  process.stderr.write(`${reason}\n`);
  return reason;
}

const missing = toolchainMissing();
if (missing !== null) {
  describe("Storage contract: WebHdfsStorage on a real MiniDFSCluster", () => {
    it("needs Java 17 and Maven", (ctx) => ctx.skip(missing));
  });
} else {
  let cluster: MiniDfs | undefined;
  let storage: WebHdfsStorage | undefined;
  let work: string;
  let n = 0;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "real-hdfs-contract-"));
    const t0 = Date.now();
    const classpath = buildInterop(work);
    const t1 = Date.now();
    cluster = await startMiniDfs(classpath, "hdfs1", work);
    process.stderr.write(`real HDFS for the Storage contract: Maven ${((t1 - t0) / 1000).toFixed(1)} s, MiniDFSCluster up in ${((Date.now() - t1) / 1000).toFixed(1)} s\n`);
    storage = new WebHdfsStorage(
      new WebHdfsClient({ name: "hdfs1", namenodes: cluster.namenodes, user: "root", requestTimeoutMs: 10_000, retry: { baseDelayMs: 50, maxDelayMs: 500 } }),
    );
  }, 300_000);
  afterAll(async () => {
    storage?.close();
    await cluster?.stop();
    if (process.env.KEEP_REAL_HDFS !== "1") rmSync(work, { recursive: true, force: true });
  }, 60_000);

  storageContract("WebHdfsStorage on a real MiniDFSCluster", async () => {
    const dir = `/contract/t${n++}`;
    await storage!.mkdirs(dir);
    return { storage: storage!, dir };
  });
}
