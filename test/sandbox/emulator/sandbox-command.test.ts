// The `sandbox` CLI command: in-process through runSandboxCommand (abort
// signal) and as a real child process (the CLI built by test/global-setup.ts) that
// writes its endpoints file, serves requests, and exits 0 on SIGTERM.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseClusterList, runSandboxCommand } from "../../../src/sandbox/foreground.js";
import type { SandboxEndpoints } from "../../../src/sandbox/emulator/index.js";
import { UsageError } from "../../../src/util/errors.js";
import { request, url } from "./raw-http.js";
import { waitFor } from "./sandbox-fixture.js";

let workDir = "";

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "ckpt-sandbox-cmd-"));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe("runSandboxCommand (in process)", () => {
  it("writes the endpoints file once listening, serves requests, and stops when aborted", async () => {
    const endpointsFile = join(workDir, "inproc-endpoints.json");
    const controller = new AbortController();
    const stdout = new PassThrough();
    let printed = "";
    stdout.on("data", (c: Buffer) => (printed += c.toString()));
    let ready: SandboxEndpoints | undefined;
    const run = runSandboxCommand(
      { stateDir: join(workDir, "inproc-state"), clusters: "alpha, beta", endpointsFile },
      { signal: controller.signal, stdout, onReady: (e) => (ready = e) },
    );
    await waitFor(() => ready !== undefined);
    const fromFile = JSON.parse(await readFile(endpointsFile, "utf8")) as SandboxEndpoints;
    expect(fromFile).toEqual(ready);
    expect(Object.keys(fromFile.clusters)).toEqual(["alpha", "beta"]);
    expect(fromFile.clusters.alpha?.namenodes).toHaveLength(2);
    expect(printed).toContain(fromFile.admin);
    const nn = fromFile.clusters.beta?.namenodes[0] ?? "";
    expect((await request(url(nn, "/x", "MKDIRS", { "user.name": "alice" }), { method: "PUT" })).text).toBe('{"boolean":true}');
    controller.abort();
    await run;
    expect(existsSync(endpointsFile)).toBe(false);
    await expect(request(url(nn, "/", "GETFILESTATUS"))).rejects.toThrow(/ECONNREFUSED/);
  });

  it("rejects an empty --clusters list as a usage error", () => {
    expect(() => parseClusterList(" , ")).toThrow(UsageError);
    expect(parseClusterList(undefined)).toEqual(["hdfs1", "hdfs2"]);
  });
});

describe("ckpt-replicator sandbox (child process)", () => {
  it("prints and writes the endpoints, answers WebHDFS and admin requests, exits 0 on SIGTERM", async () => {
    const endpointsFile = join(workDir, "child-endpoints.json");
    const child = spawn(
      process.execPath,
      [inject("cliBin"), "sandbox", "--state-dir", join(workDir, "child-state"), "--endpoints-file", endpointsFile],
      { env: { ...process.env, CKPT_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await waitFor(() => existsSync(endpointsFile), 15_000);
      const endpoints = JSON.parse(await readFile(endpointsFile, "utf8")) as SandboxEndpoints;
      expect(Object.keys(endpoints)).toEqual(["admin", "clusters"]);
      expect(Object.keys(endpoints.clusters)).toEqual(["hdfs1", "hdfs2"]);
      for (const c of Object.values(endpoints.clusters)) {
        expect(c.namenodes).toHaveLength(2);
        expect(c.datanodes.length).toBeGreaterThanOrEqual(1);
        for (const u of [...c.namenodes, ...c.datanodes]) expect(u).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      }
      const [nn1, nn2] = endpoints.clusters.hdfs1?.namenodes ?? [];
      expect((await request(url(nn1 ?? "", "/", "GETHOMEDIRECTORY", { "user.name": "demo" }))).text).toBe('{"Path":"/user/demo"}');
      expect((await request(`${endpoints.admin}/clusters/hdfs1/failover`, { method: "POST" })).status).toBe(200);
      expect((await request(`${nn2}/isActive`)).status).toBe(200);
      await waitFor(() => stdout.includes(endpoints.admin));
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, stderr).toBe(0);
    expect(existsSync(endpointsFile)).toBe(false);
  });
});

describe("runSandboxCommand --secure", () => {
  it("starts the named clusters in secure mode: 401 without credentials, others unchanged", async () => {
    const controller = new AbortController();
    let endpoints: SandboxEndpoints | null = null;
    const run = runSandboxCommand(
      { stateDir: join(workDir, "secure-state"), secure: "hdfs2" },
      { signal: controller.signal, stdout: new PassThrough(), onReady: (e) => (endpoints = e) },
    );
    await waitFor(() => endpoints !== null);
    const e = endpoints as unknown as SandboxEndpoints;
    const secure = await request(url(e.clusters.hdfs2!.namenodes[0]!, "/", "GETFILESTATUS", { "user.name": "flink" }));
    expect(secure.status).toBe(401);
    const open = await request(url(e.clusters.hdfs1!.namenodes[0]!, "/", "GETFILESTATUS", { "user.name": "flink" }));
    expect(open.status).toBe(200);
    controller.abort();
    await run;
  });
});
