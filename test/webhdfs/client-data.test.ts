// The two-step data path against scripted fake NameNode + DataNode: OPEN (happy,
// file gone between the steps, truncated body, redirect without Location) and
// CREATE (unsolicited 100 Continue, early 403 during the upload, connection cut
// mid-upload, replayable buffer retried), GETFILECHECKSUM.

import type http from "node:http";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterEach, describe, expect, it } from "vitest";
import { WebHdfsClient, WebHdfsError, isAlreadyExists, isNotFound } from "../../src/webhdfs/index.js";
import {
  ALREADY_EXISTS, FAST_RETRY, NOT_FOUND, redirect, sendJson, sendRemoteException, startFakeServer,
  type FakeServer, type Handler,
} from "./fake-server.js";

let nn: FakeServer;
let dn: FakeServer;
let c: WebHdfsClient;

afterEach(async () => {
  c.close();
  await Promise.all([nn.close(), dn.close()]);
});

/** NN that redirects every op to the DN (keeping the query, as a NameNode does); DN scripted by the test. */
async function cluster(dataNode: Handler): Promise<void> {
  dn = await startFakeServer(dataNode);
  nn = await startFakeServer((_req, res, r) => {
    redirect(res, `${dn.url}${r.rawUrl}&namenoderpcaddress=nameservice1`);
  });
  c = new WebHdfsClient({ name: "hdfs1", namenodes: [nn.url], user: "flink", retry: FAST_RETRY });
}

function drain(req: http.IncomingMessage): Promise<Buffer> {
  return buffer(req);
}

/** A stream of `total` bytes generated in 64 KiB chunks, never held in memory as a whole. */
function generated(total: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(65_536, total - sent);
      sent += size;
      this.push(Buffer.alloc(size, sent % 251));
    },
  });
}

