// NameNode HA and retries against scripted fake NameNodes: failover from a standby
// mid-sequence and the remembered active, bounded retries (request counts),
// deadlines and AbortSignal.

import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebHdfsClient, WebHdfsError, isRetriable, isStandby } from "../../src/webhdfs/index.js";
import {
  FAST_RETRY, NOT_FOUND, RETRIABLE, fileStatus, sendJson, sendRemoteException, sendStandby, startFakeServer,
  type FakeServer, type Handler,
} from "./fake-server.js";

const servers: FakeServer[] = [];
const clients: WebHdfsClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Handler): Promise<FakeServer> {
  const s = await startFakeServer(handler);
  servers.push(s);
  return s;
}

function client(namenodes: string[], retry = FAST_RETRY, requestTimeoutMs?: number): WebHdfsClient {
  const c = new WebHdfsClient({ name: "hdfs1", namenodes, user: "flink", retry, requestTimeoutMs });
  clients.push(c);
  return c;
}

/** An active NameNode that knows every path as a directory and answers MKDIRS with true. */
const active: Handler = (_req, res, r) => {
  if (r.op === "MKDIRS") sendJson(res, 200, { boolean: true });
  else sendJson(res, 200, { FileStatus: fileStatus("", "DIRECTORY") });
};
const standby: Handler = (_req, res) => sendStandby(res);
const hang: Handler = () => {};

