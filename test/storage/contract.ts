// The Storage contract every implementation must honour (the engine is written
// once against it): one suite, run against every adapter (local, emulated
// WebHDFS, S3 on a real S3 server). What a backend declares in its capabilities
// decides which promises it must keep; every backend must keep the rest, and the
// engine's intention-level writes (atomic.ts) must work on each.
// `open()` gives a storage and an empty directory that belongs to the test.

import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { stageWrite, writeAtomically } from "../../src/replication/atomic.js";
import { isTempName } from "../../src/replication/layout.js";
import { isAlreadyExists, isMissing, readSmallFile, storageReason, type Storage } from "../../src/storage/types.js";

export interface ContractTarget {
  storage: Storage;
  /** An existing, empty directory for this test. */
  dir: string;
}

const text = async (s: Storage, path: string) => (await readSmallFile(s, path, 1 << 20)).toString("utf8");
const rejection = <T>(p: Promise<T>) => p.then(() => null, (e: unknown) => e);

export function storageContract(name: string, open: () => Promise<ContractTarget>): void {
  describe(`Storage contract: ${name}`, () => {
    it("write with an mtime: the file shows that time in stat (and in listings where declared)", async () => {
      const { storage: s, dir } = await open();
      await s.write(`${dir}/f`, Buffer.from("x"), { mtime: 1_600_000_000_000 });
      expect((await s.stat(`${dir}/f`))?.mtime).toBe(1_600_000_000_000);
      const listed = (await s.list(dir))?.find((e) => e.name === "f");
      if (s.capabilities.listedMtimes) expect(listed?.mtime).toBe(1_600_000_000_000);
      else expect(listed?.mtime).not.toBe(1_600_000_000_000);
    });

    it("writeAtomically: only the whole file ever shows, with its mtime; nothing else is left", async () => {
      const { storage: s, dir } = await open();
      await writeAtomically(s, `${dir}/sub/_metadata`, Buffer.from("first"), { ensureParent: true, mtime: 1_600_000_000_000 });
      await writeAtomically(s, `${dir}/sub/_metadata`, Buffer.from("second!"), { overwrite: true, mtime: 1_600_000_001_000 });
      expect(await text(s, `${dir}/sub/_metadata`)).toBe("second!");
      expect((await s.stat(`${dir}/sub/_metadata`))?.mtime).toBe(1_600_000_001_000);
      expect((await s.list(`${dir}/sub`))?.map((e) => e.name)).toEqual(["_metadata"]);
      const staged = stageWrite(s, `${dir}/sub/data`);
      // Where the storage renames, the bytes go to a hidden temporary; else writes are atomic themselves.
      expect(staged.temporary).toBe(s.capabilities.atomicRename);
      if (staged.temporary) expect(isTempName(staged.path.slice(staged.path.lastIndexOf("/") + 1))).toBe(true);
      else expect(s.capabilities.atomicWrite).toBe(true);
    });

    it("a write whose body fails leaves nothing visible at its name, and once discarded nothing at all, also a moment later", async () => {
      const { storage: s, dir } = await open();
      const staged = stageWrite(s, `${dir}/whole`);
      const body = new Readable({ read() {} });
      body.push(Buffer.alloc(1000));
      setTimeout(() => body.destroy(new Error("source broke")), 20);
      const failure = await rejection(s.write(staged.path, body, { overwrite: staged.overwrite }));
      expect(failure).toBeInstanceOf(Error);
      expect(await staged.discard(failure)).toBeNull();
      await sleep(500); // whatever the server still did with the request is done by now
      expect(await s.stat(`${dir}/whole`)).toBeNull();
      expect((await s.list(dir)) ?? []).toEqual([]);
    });

    it("a write aborted mid-upload rejects as aborted, and once its staging is discarded nothing is left, also a moment later", async () => {
      const { storage: s, dir } = await open();
      const staged = stageWrite(s, `${dir}/cut`);
      const body = new Readable({ read() {} });
      body.push(Buffer.alloc(100_000, 3)); // the upload is under way, its end not yet sent
      const controller = new AbortController();
      const writing = rejection(s.write(staged.path, body, { overwrite: staged.overwrite, signal: controller.signal }));
      await sleep(300);
      controller.abort(new Error("stop"));
      const failure = await writing;
      expect(storageReason(failure), String(failure)).toBe("aborted");
      expect(await staged.discard(failure)).toBeNull();
      await sleep(500); // whatever the server still did with the request is done by now
      expect(await s.stat(`${dir}/cut`)).toBeNull();
      expect((await s.list(dir)) ?? []).toEqual([]);
    });

    it("errors carry a typed reason: not-found for a missing file, aborted for a cancelled request", async () => {
      const { storage: s, dir } = await open();
      expect(storageReason(await rejection(s.read(`${dir}/absent`)))).toBe("not-found");
      const controller = new AbortController();
      controller.abort(new Error("stop"));
      expect(storageReason(await rejection(s.write(`${dir}/never`, Buffer.from("x"), { signal: controller.signal })))).toBe("aborted");
      expect(await s.stat(`${dir}/never`)).toBeNull();
    });

    it("the write fence is called before a mutating request is sent; what it throws ends it unsent", async () => {
      const { storage: s, dir } = await open();
      const fenced = new Error("lease lost");
      const err = await rejection(s.write(`${dir}/fenced`, Buffer.from("x"), { guard: () => { throw fenced; } }));
      expect(err === fenced || (err as { cause?: unknown }).cause === fenced).toBe(true);
      expect(await s.stat(`${dir}/fenced`)).toBeNull();
    });

    it("read with a length: only that many bytes (a growing file is copied up to the planned length)", async () => {
      const { storage: s, dir } = await open();
      await s.write(`${dir}/f`, Buffer.from("hello world"));
      const chunks: Buffer[] = [];
      for await (const c of await s.read(`${dir}/f`, { length: 5 })) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe("hello");
      const none: Buffer[] = [];
      await s.write(`${dir}/empty`, Buffer.alloc(0));
      for await (const c of await s.read(`${dir}/empty`, { length: 0 })) none.push(c as Buffer);
      expect(Buffer.concat(none).length).toBe(0);
    });

    it("stat: a file, a directory, and null for a missing path", async () => {
      const { storage: s, dir } = await open();
      await s.write(`${dir}/f`, Buffer.from("hello"));
      await s.mkdirs(`${dir}/d`);
      expect(await s.stat(`${dir}/f`)).toMatchObject({ name: "f", type: "file", length: 5 });
      expect(await s.stat(`${dir}/d`)).toMatchObject({ name: "d", type: "dir", length: 0 });
      expect(await s.stat(`${dir}/nope`)).toBeNull();
      expect(await s.stat(`${dir}/nope/deeper`)).toBeNull();
    });

    it("list: children with types and lengths, [] for an empty directory, null for a missing one", async () => {
      const { storage: s, dir } = await open();
      await s.mkdirs(`${dir}/a/sub`);
      await s.write(`${dir}/a/f1`, Buffer.alloc(3));
      await s.write(`${dir}/a/f2`, Buffer.alloc(0));
      const entries = (await s.list(`${dir}/a`))!.map((e) => ({ name: e.name, type: e.type, length: e.length }));
      expect(entries.sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
        { name: "f1", type: "file", length: 3 },
        { name: "f2", type: "file", length: 0 },
        { name: "sub", type: "dir", length: 0 },
      ]);
      expect(await s.list(`${dir}/a/sub`)).toEqual([]);
      expect(await s.list(`${dir}/missing`)).toBeNull();
    });

    it("a directory's mtime moves when a child is added or removed, where declared (the scanner's cache relies on it)", async (ctx) => {
      const { storage: s, dir } = await open();
      if (!s.capabilities.directoryMtimes) return ctx.skip("declares no directory mtimes: the scanner caches nothing on it");
      await s.mkdirs(`${dir}/d`);
      const t0 = (await s.stat(`${dir}/d`))!.mtime;
      await sleep(15);
      await s.write(`${dir}/d/f`, Buffer.from("x"));
      const t1 = (await s.stat(`${dir}/d`))!.mtime;
      expect(t1).toBeGreaterThan(t0);
      await sleep(15);
      await s.delete(`${dir}/d/f`);
      expect((await s.stat(`${dir}/d`))!.mtime).toBeGreaterThan(t1);
    });

    it("read streams a file's bytes; a missing file rejects as missing", async () => {
      const { storage: s, dir } = await open();
      const bytes = Buffer.alloc(300_000, 7);
      bytes.write("head", 0);
      await s.write(`${dir}/big`, bytes);
      expect(Buffer.compare(await readSmallFile(s, `${dir}/big`, 1 << 20), bytes)).toBe(0);
      const err = await rejection(s.read(`${dir}/absent`));
      expect(isMissing(err)).toBe(true);
    });

    it("write from a stream; exclusive by default where declared, replacing with overwrite", async () => {
      const { storage: s, dir } = await open();
      await s.write(`${dir}/f`, Readable.from([Buffer.from("first "), Buffer.from("version")]));
      expect(await text(s, `${dir}/f`)).toBe("first version");
      if (s.capabilities.exclusiveCreate) {
        const err = await rejection(s.write(`${dir}/f`, Buffer.from("second")));
        expect(isAlreadyExists(err)).toBe(true);
        expect(await text(s, `${dir}/f`)).toBe("first version");
      }
      await s.write(`${dir}/f`, Buffer.from("second"), { overwrite: true });
      expect(await text(s, `${dir}/f`)).toBe("second");
    });

    it("exclusive create, where declared: of creators racing for one name exactly one wins (the lease relies on it)", async (ctx) => {
      const { storage: s, dir } = await open();
      if (!s.capabilities.exclusiveCreate) return ctx.skip("declares no exclusive create: the lease says so at start-up");
      const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => s.write(`${dir}/epoch`, Buffer.from(`writer ${i}`))));
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === "rejected") expect(storageReason(r.reason)).toBe("exists");
      expect(await text(s, `${dir}/epoch`)).toMatch(/^writer \d$/);
    });

    it("conditional writes, where declared: replace only the version given, else reason conflict", async (ctx) => {
      const { storage: s, dir } = await open();
      if (!s.capabilities.conditionalWrite) return ctx.skip("declares no conditional writes");
      await s.write(`${dir}/lease`, Buffer.from("v1"));
      const v1 = (await s.stat(`${dir}/lease`))?.version;
      expect(typeof v1).toBe("string");
      await s.write(`${dir}/lease`, Buffer.from("v2"), { overwrite: true, ifMatch: v1! });
      const err = await rejection(s.write(`${dir}/lease`, Buffer.from("v3"), { overwrite: true, ifMatch: v1! }));
      expect(storageReason(err)).toBe("conflict");
      expect(await text(s, `${dir}/lease`)).toBe("v2");
    });

    it("write rejects when its body stream fails", async () => {
      const { storage: s, dir } = await open();
      const body = new Readable({ read() {} });
      body.push(Buffer.alloc(1000));
      setTimeout(() => body.destroy(new Error("source broke")), 20);
      await expect(s.write(`${dir}/partial`, body)).rejects.toThrow();
    });

    it("write rejects (and nothing crashes) when its body fails before the upload has started reading it", async () => {
      const { storage: s, dir } = await open();
      const body = new Readable({ read() {} });
      body.destroy(new Error("source broke at once")); // 'error' is emitted on the next tick, before any upload step
      await expect(s.write(`${dir}/early`, body)).rejects.toThrow();
    });

    it("mkdirs creates parents and is idempotent", async () => {
      const { storage: s, dir } = await open();
      await s.mkdirs(`${dir}/x/y/z`);
      await s.mkdirs(`${dir}/x/y/z`);
      expect((await s.stat(`${dir}/x/y/z`))?.type).toBe("dir");
    });

    it("rename, where atomic: moves, refuses an existing destination without overwrite, replaces it with overwrite", async (ctx) => {
      const { storage: s, dir } = await open();
      if (!s.capabilities.atomicRename) return ctx.skip("declares no atomic rename: files are written whole in place");
      await s.write(`${dir}/a`, Buffer.from("A"));
      await s.write(`${dir}/b`, Buffer.from("B"));
      await s.rename(`${dir}/a`, `${dir}/c`);
      expect(await s.stat(`${dir}/a`)).toBeNull();
      expect(await text(s, `${dir}/c`)).toBe("A");

      const err = await rejection(s.rename(`${dir}/c`, `${dir}/b`));
      expect(isAlreadyExists(err)).toBe(true);
      expect(await text(s, `${dir}/b`)).toBe("B");
      expect(await text(s, `${dir}/c`)).toBe("A");

      await s.rename(`${dir}/c`, `${dir}/b`, { overwrite: true });
      expect(await text(s, `${dir}/b`)).toBe("A");
      expect(await s.stat(`${dir}/c`)).toBeNull();
    });

    it("rename of a missing source rejects as missing", async (ctx) => {
      const { storage: s, dir } = await open();
      if (!s.capabilities.atomicRename) return ctx.skip("declares no atomic rename");
      const err = await rejection(s.rename(`${dir}/ghost`, `${dir}/x`, { overwrite: true }));
      expect(isMissing(err)).toBe(true);
    });

    it("delete: true for a file, false when nothing was there, refuses a non-empty directory unless recursive", async () => {
      const { storage: s, dir } = await open();
      await s.mkdirs(`${dir}/d/sub`);
      await s.write(`${dir}/d/sub/f`, Buffer.from("x"));
      await s.write(`${dir}/f`, Buffer.from("x"));
      expect(await s.delete(`${dir}/f`)).toBe(true);
      expect(await s.stat(`${dir}/f`)).toBeNull();
      expect(await s.delete(`${dir}/f`)).toBe(false);

      await expect(s.delete(`${dir}/d`)).rejects.toThrow();
      expect((await s.stat(`${dir}/d/sub/f`))?.type).toBe("file");
      expect(await s.delete(`${dir}/d`, { recursive: true })).toBe(true);
      expect(await s.stat(`${dir}/d`)).toBeNull();

      await s.mkdirs(`${dir}/empty`);
      expect(await s.delete(`${dir}/empty`)).toBe(true);
    });

    it("checksum: none where none is declared, else equal for equal contents and different for different contents", async () => {
      const { storage: s, dir } = await open();
      await s.write(`${dir}/a`, Buffer.from("same bytes"));
      await s.write(`${dir}/b`, Buffer.from("same bytes"));
      await s.write(`${dir}/c`, Buffer.from("other bytes"));
      const [a, b, c] = await Promise.all([s.checksum(`${dir}/a`), s.checksum(`${dir}/b`), s.checksum(`${dir}/c`)]);
      expect(a === null).toBe(s.capabilities.checksum === null);
      if (a === null) {
        expect([b, c]).toEqual([null, null]);
        return;
      }
      expect(a).toMatch(/^[^:]+:[0-9a-f]+$/);
      expect(b).toBe(a);
      expect(c).not.toBe(a);
    });
  });
}
