// The product's WebHdfsClient against emulated clusters served over https only
// (NameNodes and DataNodes), with certificates from a CA made for the test:
// the whole two-step write/read path over TLS, and each refusal (untrusted
// CA, host name not in the certificate, missing client certificate) as a typed
// `tls` failure that says which setting fixes it and is not retried.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { WebHdfsClient, WebHdfsError, isRetriable, type TlsSettings } from "../../src/webhdfs/index.js";
import { createTestCa, opensslForSuite, type TestCa } from "../helpers/test-ca.js";

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

let sandbox: Sandbox | undefined;
let stateDir: string | undefined;
let ca: TestCa;
let otherName: TestCa;

beforeAll(async () => {
  const openssl = opensslForSuite();
  if (openssl === null) return;
  ca = await createTestCa(openssl);
  otherName = await createTestCa(openssl, ["nn.example.test"]);
  stateDir = await mkdtemp(join(tmpdir(), "webhdfs-client-tls-"));
  sandbox = await startSandbox({
    stateDir: stateDir as string,
    clusters: ["trusted", "untrusted", "named", "mutual"],
    tls: {
      trusted: ca.server,
      untrusted: ca.untrustedServer,
      named: otherName.server,
      mutual: { ...ca.server, ca: ca.ca },
    },
  });
});

beforeEach((ctx) => {
  if (sandbox === undefined) ctx.skip("openssl is not installed");
});

afterAll(async () => {
  await sandbox?.stop();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  await ca?.remove();
  await otherName?.remove();
});

function nn(cluster: string): string[] {
  return (sandbox as Sandbox).endpoints.clusters[cluster]?.namenodes ?? [];
}

async function withClient<T>(cluster: string, tls: TlsSettings | undefined, use: (c: WebHdfsClient) => Promise<T>): Promise<T> {
  const c = new WebHdfsClient({ name: cluster, namenodes: nn(cluster), user: "flink", retry: FAST_RETRY, ...(tls ? { tls } : {}) });
  try {
    return await use(c);
  } finally {
    c.close();
  }
}

async function failure(operation: Promise<unknown>): Promise<WebHdfsError> {
  const err = await operation.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WebHdfsError);
  return err as WebHdfsError;
}

describe("WebHdfsClient over https", () => {
  it("with the CA bundle, writes, reads, lists and checksums through https NameNodes and DataNodes", async () => {
    expect(nn("trusted").every((u) => u.startsWith("https://127.0.0.1:"))).toBe(true);
    expect((sandbox as Sandbox).endpoints.clusters.trusted?.datanodes.every((u) => u.startsWith("https://"))).toBe(true);
    await withClient("trusted", { ca: ca.ca }, async (c) => {
      await c.mkdirs("/tls/job");
      await c.create("/tls/job/state", "bytes over tls");
      expect((await buffer(await c.open("/tls/job/state"))).toString("utf8")).toBe("bytes over tls");
      expect((await c.listStatus("/tls/job")).map((s) => s.pathSuffix)).toEqual(["state"]);
      expect((await c.getFileChecksum("/tls/job/state")).algorithm).toMatch(/^MD5-of-/);
    });
  });

  it("without the CA bundle, the server certificate is refused: a typed tls failure naming tls.ca, not retried", async () => {
    const err = await withClient("trusted", undefined, (c) => failure(c.getFileStatus("/")));
    expect(err).toMatchObject({ failure: "tls", step: "namenode", cluster: "trusted" });
    expect(["SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]).toContain(err.code);
    expect(err.message).toMatch(/not trusted/);
    expect(err.message).toMatch(/tls\.ca/);
    expect(err.attempts).toBeUndefined();
    expect(isRetriable(err)).toBe(false);
  });

  it("a certificate from another CA than the configured bundle is refused the same way", async () => {
    const err = await withClient("untrusted", { ca: ca.ca }, (c) => failure(c.mkdirs("/x")));
    expect(err).toMatchObject({ failure: "tls", step: "namenode" });
    expect(err.message).toMatch(/not trusted/);
  });

  it("a certificate for another host name is refused unless tls.serverName names it", async () => {
    const refused = await withClient("named", { ca: otherName.ca }, (c) => failure(c.getFileStatus("/")));
    expect(refused).toMatchObject({ failure: "tls", code: "ERR_TLS_CERT_ALTNAME_INVALID" });
    expect(refused.message).toMatch(/tls\.serverName/);
    await withClient("named", { ca: otherName.ca, serverName: "nn.example.test" }, async (c) => {
      await c.create("/named", "ok");
      expect((await buffer(await c.open("/named"))).toString("utf8")).toBe("ok");
    });
  });

  it("a server that requires a client certificate refuses a client without one and serves one with it", async () => {
    const err = await withClient("mutual", { ca: ca.ca }, (c) => failure(c.getFileStatus("/")));
    expect(err.failure).toBe("tls");
    expect(err.message).toMatch(/tls\.cert/);
    await withClient("mutual", { ca: ca.ca, cert: ca.client.cert, key: ca.client.key }, async (c) => {
      await c.create("/mutual", "ok");
      expect((await buffer(await c.open("/mutual"))).toString("utf8")).toBe("ok");
    });
  });
});
