// What /readyz says when a cluster refuses the daemon's TLS or credentials: the
// daemon keeps running, the other side keeps working, and the probe names the
// side, the cluster and the fix instead of a generic "unhealthy root".

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, type SandboxPair } from "../helpers/sandbox-pair.js";
import { createTestCa, opensslForSuite, type TestCa } from "../helpers/test-ca.js";

let ca: TestCa | undefined;
let pair: SandboxPair | undefined;

beforeAll(async () => {
  const openssl = opensslForSuite();
  if (openssl === null) return;
  ca = await createTestCa(openssl);
  pair = await startSandboxPair({ tls: { ca: ca.ca, servers: { hdfs1: ca.server } } });
});
beforeEach((ctx) => {
  if (pair === undefined) ctx.skip("openssl is not installed");
});
afterAll(async () => {
  await pair?.close();
  await ca?.remove();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function readyz(daemon: Daemon): Promise<[number, string]> {
  const res = await fetch(`${daemon.metricsUrl}/readyz`);
  return [res.status, await res.text()];
}

describe("readiness with TLS", () => {
  it("a source whose certificate the configured CA does not sign: not ready, saying which side and which key fixes it", async () => {
    const p = pair as SandboxPair;
    const t = ca as TestCa;
    const sim = p.simulator();
    await sim.checkpointOnce();
    const file = join(p.stateDir, "tls-wrong-ca.yaml");
    await writeFile(file, p.configText(`source: {tls: {ca: "${t.files.otherCa}"}}\nmetrics: {listen: "127.0.0.1:0"}\n`));
    const daemon = new Daemon({ config: await loadConfigFile(file, {}), logger: silentLogger, stopDeadlineMs: 3000 });
    await daemon.start();
    try {
      await until("readiness names the refused certificate", async () => (await readyz(daemon))[1].includes("TLS"));
      const [status, text] = await readyz(daemon);
      expect(status).toBe(503);
      expect(text).toMatch(/^source hdfs1: .*TLS: the server certificate is not trusted.*tls\.ca/);
      expect(daemon.engine.lease).not.toBeNull(); // the target side (plain http) works: the lease is held
    } finally {
      await daemon.stop();
    }

    await writeFile(file, p.configText(`source: {tls: {ca: "${t.files.ca}"}}\nmetrics: {listen: "127.0.0.1:0"}\n`));
    const fixed = new Daemon({ config: await loadConfigFile(file, {}), logger: silentLogger, stopDeadlineMs: 3000 });
    await fixed.start();
    try {
      await until("the checkpoint is published over https", () => fixed.engine.status().jobs[0]?.newestPublishedCheckpoint === 1);
      expect(await readyz(fixed)).toEqual([200, "ok\n"]);
    } finally {
      await fixed.stop();
    }
  });
});