async function closedPortUrl(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("NameNode failover", () => {
  it("moves from a standby to the active mid-sequence and remembers the active one", async () => {
    const nn1 = await server(standby);
    const nn2 = await server(active);
    const c = client([nn1.url, nn2.url]);
    expect(c.activeNamenode()).toBe(nn1.url);

    await c.getFileStatus("/a");
    expect(c.activeNamenode()).toBe(nn2.url);
    await c.mkdirs("/b");
    await c.getFileStatus("/c");
    expect(nn1.count()).toBe(1); // only the very first request went to the standby
    expect(nn2.count()).toBe(3);

    // The pair fails over: nn2 turns standby, nn1 active.
    nn2.setHandler(standby);
    nn1.setHandler(active);
    await c.mkdirs("/d");
    expect(c.activeNamenode()).toBe(nn1.url);
    await c.getFileStatus("/e");
    expect(nn2.count()).toBe(4);
    expect(nn1.count()).toBe(3);
  });

  it("fails over when the first NameNode refuses connections", async () => {
    const nn2 = await server(active);
    const c = client([await closedPortUrl(), nn2.url]);
    await expect(c.getFileStatus("/a")).resolves.toMatchObject({ type: "DIRECTORY" });
    expect(c.activeNamenode()).toBe(nn2.url);
  });

  it("fails over when the first NameNode resets the connection", async () => {
    const nn1 = await server((req) => req.socket.destroy());
    const nn2 = await server(active);
    const c = client([nn1.url, nn2.url]);
    await c.mkdirs("/a");
    expect(c.activeNamenode()).toBe(nn2.url);
    expect(nn1.count()).toBe(1);
  });

  it("fails over when the first NameNode does not answer within the deadline", async () => {
    const nn1 = await server(hang);
    const nn2 = await server(active);
    const c = client([nn1.url, nn2.url], FAST_RETRY, 150);
    await expect(c.getFileStatus("/a")).resolves.toMatchObject({ type: "DIRECTORY" });
    expect(c.activeNamenode()).toBe(nn2.url);
  });

  it("gives up on a cluster of standbys after maxAttempts rounds, not forever", async () => {
    const nn1 = await server(standby);
    const nn2 = await server(standby);
    const c = client([nn1.url, nn2.url], { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
    const err = await c.getFileStatus("/a").catch((e: unknown) => e);
    expect(isStandby(err)).toBe(true);
    expect((err as WebHdfsError).attempts).toBe(3);
    expect((err as WebHdfsError).message).toContain("[after 3 attempts]");
    expect(nn1.count() + nn2.count()).toBe(6);
  });
});

describe("retries", () => {
  it("retries RetriableException on the same NameNode with backoff until it succeeds", async () => {
    let calls = 0;
    const nn1 = await server((req, res, r) => {
      calls += 1;
      if (calls <= 2) sendRemoteException(res, 403, RETRIABLE, "Namenode is in startup mode");
      else active(req, res, r);
    });
    const nn2 = await server(active);
    const c = client([nn1.url, nn2.url], { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 2 });
    await c.getFileStatus("/a");
    expect(nn1.count()).toBe(3);
    expect(nn2.count()).toBe(0);
  });

  it("stops after maxAttempts requests and reports the retriable error", async () => {
    const nn = await server((_req, res) => sendRemoteException(res, 403, RETRIABLE, "Namenode is in startup mode"));
    const c = client([nn.url], { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 });
    const err = await c.mkdirs("/a").catch((e: unknown) => e);
    expect(isRetriable(err)).toBe(true);
    expect(nn.count()).toBe(4);
  });

  it("retries a 5xx answer", async () => {
    let calls = 0;
    const nn = await server((req, res, r) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>bad gateway</html>");
      } else active(req, res, r);
    });
    const c = client([nn.url]);
    await c.getFileStatus("/a");
    expect(nn.count()).toBe(2);
  });

  it("does not retry a FileNotFoundException", async () => {
    const nn = await server((_req, res) => sendRemoteException(res, 404, NOT_FOUND, "File does not exist: /a"));
    const c = client([nn.url]);
    await expect(c.getFileStatus("/a")).rejects.toMatchObject({ failure: "remote", status: 404 });
    await expect(c.stat("/a")).resolves.toBeNull();
    expect(nn.count()).toBe(2);
  });
});

describe("deadline and abort", () => {
  it("a request without an answer fails with a timeout error after the deadline", async () => {
    const nn = await server(hang);
    const c = client([nn.url], { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 });
    const started = Date.now();
    const err = await c.getFileStatus("/slow", { timeoutMs: 120 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebHdfsError);
    expect((err as WebHdfsError).failure).toBe("timeout");
    expect((err as WebHdfsError).message).toContain("120 ms deadline");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("the AbortSignal stops a pending request at once and is not retried", async () => {
    const nn = await server(hang);
    const c = client([nn.url], { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 2 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await c.getFileStatus("/a", { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as WebHdfsError).failure).toBe("aborted");
    expect(nn.count()).toBe(1);
  });

  it("the AbortSignal also interrupts a backoff sleep", async () => {
    const nn = await server((_req, res) => sendRemoteException(res, 403, RETRIABLE, "Namenode is in startup mode"));
    const c = client([nn.url], { maxAttempts: 6, baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const err = await c.getFileStatus("/a", { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as WebHdfsError).failure).toBe("aborted");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("one AbortSignal shared by many requests stops all of them, and a finished request is not held by it", async () => {
    const slow = await server(hang);
    const fast = await server(active);
    const c = client([slow.url], { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 });
    const quick = client([fast.url]);
    const controller = new AbortController();
    // Finished requests first: they followed the signal while in flight and must not be touched by its abort.
    for (let i = 0; i < 5; i++) await quick.getFileStatus(`/done-${i}`, { signal: controller.signal });
    const pending = Array.from({ length: 20 }, (_, i) => c.getFileStatus(`/a${i}`, { signal: controller.signal }).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 100));
    expect(slow.count()).toBe(20);
    controller.abort();
    const errors = await Promise.all(pending);
    expect(errors.map((e) => (e as WebHdfsError).failure)).toEqual(Array(20).fill("aborted"));
    // Another signal, and none, still work on the same client afterwards.
    await expect(quick.getFileStatus("/after", { signal: new AbortController().signal })).resolves.toMatchObject({ type: "DIRECTORY" });
    await expect(quick.getFileStatus("/after")).resolves.toMatchObject({ type: "DIRECTORY" });
  });

  it("an already aborted signal sends nothing", async () => {
    const nn = await server(active);
    const c = client([nn.url]);
    await expect(c.getFileStatus("/a", { signal: AbortSignal.abort() })).rejects.toMatchObject({ failure: "aborted" });
    expect(nn.count()).toBe(0);
  });
});