describe("OPEN", () => {
  it("reads the DataNode body and passes offset/length on the NameNode step", async () => {
    await cluster((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": 5, connection: "close" });
      res.end("hello");
    });
    const stream = await c.open("/f", { offset: 3, length: 5 });
    expect((await buffer(stream)).toString()).toBe("hello");
    expect(nn.requests[0]?.query.get("offset")).toBe("3");
    expect(nn.requests[0]?.query.get("length")).toBe("5");
    expect(dn.requests[0]?.query.get("user.name")).toBe("flink");
  });

  it("a file deleted between the NameNode and DataNode steps is a typed not-found from the DataNode", async () => {
    await cluster((_req, res) =>
      sendRemoteException(res, 404, NOT_FOUND, "File does not exist: /f", { connection: "close" }),
    );
    const err = await c.open("/f").catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as WebHdfsError).step).toBe("datanode");
    expect((err as WebHdfsError).message).toBe(
      `hdfs1: OPEN /f failed at datanode ${dn.url} (404 FileNotFoundException): File does not exist: /f`,
    );
    expect(nn.count()).toBe(1);
  });

  it("a body cut before Content-Length makes the stream error with a truncated WebHdfsError", async () => {
    await cluster((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": 100_000 });
      res.write(Buffer.alloc(1000, 1), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const stream = await c.open("/f");
    const err = await buffer(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebHdfsError);
    expect((err as WebHdfsError).failure).toBe("truncated");
    expect((err as WebHdfsError).message).toContain("after 1000 of 100000 bytes");
  });

  it("a redirect without Location is an error that says what was expected", async () => {
    dn = await startFakeServer(() => {});
    nn = await startFakeServer((_req, res) => {
      res.writeHead(307, { "content-length": 0 });
      res.end();
    });
    c = new WebHdfsClient({ name: "hdfs1", namenodes: [nn.url], retry: FAST_RETRY });
    await expect(c.open("/f")).rejects.toMatchObject({ failure: "unexpected-response", status: 307, detail: "redirect without a Location header" });
  });

  it("a DataNode that stalls before its headers hits the deadline; the whole two-step sequence is retried", async () => {
    await cluster(() => {});
    const err = await c.open("/f", { timeoutMs: 150 }).catch((e: unknown) => e);
    expect((err as WebHdfsError).failure).toBe("timeout");
    expect((err as WebHdfsError).step).toBe("datanode");
    expect(nn.count()).toBe(FAST_RETRY.maxAttempts);
    expect(dn.count()).toBe(FAST_RETRY.maxAttempts);
  });

  it("a body that stalls mid-transfer errors the stream after the idle timeout", async () => {
    await cluster((_req, res) => {
      res.writeHead(200, { "content-length": 10_000 });
      res.write(Buffer.alloc(100));
    });
    const stream = await c.open("/f", { timeoutMs: 150 });
    const err = await buffer(stream).catch((e: unknown) => e);
    expect((err as WebHdfsError).failure).toBe("timeout");
    expect((err as WebHdfsError).message).toContain("after 100 bytes");
  });

  it("the AbortSignal ends a stream that is being read", async () => {
    await cluster((_req, res) => {
      res.writeHead(200, { "content-length": 10_000 });
      res.write(Buffer.alloc(100));
    });
    const controller = new AbortController();
    const stream = await c.open("/f", { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const err = await buffer(stream).catch((e: unknown) => e);
    expect((err as WebHdfsError).failure).toBe("aborted");
    expect((err as WebHdfsError).step).toBe("datanode");
  });
});

describe("connections", () => {
  it("NameNode connections are reused (keep-alive); DataNode connections are not", async () => {
    await cluster((_req, res) => {
      res.writeHead(200, { "content-length": 2 });
      res.end("ok");
    });
    for (let i = 0; i < 3; i++) expect((await buffer(await c.open("/f"))).toString()).toBe("ok");
    expect(new Set(nn.requests.map((r) => r.remotePort)).size).toBe(1);
    expect(new Set(dn.requests.map((r) => r.remotePort)).size).toBe(3);
    expect(dn.requests.every((r) => r.headers.connection === "close")).toBe(true);
  });
});

describe("CREATE", () => {
  it("streams the body after an unsolicited 100 Continue and resolves on 201", async () => {
    let received = 0;
    await cluster((req, res) => {
      res.writeContinue();
      req.on("data", (chunk: Buffer) => (received += chunk.length));
      req.on("end", () => {
        res.writeHead(201, { location: "hdfs://nameservice1/f", "content-length": 0, connection: "close" });
        res.end();
      });
    });
    await c.create("/f", generated(5 * 1024 * 1024 + 7), { blockSize: 1048576 });
    expect(received).toBe(5 * 1024 * 1024 + 7);
    expect(nn.requests[0]?.method).toBe("PUT");
    expect(nn.requests[0]?.query.get("overwrite")).toBe("false");
    expect(nn.requests[0]?.query.get("blocksize")).toBe("1048576");
    expect(dn.requests[0]?.method).toBe("PUT");
  });

  it("a 403 sent before the body is read rejects with that typed error and destroys the source", async () => {
    await cluster((_req, res) => {
      res.writeContinue();
      sendRemoteException(res, 403, ALREADY_EXISTS, "/f for client 127.0.0.1 already exists", { connection: "close" });
    });
    const source = generated(512 * 1024 * 1024);
    const err = await c.create("/f", source).catch((e: unknown) => e);
    expect(isAlreadyExists(err)).toBe(true);
    expect((err as WebHdfsError).step).toBe("datanode");
    expect(source.destroyed).toBe(true);
    expect(nn.count()).toBe(1);
  });

  it("a connection cut mid-upload rejects, destroys the source and does not retry a consumed stream", async () => {
    await cluster((req) => {
      let got = 0;
      req.on("data", (chunk: Buffer) => {
        got += chunk.length;
        if (got > 256 * 1024) req.socket.destroy();
      });
    });
    const source = generated(64 * 1024 * 1024);
    const err = await c.create("/f", source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebHdfsError);
    expect((err as WebHdfsError).failure).toBe("network");
    expect((err as WebHdfsError).bodyConsumed).toBe(true);
    expect(source.destroyed).toBe(true);
    expect(dn.count()).toBe(1);
  });

  it("the AbortSignal stops an upload in progress and destroys the source", async () => {
    const controller = new AbortController();
    // Aborted once the DataNode is receiving the body (not on a timer: a loaded machine may be slower).
    await cluster((req) => {
      req.resume();
      req.once("data", () => setTimeout(() => controller.abort(), 20));
    });
    const source = generated(1024 * 1024 * 1024);
    const err = await c.create("/f", source, { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as WebHdfsError).failure).toBe("aborted");
    expect(source.destroyed).toBe(true);
    expect(dn.count()).toBe(1);
  });

  it("a buffer body is replayed after a mid-upload failure", async () => {
    const payload = Buffer.alloc(300_000, 7);
    let attempts = 0;
    await cluster((req, res) => {
      attempts += 1;
      if (attempts === 1) {
        req.once("data", () => req.socket.destroy());
        return;
      }
      void drain(req).then((body) => {
        expect(body.equals(payload)).toBe(true);
        res.writeHead(201, { "content-length": 0, connection: "close" });
        res.end();
      });
    });
    await c.create("/f", payload, { overwrite: true });
    expect(dn.count()).toBe(2);
    expect(nn.requests[0]?.query.get("overwrite")).toBe("true");
  });

  it("APPEND posts to the DataNode and accepts 200", async () => {
    await cluster((req, res) => {
      res.writeContinue();
      void drain(req).then((body) => {
        res.writeHead(body.toString() === "more" ? 200 : 500, { "content-length": 0 });
        res.end();
      });
    });
    await c.append("/f", "more");
    expect(nn.requests[0]?.method).toBe("POST");
    expect(dn.requests[0]?.op).toBe("APPEND");
  });
});

describe("GETFILECHECKSUM", () => {
  it("follows the redirect and parses the DataNode's JSON", async () => {
    const bytes = `${"ab".repeat(28)}00000000`;
    await cluster((_req, res) =>
      sendJson(res, 200, { FileChecksum: { algorithm: "MD5-of-0MD5-of-512CRC32C", bytes, length: 28 } }, { connection: "close" }),
    );
    await expect(c.getFileChecksum("/f")).resolves.toEqual({ algorithm: "MD5-of-0MD5-of-512CRC32C", bytes, length: 28 });
  });
});
