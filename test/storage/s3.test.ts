// S3Storage against the Storage contract on a real S3-compatible server (moto),
// plus what only an object store has: multipart uploads with bounded memory,
// aborted and stale uploads, ListObjectsV2 paging, reasons of S3 failures, and a
// read whose body is cut mid-stream.

import { createServer, Socket, type Server } from "node:net";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3ServiceException } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/storage/errors.js";
import { s3Reason, type S3Storage } from "../../src/storage/s3.js";
import { readSmallFile, storageReason } from "../../src/storage/types.js";
import { s3ServerMissing, startS3Server, type S3Server } from "../helpers/s3-server.js";
import { storageContract } from "./contract.js";

const missing = s3ServerMissing("S3 storage contract");

/** A proxy to `endpoint` that cuts every response after `forward` bytes, by a reset or an early close. */
async function cuttingProxy(endpoint: string, how: "reset" | "close", forward: number): Promise<{ endpoint: string; server: Server }> {
  const upstream = new URL(endpoint);
  const proxy = createServer((client) => {
    const up = new Socket();
    up.connect(Number(upstream.port), upstream.hostname);
    client.pipe(up);
    let sent = 0;
    up.on("data", (chunk: Buffer) => {
      if (sent >= forward) return;
      const room = forward - sent;
      client.write(chunk.subarray(0, room));
      sent += Math.min(room, chunk.length);
      if (sent >= forward) {
        up.destroy();
        if (how === "reset") client.resetAndDestroy();
        else client.end();
      }
    });
    up.on("error", () => client.destroy());
    client.on("error", () => up.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`, server: proxy };
}
let server: S3Server;
let storage: S3Storage;
let n = 0;

if (missing === null) {
  beforeAll(async () => {
    server = await startS3Server();
    storage = await server.storage("contract");
  }, 180_000);
  afterAll(async () => {
    storage?.close();
    await server?.stop();
  });

  storageContract("S3Storage (moto server)", async () => {
    const dir = `/contract/t${n++}`;
    await storage.mkdirs(dir);
    return { storage, dir };
  });

  describe("S3Storage on a real S3 server", () => {
    it("streams a file larger than one part as a multipart upload; the object appears whole", async () => {
      const part = Buffer.alloc(1024 * 1024, 3);
      let pushed = 0;
      const body = new Readable({
        read() {
          this.push(pushed < 12 ? part : null);
          pushed++;
        },
      });
      await storage.write("/mp/big", body, { overwrite: true, mtime: 1_600_000_000_000 });
      const st = await storage.stat("/mp/big");
      expect(st).toMatchObject({ type: "file", length: 12 * 1024 * 1024, mtime: 1_600_000_000_000 });
      expect(st?.version).toMatch(/-\d+"?$/); // a multipart ETag: "<md5 of md5s>-<parts>"
    });

    it("a multipart upload whose body fails is aborted on the store: no object, no upload left", async () => {
      const part = Buffer.alloc(1024 * 1024, 5);
      let pushed = 0;
      const body = new Readable({
        read() {
          if (pushed++ < 7) this.push(part);
          else this.destroy(new Error("source broke mid-upload"));
        },
      });
      await expect(storage.write("/mp/broken", body, { overwrite: true })).rejects.toThrow();
      expect(await storage.stat("/mp/broken")).toBeNull();
      const uploads = await (await storage.s3Client()).send(new ListMultipartUploadsCommand({ Bucket: "contract", Prefix: "mp/broken" }));
      expect(uploads.Uploads ?? []).toEqual([]);
    });

    it("aborts uploads left by a crash once they are older than the grace, and only those", async () => {
      const old = await (await storage.s3Client()).send(new CreateMultipartUploadCommand({ Bucket: "contract", Key: "stale/left-by-crash" }));
      // Judged on the store's own Initiated time (moto reports a fixed one, so "now" is set from it).
      const listed = await (await storage.s3Client()).send(new ListMultipartUploadsCommand({ Bucket: "contract", Prefix: "stale/" }));
      const initiated = listed.Uploads?.find((u) => u.UploadId === old.UploadId)?.Initiated?.getTime();
      expect(initiated).toBeTypeOf("number");
      const grace = 24 * 3600_000;
      expect(await storage.cleanStaleUploads({}, initiated! + grace - 1000)).toBe(0); // younger than the grace: kept
      expect(await storage.cleanStaleUploads({}, initiated! + grace + 1000)).toBeGreaterThanOrEqual(1);
      const left = await (await storage.s3Client()).send(new ListMultipartUploadsCommand({ Bucket: "contract", Prefix: "stale/" }));
      expect((left.Uploads ?? []).map((u) => u.UploadId)).not.toContain(old.UploadId);
      await (await storage.s3Client()).send(new AbortMultipartUploadCommand({ Bucket: "contract", Key: "stale/left-by-crash", UploadId: old.UploadId })).catch(() => undefined);
    });

    it("lists across ListObjectsV2 pages (continuation tokens) completely, directories included, and deletes them recursively", async () => {
      const paged = await server.storage("contract", { listPageSize: 7 });
      await Promise.all(Array.from({ length: 45 }, (_, i) => paged.write(`/paged/f${String(i).padStart(3, "0")}`, Buffer.from("x"), { overwrite: true })));
      await paged.write("/paged/sub/deeper", Buffer.from("y"), { overwrite: true });
      const entries = await paged.list("/paged");
      expect(entries).toHaveLength(46);
      expect(entries?.[44]?.name).toBe("f044");
      expect(entries?.[45]).toMatchObject({ name: "sub", type: "dir" });
      expect(await paged.delete("/paged", { recursive: true })).toBe(true);
      expect(await paged.list("/paged")).toBeNull();
      paged.close();
    });

    it("reads only the planned length of a file", async () => {
      await storage.write("/len/f", Buffer.from("hello world"), { overwrite: true });
      expect((await readSmallFile({ name: "s3", read: (p, o) => storage.read(p, { ...o, length: 5 }) }, "/len/f", 100)).toString()).toBe("hello");
    });

    it("a store without conditional writes declares neither exclusive create nor compare-and-swap", async () => {
      const plain = await server.storage("contract", { conditionalWrites: false });
      expect(plain.capabilities).toMatchObject({ exclusiveCreate: false, conditionalWrite: false, atomicWrite: true, atomicRename: false });
      plain.close();
    });

    it("an endpoint nobody listens on is unreachable, with a hint naming it", async () => {
      const dead = await server.storage("contract", { endpoint: "http://127.0.0.1:9", maxAttempts: 1 });
      const err = await dead.stat("/x").then(() => null, (e: unknown) => e);
      expect(storageReason(err)).toBe("unreachable");
      expect(err).toMatchObject({ hint: "is http://127.0.0.1:9 reachable?" });
      dead.close();
    });
  });

  describe("S3Storage read cut mid-stream (the server behind a cutting TCP proxy)", () => {
    // The proxy forwards the first bytes of each response, then resets the connection or closes it early:
    // the reader must see a transient StorageError naming read and the path (as with WebHDFS), never a bare
    // socket error and never a short file taken for a whole one.
    const SIZE = 4 * 1024 * 1024;
    const proxies: Server[] = [];
    const readers: S3Storage[] = [];
    beforeAll(async () => {
      await storage.write("/cut/chk-1/state", Buffer.alloc(SIZE, 7), { overwrite: true });
    });
    afterAll(async () => {
      for (const r of readers) r.close();
      for (const p of proxies) await new Promise((r) => p.close(r));
    });

    it("reads the whole object without the proxy (the cut below is the proxy's doing)", async () => {
      expect((await buffer(await storage.read("/cut/chk-1/state"))).length).toBe(SIZE);
    });

    it.each(["reset", "close"] as const)("a body cut by a connection %s fails as a transient StorageError naming read and the path", async (how) => {
      const proxy = await cuttingProxy(server.endpoint, how, 256 * 1024);
      proxies.push(proxy.server);
      const reader = await server.storage("contract", { endpoint: proxy.endpoint, maxAttempts: 1 });
      readers.push(reader);
      const err = await buffer(await reader.read("/cut/chk-1/state")).then(
        (b) => new Error(`read ${b.length} of ${SIZE} bytes without an error`),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ reason: "transient", operation: "read", path: "/cut/chk-1/state", storage: "s3" });
      expect((err as Error).message).toMatch(/after \d+ of 4194304 bytes/);
    });
  });
} else {
  it(missing, (ctx) => ctx.skip(missing));
}

describe("S3 failures as storage reasons", () => {
  const svc = (name: string, status: number) => new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status } });
  it.each([
    ["NoSuchKey", 404, undefined, "not-found"],
    ["PreconditionFailed (If-None-Match)", 412, "if-none-match", "exists"],
    ["PreconditionFailed (If-Match)", 412, "if-match", "conflict"],
    ["AccessDenied", 403, undefined, "denied"],
    ["SlowDown", 503, undefined, "transient"],
    ["InternalError", 500, undefined, "transient"],
    ["NotImplemented", 501, undefined, "unsupported"],
    ["InvalidArgument", 400, undefined, "fatal"],
  ] as const)("%s (HTTP %d, %s) -> %s", (name, status, conditional, reason) => {
    expect(s3Reason(svc(name.split(" ")[0]!, status), conditional)).toBe(reason);
  });
});
