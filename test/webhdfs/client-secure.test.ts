// The product's WebHdfsClient with a static delegation token against a cluster
// of the emulator in secure mode: the whole operation set across a failover,
// typed errors without credentials (401) and with an expired or cancelled
// token (403 SecurityException), and no token value in any error or log line.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { WebHdfsClient, WebHdfsError, isPermissionDenied, isRetriable } from "../../src/webhdfs/index.js";

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const SECURITY_EXCEPTION = "java.lang.SecurityException";

let sandbox: Sandbox;
let stateDir: string;
let namenodes: string[];
/** Every token handed to a client in this file, and every client (closed after each test). */
const tokens: string[] = [];
const clients: WebHdfsClient[] = [];
const logLines: string[] = [];
const logger = pino(
  { level: "trace" },
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString("utf8"));
      callback();
    },
  }),
);

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "webhdfs-client-secure-"));
  sandbox = await startSandbox({ stateDir, clusters: ["hdfs1"], security: { enabled: true } });
  namenodes = sandbox.endpoints.clusters.hdfs1?.namenodes ?? [];
});

afterAll(async () => {
  await sandbox?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

function token(expiresInMs?: number): string {
  const value = sandbox.mintDelegationToken("hdfs1", { user: "flink", expiresInMs }).urlString;
  tokens.push(value);
  return value;
}

function client(delegationToken: string | undefined): WebHdfsClient {
  const c = new WebHdfsClient({ name: "hdfs1", namenodes, user: "flink", delegationToken, retry: FAST_RETRY }, { logger });
  clients.push(c);
  return c;
}

async function failure(operation: Promise<unknown>): Promise<WebHdfsError> {
  const err = await operation.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebHdfsError);
  return err as WebHdfsError;
}

function expectNoToken(texts: string[]): void {
  for (const text of texts) {
    for (const t of tokens) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(t.slice(0, 24));
    }
  }
}

const read = async (c: WebHdfsClient, path: string): Promise<string> => (await buffer(await c.open(path))).toString("utf8");

describe("WebHdfsClient against a secure cluster", () => {
  it("a static delegation token serves list, create, open, rename and delete, across a NameNode failover", async () => {
    const c = client(token());
    await c.mkdirs("/sec/jobs");
    await c.create("/sec/jobs/a", "state bytes");
    expect(await c.getFileStatus("/sec/jobs/a")).toMatchObject({ owner: "flink", length: 11 });
    expect((await c.listStatus("/sec/jobs")).map((s) => s.pathSuffix)).toEqual(["a"]);
    expect(await read(c, "/sec/jobs/a")).toBe("state bytes");

    sandbox.failover("hdfs1");
    try {
      await c.rename("/sec/jobs/a", "/sec/jobs/b");
      expect(c.activeNamenode()).toBe(namenodes[1]);
      expect(await read(c, "/sec/jobs/b")).toBe("state bytes");
      await c.create("/sec/jobs/c", "more");
      expect(await c.delete("/sec/jobs/b")).toBe(true);
      expect((await c.listStatus("/sec/jobs")).map((s) => s.pathSuffix)).toEqual(["c"]);
    } finally {
      sandbox.failover("hdfs1");
    }
    expect(logLines.some((line) => line.includes("StandbyException"))).toBe(true);
    expectNoToken(logLines);
  });

  it("without a token the client gets a typed 401 authentication error at once", async () => {
    const c = client(undefined);
    const err = await failure(c.getFileStatus("/"));
    expect(err).toMatchObject({ status: 401, failure: "http-status", step: "namenode" });
    expect(err.message).toMatch(/401/);
    expect(err.message).toMatch(/Authentication required/);
    expect(err.attempts).toBeUndefined();
    expect(isPermissionDenied(err)).toBe(true);
    expect(isRetriable(err)).toBe(false);
  });

  it("an expired token gives a typed SecurityException; a cancelled one too; neither is retried", async () => {
    const expired = client(token(0));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const cancelledToken = token();
    const cancelled = client(cancelledToken);
    await cancelled.getFileStatus("/");
    await client(token()).getFileStatus("/");
    const cancel = await fetch(
      `${namenodes[0]}/webhdfs/v1/?op=CANCELDELEGATIONTOKEN&token=${cancelledToken}&delegation=${cancelledToken}`,
      { method: "PUT" },
    );
    expect(cancel.status).toBe(200);

    const errors = [
      await failure(expired.getFileStatus("/")),
      await failure(expired.open("/sec/jobs/c")),
      await failure(cancelled.create("/sec/never", "x")),
    ];
    for (const err of errors) {
      expect(err).toMatchObject({ status: 403, failure: "remote", exception: "SecurityException", javaClassName: SECURITY_EXCEPTION });
      expect(err.remoteMessage).toMatch(/^Failed to obtain user group information: .*InvalidToken/);
      expect(err.attempts).toBeUndefined();
    }
    expect(errors[0]?.remoteMessage).toMatch(/is expired/);
    expect(errors[2]?.remoteMessage).toMatch(/can't be found in cache/);
    expectNoToken(errors.map((e) => `${e.message}\n${e.stack ?? ""}\n${JSON.stringify(e.details())}`));
    expectNoToken(logLines);
  });

  it("a DataNode-step failure (the Location holds the token) names the DataNode without the token", async () => {
    const c = client(token());
    await c.create("/sec/dn", "bytes");
    const id = sandbox.faults.add({
      cluster: "hdfs1", role: "datanode", op: "OPEN", times: 1,
      action: { kind: "error", status: 403, javaClassName: "java.io.IOException", message: "disk failed" },
    });
    try {
      const err = await failure(c.open("/sec/dn"));
      expect(err).toMatchObject({ step: "datanode", status: 403, remoteMessage: "disk failed" });
      expect(err.datanode).toBe(sandbox.endpoints.clusters.hdfs1?.datanodes[0]);
      expectNoToken([err.message, JSON.stringify(err.details())]);
    } finally {
      sandbox.faults.remove(id);
    }
    expect(logLines.length).toBeGreaterThan(0);
    expectNoToken(logLines);
  });
});
