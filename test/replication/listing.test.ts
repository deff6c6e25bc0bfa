// The compact listing against a plain Map built from the same entries (the
// oracle): every look-up, the iteration and the attributes a listing carries.

import { describe, expect, it } from "vitest";
import { CompactListing } from "../../src/replication/listing.js";
import type { Entry } from "../../src/storage/types.js";

function oracle(entries: Entry[]): Map<string, Entry> {
  return new Map(entries.map((e) => [e.name, e]));
}

function randomName(rand: () => number): string {
  const alphabet = ["a", "b", "z", "0", "9", "-", ".", "_", "é", "ß", "中", "😀", "A"];
  const n = 1 + Math.floor(rand() * 12);
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe("CompactListing", () => {
  it("answers every look-up as a Map of the same entries would, for unsorted, repeated and non-ASCII names", () => {
    const rand = lcg(7);
    for (let round = 0; round < 20; round++) {
      const entries: Entry[] = [];
      for (let i = 0; i < 300; i++) {
        const e: Entry = { name: randomName(rand), type: rand() < 0.1 ? "dir" : "file", length: Math.floor(rand() * 1e12), mtime: 1_700_000_000_000 + Math.floor(rand() * 1e9) };
        if (e.type === "file" && rand() < 0.8) Object.assign(e, { blockSize: rand() < 0.5 ? 134217728 : 268435456, permission: rand() < 0.5 ? "644" : "600", replication: 3 });
        entries.push(e);
      }
      const map = oracle(entries);
      const listing = CompactListing.of(entries);
      expect(listing.size).toBe(map.size);
      expect(listing.fileCount).toBe([...map.values()].filter((e) => e.type === "file").length);
      for (const [name, e] of map) {
        expect(listing.has(name)).toBe(true);
        expect(listing.get(name)).toStrictEqual(e);
      }
      for (let i = 0; i < 200; i++) {
        const probe = randomName(rand);
        expect(listing.has(probe)).toBe(map.has(probe));
        expect(listing.get(probe)).toStrictEqual(map.get(probe));
      }
      expect(new Map(listing)).toStrictEqual(map);
      expect([...listing.directories()].map((e) => e.name).sort()).toStrictEqual([...map.values()].filter((e) => e.type === "dir").map((e) => e.name).sort());
    }
  });

  it("keeps what a file has and only that: no attribute appears that the listing did not carry", () => {
    const plain: Entry = { name: "plain", type: "file", length: 5, mtime: 10 };
    const full: Entry = { name: "full", type: "file", length: 6, mtime: 11, blockSize: 1024, permission: "640", replication: 2, version: '"etag-1"' };
    const listing = CompactListing.of([plain, full]);
    expect(listing.get("plain")).toStrictEqual(plain);
    expect(Object.keys(listing.get("plain") ?? {})).toStrictEqual(["name", "type", "length", "mtime"]);
    expect(listing.get("full")).toStrictEqual(full);
    expect(listing.toArray()).toStrictEqual([plain, full]);
  });

  it("holds an empty directory and a directory of many distinct attributes", () => {
    const empty = CompactListing.of([]);
    expect(empty.size).toBe(0);
    expect(empty.get("x")).toBeUndefined();
    const many: Entry[] = Array.from({ length: 70_000 }, (_, i) => ({ name: `f${String(i).padStart(6, "0")}`, type: "file", length: i, mtime: i, blockSize: 512 * (i + 1) }));
    const listing = CompactListing.of(many);
    expect(listing.get("f069999")).toStrictEqual(many[69_999]);
    expect(listing.get("f000300")?.blockSize).toBe(512 * 301);
  });
});
