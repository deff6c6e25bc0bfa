// writeAtomically(): small files (published _metadata, records, the lease) are
// seen whole or not at all, and a failed write leaves no temporary behind.

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AtomicWriteError, renameIntoPlace, writeAtomically } from "../../src/replication/atomic.js";
import { LocalStorage } from "../../src/storage/local.js";
import { isAlreadyExists, StorageError, type Storage } from "../../src/storage/types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "atomic-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A storage whose writes keep only the first half of the bytes, like an upload cut short and closed. */
function truncatingStorage(): Storage {
  const inner = new LocalStorage("t");
  return new Proxy(inner, {
    get(t, prop, receiver) {
      if (prop === "write") return (p: string, body: Uint8Array, o: object) => t.write(p, body.subarray(0, Math.floor(body.length / 2)), o);
      const v = Reflect.get(t, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe("writeAtomically", () => {
  it("writes the file (creating its parent when asked) and leaves nothing else", async () => {
    await writeAtomically(new LocalStorage("t"), `${dir}/a/b/record.json`, Buffer.from("{}"), { ensureParent: true });
    expect(await readFile(`${dir}/a/b/record.json`, "utf8")).toBe("{}");
    expect(await readdir(`${dir}/a/b`)).toEqual(["record.json"]);
  });

  it("replaces an existing file by default, and refuses to with overwrite: false", async () => {
    await writeFile(`${dir}/f`, "old");
    await writeAtomically(new LocalStorage("t"), `${dir}/f`, Buffer.from("new"));
    expect(await readFile(`${dir}/f`, "utf8")).toBe("new");
    const err = await writeAtomically(new LocalStorage("t"), `${dir}/f`, Buffer.from("newer"), { overwrite: false }).then(() => null, (e: unknown) => e);
    expect(isAlreadyExists(err)).toBe(true);
    expect(await readFile(`${dir}/f`, "utf8")).toBe("new");
    expect(await readdir(dir)).toEqual(["f"]);
  });

  it("fails with AtomicWriteError when the written copy is short, and nothing appears", async () => {
    const err = await writeAtomically(truncatingStorage(), `${dir}/_metadata`, Buffer.alloc(100)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AtomicWriteError);
    expect(err).toMatchObject({ path: `${dir}/_metadata`, problem: "temporary copy has 50 bytes instead of 100" });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("writeAtomically and a retried CREATE (issue #9 §3)", () => {
  /**
   * A storage whose first write lands and then fails the way the WebHDFS client's own retry does: the
   * first attempt created the file but its answer was lost, and the retried CREATE (overwrite=false) finds
   * the file there: FileAlreadyExistsException.
   */
  function retriedCreateStorage(): { storage: Storage; writes: string[] } {
    const inner = new LocalStorage("t");
    const writes: string[] = [];
    const storage = new Proxy(inner, {
      get(t, prop, receiver) {
        if (prop === "write")
          return async (p: string, body: Uint8Array, o: { overwrite?: boolean }) => {
            writes.push(p);
            await t.write(p, body, o);
            if (writes.length === 1) await t.write(p, body, o); // the retry: EEXIST with overwrite=false
          };
        const v = Reflect.get(t, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    return { storage, writes };
  }

  it("starts again under a new random temporary name, and leaves nothing behind", async () => {
    const { storage, writes } = retriedCreateStorage();
    await writeAtomically(storage, `${dir}/lease`, Buffer.from("held"));
    expect(await readFile(`${dir}/lease`, "utf8")).toBe("held");
    expect(writes).toHaveLength(2);
    expect(writes[0]).not.toBe(writes[1]);
    for (const w of writes) expect(w).toMatch(new RegExp(`^${dir}/\\.lease\\.ckpt-tmp\\.[0-9a-f]{12}$`));
    expect(await readdir(dir)).toEqual(["lease"]);
  });

  it("a file that really exists under the final name is still refused with overwrite: false", async () => {
    await writeFile(`${dir}/taken`, "theirs");
    const { storage } = retriedCreateStorage();
    const err = await writeAtomically(storage, `${dir}/taken`, Buffer.from("mine"), { overwrite: false }).then(() => null, (e: unknown) => e);
    expect(isAlreadyExists(err)).toBe(true);
    expect(await readFile(`${dir}/taken`, "utf8")).toBe("theirs");
    expect(await readdir(dir)).toEqual(["taken"]);
  });
});

describe("renameIntoPlace", () => {
  /** A storage whose rename succeeds on the server but reports "not found", as a retried rename does. */
  function renameRetriedStorage(): Storage {
    const inner = new LocalStorage("t");
    return new Proxy(inner, {
      get(t, prop, receiver) {
        if (prop === "rename")
          return async (a: string, b: string, o: object) => {
            await t.rename(a, b, o);
            throw new StorageError({ reason: "not-found", storage: "t", operation: "rename", path: a, message: `${a} not found` });
          };
        const v = Reflect.get(t, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  }

  it("treats a retried rename whose first attempt landed as done", async () => {
    const storage = renameRetriedStorage();
    await writeAtomically(storage, `${dir}/meta`, Buffer.from("12345"));
    expect(await readFile(`${dir}/meta`, "utf8")).toBe("12345");
  });

  it("still fails when the temporary is gone and the destination is not the expected file", async () => {
    await writeFile(`${dir}/dest`, "other content");
    await writeFile(`${dir}/.dest.tmp`, "12345");
    const storage = renameRetriedStorage();
    // The rename lands, the destination then has 5 bytes, but 7 were expected.
    await expect(renameIntoPlace(storage, `${dir}/.dest.tmp`, `${dir}/dest`, 7)).rejects.toThrow(/not found/);
  });
});
