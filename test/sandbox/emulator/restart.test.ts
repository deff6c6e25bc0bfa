// Persistence: a sandbox restarted on the same state dir keeps the namespace
// (ids, owners, permissions, times, block sizes) and the file bytes; files a
// crash left under construction come back closed with the bytes they had.

import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../../src/sandbox/emulator/index.js";
import { createFile, dnStep, openFile, request, url } from "./raw-http.js";
import { waitFor } from "./sandbox-fixture.js";

let stateDir = "";
let running: Sandbox | undefined;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "ckpt-emulator-restart-"));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await rm(stateDir, { recursive: true, force: true });
});

async function start(options: Partial<SandboxOptions> = {}): Promise<string> {
  running = await startSandbox({ stateDir, clusters: ["hdfs1"], ...options });
  return running.endpoints.clusters.hdfs1?.namenodes[0] ?? "";
}
async function restart(options: Partial<SandboxOptions> = {}): Promise<string> {
  await running?.stop();
  return start(options);
}
const U = { "user.name": "alice" };

describe("sandbox restart with the same state dir", () => {
  it("keeps the namespace metadata and the bytes of every file", async () => {
    let nn = await start();
    const big = Buffer.alloc(1_200_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    await createFile(nn, "/keep/big.bin", big, { blocksize: 1048576, replication: 2 });
    await createFile(nn, "/keep/small.txt", "small");
    await createFile(nn, "/keep/gone.txt", "deleted before restart");
    await request(url(nn, "/keep/sub", "MKDIRS", { ...U, permission: "700" }), { method: "PUT" });
    await request(url(nn, "/keep/small.txt", "SETTIMES", { ...U, modificationtime: 1600000000000 }), { method: "PUT" });
    await request(url(nn, "/keep/small.txt", "RENAME", { ...U, destination: "/keep/sub/moved.txt" }), { method: "PUT" });
    await request(url(nn, "/keep/gone.txt", "DELETE", U), { method: "DELETE" });
    await request(url(nn, "/keep/sub", "SETOWNER", { "user.name": "hdfs", owner: "flink", group: "hadoop" }), { method: "PUT" });
    const paths = ["/", "/keep", "/keep/big.bin", "/keep/sub", "/keep/sub/moved.txt"];
    const before = await Promise.all(paths.map(async (p) => (await request(url(nn, p, "GETFILESTATUS", { "user.name": "hdfs" }))).text));
    const checksumBefore = (await dnStep(nn, "/keep/big.bin", "GETFILECHECKSUM")).text;

    nn = await restart();
    const after = await Promise.all(paths.map(async (p) => (await request(url(nn, p, "GETFILESTATUS", { "user.name": "hdfs" }))).text));
    expect(after).toEqual(before);
    expect(before[3]).toContain('"owner":"flink"');
    expect(before[4]).toContain('"modificationTime":1600000000000');
    expect((await openFile(nn, "/keep/big.bin")).body.equals(big)).toBe(true);
    expect((await openFile(nn, "/keep/sub/moved.txt", { "user.name": "flink" })).text).toBe("small");
    expect((await request(url(nn, "/keep/gone.txt", "GETFILESTATUS"))).status).toBe(404);
    expect((await dnStep(nn, "/keep/big.bin", "GETFILECHECKSUM")).text).toBe(checksumBefore);

    await createFile(nn, "/keep/new.txt", "n");
    const ids = await Promise.all(["/keep/big.bin", "/keep/new.txt"].map(async (p) => (await request(url(nn, p, "GETFILESTATUS"))).json<{ FileStatus: { fileId: number } }>().FileStatus.fileId));
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
  });

  it("closes a file left under construction with the bytes it had", async () => {
    let nn = await start({ closeAbortedUploads: false });
    const step1 = await request(url(nn, "/uc.txt", "CREATE", U), { method: "PUT" });
    const req = httpRequest(String(step1.headers.location), { method: "PUT", agent: false, headers: { "Content-Length": 100 } });
    req.on("error", () => undefined);
    req.write("twelve bytes");
    await waitFor(async () => (await openFile(nn, "/uc.txt")).text === "twelve bytes");
    req.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await dnStep(nn, "/uc.txt", "GETFILECHECKSUM")).status).toBe(403); // still under construction (lease kept)

    nn = await restart();
    const st = (await request(url(nn, "/uc.txt", "GETFILESTATUS"))).json<{ FileStatus: { length: number } }>().FileStatus;
    expect(st.length).toBe(12);
    expect((await dnStep(nn, "/uc.txt", "GETFILECHECKSUM")).status).toBe(200);
    expect((await openFile(nn, "/uc.txt")).text).toBe("twelve bytes");
  });

  it("stop() during an upload closes the file with the bytes received before shutting down", async () => {
    let nn = await start();
    const step1 = await request(url(nn, "/stopped.txt", "CREATE", U), { method: "PUT" });
    const req = httpRequest(String(step1.headers.location), { method: "PUT", agent: false, headers: { "Content-Length": 100 } });
    req.on("error", () => undefined);
    req.write("half of it");
    await waitFor(async () => (await openFile(nn, "/stopped.txt")).text === "half of it");
    nn = await restart();
    expect((await request(url(nn, "/stopped.txt", "GETFILESTATUS"))).json<{ FileStatus: { length: number } }>().FileStatus.length).toBe(10);
    expect((await dnStep(nn, "/stopped.txt", "GETFILECHECKSUM")).status).toBe(200);
  });

  it("starts despite a torn last journal line (crash during a write)", async () => {
    let nn = await start();
    await request(url(nn, "/survivor", "MKDIRS", U), { method: "PUT" });
    await running?.stop();
    running = undefined;
    await appendFile(join(stateDir, "hdfs1", "namespace.journal"), '{"op":"put","id":99999,"par');
    nn = await start();
    expect((await request(url(nn, "/survivor", "GETFILESTATUS"))).status).toBe(200);
  });
});
