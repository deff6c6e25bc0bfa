// Sandbox options that change wire behaviour: the HDFS-14423 double-decoding
// DataNode, the advertised DataNode host, several DataNodes, custom cluster
// names, and option validation.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, SandboxError, type Sandbox, type SandboxOptions } from "../../../src/sandbox/emulator/index.js";
import { createFile, openFile, request, url } from "./raw-http.js";

let stateDir = "";
beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "ckpt-emulator-options-"));
});
afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

async function withSandbox(options: Partial<SandboxOptions>, body: (s: Sandbox) => Promise<void>): Promise<void> {
  const sandbox = await startSandbox({ stateDir: join(stateDir, String(Math.random())), ...options });
  try {
    await body(sandbox);
  } finally {
    await sandbox.stop();
  }
}

describe("sandbox options", () => {
  it("doubleDecodeDataNodePaths reproduces HDFS-14423: a '+' in a name lands on a different path", async () => {
    await withSandbox({ clusters: ["c1"], doubleDecodeDataNodePaths: true }, async (s) => {
      const nn = s.endpoints.clusters.c1?.namenodes[0] ?? "";
      expect((await createFile(nn, "/bug/a+b", "x")).status).toBe(201);
      expect((await request(url(nn, "/bug/a+b", "GETFILESTATUS"))).status).toBe(404);
      expect((await request(url(nn, "/bug/a b", "GETFILESTATUS"))).status).toBe(200);
    });
    await withSandbox({ clusters: ["c1"] }, async (s) => {
      const nn = s.endpoints.clusters.c1?.namenodes[0] ?? "";
      expect((await createFile(nn, "/ok/a+b", "x")).status).toBe(201);
      expect((await request(url(nn, "/ok/a+b", "GETFILESTATUS"))).status).toBe(200);
    });
  });

  it("advertisedHost is the host of redirect Locations; several DataNodes are used round robin", async () => {
    await withSandbox({ clusters: ["c1"], advertisedHost: "dn.example", datanodesPerCluster: 2 }, async (s) => {
      const c = s.endpoints.clusters.c1;
      expect(c?.datanodes).toHaveLength(2);
      const nn = c?.namenodes[0] ?? "";
      const ports = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const res = await request(url(nn, "/f", "CREATE", { "user.name": "u" }), { method: "PUT" });
        const location = new URL(String(res.headers.location));
        expect(location.hostname).toBe("dn.example");
        ports.add(location.port);
      }
      expect([...ports].sort()).toEqual(c?.datanodes.map((d) => new URL(d).port).sort());
    });
  });

  it("serves files from every DataNode of a cluster", async () => {
    await withSandbox({ clusters: ["c1"], datanodesPerCluster: 3 }, async (s) => {
      const nn = s.endpoints.clusters.c1?.namenodes[0] ?? "";
      await createFile(nn, "/shared", "same bytes");
      const texts = await Promise.all([0, 1, 2].map(() => openFile(nn, "/shared")));
      expect(texts.map((t) => t.text)).toEqual(["same bytes", "same bytes", "same bytes"]);
    });
  });

  it("rejects invalid cluster names and sizes with SandboxError", async () => {
    await expect(startSandbox({ stateDir, clusters: ["../evil"] })).rejects.toThrow(SandboxError);
    await expect(startSandbox({ stateDir, clusters: ["a", "a"] })).rejects.toThrow(/duplicate/);
    await expect(startSandbox({ stateDir, clusters: [] })).rejects.toThrow(/at least one/);
    await expect(startSandbox({ stateDir, clusters: ["a"], listBatchSize: 0 })).rejects.toThrow(/listBatchSize/);
  });
});
