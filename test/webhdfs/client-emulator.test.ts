// The client against the project's WebHDFS emulator (src/sandbox/emulator): a full
// operation round trip, NameNode failover mid-sequence, and a 1 GiB file streamed
// through CREATE then OPEN with bounded process memory.

import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import {
  WebHdfsClient, isAlreadyExists, isNotFound, sameChecksum, type FileStatus,
} from "../../src/webhdfs/index.js";

let sandbox: Sandbox;
let stateDir: string;
let client: WebHdfsClient;
/** Every NameNode switch the client announced (onFailover). */
const switches: Array<{ cluster: string; from: string; to: string }> = [];

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "webhdfs-client-emulator-"));
  sandbox = await startSandbox({ stateDir, clusters: ["hdfs1"], listBatchSize: 2 });
  const { namenodes } = sandbox.endpoints.clusters.hdfs1!;
  client = new WebHdfsClient({
    name: "hdfs1", namenodes, user: "flink", retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
  }, { onFailover: (e) => switches.push(e) });
});

afterAll(async () => {
  client?.close();
  await sandbox?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

const text = async (path: string, o?: { offset?: number; length?: number }): Promise<string> =>
  (await buffer(await client.open(path, o))).toString("utf8");

describe("client against the emulator", () => {
  it("round trip: every operation of the client", async () => {
    const dir = "/rt/dir with space/a+b/100%/Ünï";
    await client.mkdirs(dir, { permission: "750" });
    expect(await client.getFileStatus(dir)).toMatchObject({ type: "DIRECTORY", permission: "750", owner: "flink" });

    await client.create(`${dir}/f1`, "hello world", { blockSize: 1048576, replication: 2 });
    await client.create(`${dir}/f2`, Buffer.from("second"));
    await client.create(`${dir}/f3`, Readable.from([Buffer.from("th"), Buffer.from("ird")]));
    const f1 = (await client.getFileStatus(`${dir}/f1`)) as FileStatus;
    expect(f1).toMatchObject({ type: "FILE", length: 11, blockSize: 1048576, replication: 2, pathSuffix: "" });

    expect(await text(`${dir}/f1`)).toBe("hello world");
    expect(await text(`${dir}/f1`, { offset: 6, length: 3 })).toBe("wor");
    await client.append(`${dir}/f1`, "!!");
    expect(await text(`${dir}/f1`)).toBe("hello world!!");

    const err = await client.create(`${dir}/f2`, "again").catch((e: unknown) => e);
    expect(isAlreadyExists(err)).toBe(true);
    await client.create(`${dir}/f2`, "replaced", { overwrite: true });
    expect(await text(`${dir}/f2`)).toBe("replaced");

    expect((await client.listStatus(dir)).map((s) => s.pathSuffix)).toEqual(["f1", "f2", "f3"]);
    const pages: string[][] = [];
    for await (const page of client.listStatusBatches(dir)) pages.push(page.map((s) => s.pathSuffix));
    expect(pages).toEqual([["f1", "f2"], ["f3"]]);

    const summary = await client.getContentSummary("/rt");
    expect(summary).toMatchObject({ fileCount: 3, length: 13 + 8 + 5, quota: -1 });

    const c1 = await client.getFileChecksum(`${dir}/f1`);
    expect(c1.algorithm).toBe("MD5-of-0MD5-of-512CRC32C");
    expect(c1.length).toBe(28);
    await client.create(`${dir}/copy`, "hello world!!", { blockSize: 1048576 });
    expect(sameChecksum(c1, await client.getFileChecksum(`${dir}/copy`))).toBe(true);
    expect(sameChecksum(c1, await client.getFileChecksum(`${dir}/f2`))).toBe(false);

    await client.setTimes(`${dir}/f3`, { modificationTime: 1_600_000_000_000 });
    expect((await client.getFileStatus(`${dir}/f3`)).modificationTime).toBe(1_600_000_000_000);

    const renameErr = await client.rename(`${dir}/f3`, `${dir}/f2`).catch((e: unknown) => e);
    expect(isAlreadyExists(renameErr)).toBe(true);
    await client.rename(`${dir}/f3`, `${dir}/f2`, { overwrite: true });
    expect(await text(`${dir}/f2`)).toBe("third");
    const missing = await client.rename(`${dir}/nope`, `${dir}/x`).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);

    expect(await client.delete("/rt", { recursive: true })).toBe(true);
    expect(await client.delete("/rt", { recursive: true })).toBe(false);
    expect(await client.stat(dir)).toBeNull();
    expect(isNotFound(await client.open(`${dir}/f1`).catch((e: unknown) => e))).toBe(true);
  });

  it("follows a NameNode failover in the middle of a sequence, announcing each switch once", async () => {
    const { namenodes } = sandbox.endpoints.clusters.hdfs1!;
    await client.mkdirs("/ha");
    await client.create("/ha/a", "one");
    expect(client.activeNamenode()).toBe(namenodes[0]);
    switches.length = 0;
    sandbox.failover("hdfs1");
    // A standby still redirects the CREATE NameNode step (contract 6.1), so the switch shows on the next write.
    await client.create("/ha/b", "two");
    await client.mkdirs("/ha/c");
    expect(client.activeNamenode()).toBe(namenodes[1]);
    expect((await client.listStatus("/ha")).map((s) => s.pathSuffix)).toEqual(["a", "b", "c"]);
    sandbox.failover("hdfs1");
    expect(await text("/ha/b")).toBe("two");
    expect(client.activeNamenode()).toBe(namenodes[0]);
    await client.delete("/ha", { recursive: true });
    // Two switches, back and forth: a sampler of activeNamenode() taken before and after would see none.
    expect(switches).toEqual([
      { cluster: "hdfs1", from: namenodes[0], to: namenodes[1] },
      { cluster: "hdfs1", from: namenodes[1], to: namenodes[0] },
    ]);
  });

  it("streams 1 GiB through CREATE then OPEN with the process RSS growing by under 256 MB, a quarter of what it streams (never buffered)", async () => {
    const total = 1024 * 1024 * 1024;
    const chunk = 256 * 1024;
    // Growth, not an absolute figure: the baseline differs between Node lines (24's is ~20 MB above 20's).
    const baseline = process.memoryUsage().rss;
    let peakRss = baseline;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
    try {
      const written = createHash("sha256");
      let produced = 0;
      const source = new Readable({
        read() {
          if (produced >= total) {
            this.push(null);
            return;
          }
          const block = Buffer.alloc(chunk, produced / chunk);
          block.writeUInt32BE(produced / chunk, 0);
          produced += chunk;
          written.update(block);
          this.push(block);
        },
      });
      await client.create("/big/1g.bin", source, { blockSize: 128 * 1024 * 1024 });
      expect((await client.getFileStatus("/big/1g.bin")).length).toBe(total);

      const read = createHash("sha256");
      let received = 0;
      await pipeline(
        await client.open("/big/1g.bin"),
        new Transform({
          transform(data: Buffer, _encoding, callback) {
            received += data.length;
            read.update(data);
            callback();
          },
        }),
        new Writable({ write: (_c, _e, callback) => callback() }),
      );
      expect(received).toBe(total);
      expect(read.digest("hex")).toBe(written.digest("hex"));
    } finally {
      clearInterval(sampler);
      await client.delete("/big", { recursive: true });
    }
    process.stderr.write(`1 GiB CREATE+OPEN: peak RSS ${Math.round(peakRss / 1048576)} MB, ${Math.round((peakRss - baseline) / 1048576)} MB above the start\n`);
    expect(peakRss - baseline).toBeLessThan(256 * 1024 * 1024);
  }, 180_000);
});
