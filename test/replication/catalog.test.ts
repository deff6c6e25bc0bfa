// MetadataCatalog's verdicts on a _metadata it cannot take at face value: a read that returns fewer
// bytes than the listing says, without an error, is no verdict (incomplete, tried again); the listed
// length read whole that does not parse is corrupt, and reported once. On the target (corruptAfter 0)
// "corrupt" unpublishes a checkpoint, so a short read must never reach it.

import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MetadataCatalog } from "../../src/replication/catalog.js";
import type { Entry, ReadOnlyStorage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";

/** A storage whose _metadata reads return `bytes`, whatever the listing said. */
function storageReturning(bytes: Buffer): ReadOnlyStorage {
  return { name: "t", read: async () => Readable.from([bytes]) } as unknown as ReadOnlyStorage;
}

function catalog(bytes: Buffer, corrupt: string[]): MetadataCatalog {
  return new MetadataCatalog({
    storage: storageReturning(bytes),
    maxBytes: 1024 * 1024,
    corruptAfterMs: 0, // as on the target
    dirUri: (d) => `hdfs://hdfs2${d}`,
    logger: silentLogger,
    onCorrupt: (path) => corrupt.push(path),
  });
}

const entry = (length: number): Entry => ({ name: "_metadata", type: "file", length, mtime: 1_000 });

describe("MetadataCatalog: reads it cannot judge", () => {
  it("a read shorter than the listed length is incomplete, not corrupt", async () => {
    const corrupt: string[] = [];
    const view = await catalog(Buffer.from("garbage"), corrupt).view("/dr/job/chk-1", entry(4096));
    expect(view.state).toBe("incomplete");
    expect(view.state === "incomplete" && view.reason).toMatch(/read 7 bytes where the listing says 4096/);
    expect(corrupt).toEqual([]);
  });

  it("the listed length, read whole, that does not parse is corrupt, reported once", async () => {
    const corrupt: string[] = [];
    const c = catalog(Buffer.from("garbage"), corrupt);
    expect((await c.view("/dr/job/chk-1", entry(7))).state).toBe("corrupt");
    expect((await c.view("/dr/job/chk-1", entry(7))).state).toBe("corrupt");
    expect(corrupt).toEqual(["/dr/job/chk-1/_metadata"]);
  });
});
