// LocalStorage against the Storage contract, plus its typed errors.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStorage } from "../../src/storage/local.js";
import { StorageError } from "../../src/storage/errors.js";
import { storageContract } from "./contract.js";

let base: string;
let n = 0;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "local-storage-"));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

storageContract("LocalStorage", async () => {
  const storage = new LocalStorage("local");
  const dir = join(base, `t${n++}`);
  await storage.mkdirs(dir);
  return { storage, dir };
});

describe("LocalStorage errors", () => {
  it("carry the reason, the storage, the operation and the path; the errno error stays as the cause", async () => {
    const s = new LocalStorage("dr-local");
    const err = await s.read(join(base, "none")).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ kind: "storage", reason: "not-found", storage: "dr-local", operation: "read", path: join(base, "none") });
    expect((err as StorageError).cause).toMatchObject({ code: "ENOENT" });
    expect((err as Error).message).toBe(`dr-local: read ${join(base, "none")} failed: ENOENT`);
  });
});
