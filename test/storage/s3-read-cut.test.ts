// An S3 read whose body is cut mid-stream, on the real S3 server (moto) behind
// a TCP proxy that forwards the first bytes of each response and then resets
// the connection or closes it early: the reader sees a StorageError of reason
// `transient` naming the operation and the path (as with WebHDFS), never a bare
// socket error and never a short file taken for a whole one.

import { createServer, Socket, type Server } from "node:net";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/storage/errors.js";
import type { S3Storage } from "../../src/storage/s3.js";
import { s3ServerMissing, startS3Server, type S3Server } from "../helpers/s3-server.js";

const missing = s3ServerMissing("S3 read cut mid-stream");
const SIZE = 4 * 1024 * 1024;
const FORWARD = 256 * 1024; // response bytes let through before the cut (headers + part of the body)

/** A proxy to `endpoint` that cuts every response after FORWARD bytes, by reset or by an early close. */
async function cuttingProxy(endpoint: string, how: "reset" | "close"): Promise<{ endpoint: string; server: Server }> {
  const upstream = new URL(endpoint);
  const server = createServer((client) => {
    const up = new Socket();
    up.connect(Number(upstream.port), upstream.hostname);
    client.pipe(up);
    let sent = 0;
    up.on("data", (chunk: Buffer) => {
      if (sent >= FORWARD) return;
      const room = FORWARD - sent;
      client.write(chunk.subarray(0, room));
      sent += Math.min(room, chunk.length);
      if (sent >= FORWARD) {
        up.destroy();
        if (how === "reset") client.resetAndDestroy();
        else client.end();
      }
    });
    up.on("error", () => client.destroy());
    client.on("error", () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

if (missing === null) {
  describe("S3Storage read cut mid-stream (moto behind a cutting proxy)", () => {
    let s3: S3Server;
    let writer: S3Storage;
    const proxies: Server[] = [];
    const readers: S3Storage[] = [];

    beforeAll(async () => {
      s3 = await startS3Server();
      writer = await s3.storage("cut");
      await writer.write("/job/chk-1/state", Buffer.alloc(SIZE, 7), { overwrite: true });
    }, 180_000);
    afterAll(async () => {
      for (const r of readers) r.close();
      writer?.close();
      for (const p of proxies) await new Promise((r) => p.close(r));
      await s3?.stop();
    });

    async function readerVia(how: "reset" | "close"): Promise<S3Storage> {
      const proxy = await cuttingProxy(s3.endpoint, how);
      proxies.push(proxy.server);
      const reader = await s3.storage("cut", { endpoint: proxy.endpoint, maxAttempts: 1 });
      readers.push(reader);
      return reader;
    }

    it("reads the whole object without the proxy (the cut below is the proxy's doing)", async () => {
      expect((await buffer(await writer.read("/job/chk-1/state"))).length).toBe(SIZE);
    });

    it.each(["reset", "close"] as const)("a body cut by a connection %s fails as a transient StorageError naming read and the path", async (how) => {
      const reader = await readerVia(how);
      const stream = await reader.read("/job/chk-1/state");
      const err = await buffer(stream).then(
        (b) => new Error(`read ${b.length} of ${SIZE} bytes without an error`),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ reason: "transient", operation: "read", path: "/job/chk-1/state", storage: "s3" });
      expect((err as Error).message).toMatch(/after \d+ of 4194304 bytes/);
    });
  });
} else {
  it("S3 read cut mid-stream", (ctx) => ctx.skip(missing));
}
