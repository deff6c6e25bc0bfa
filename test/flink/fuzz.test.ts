// Deterministic fuzzing of the reader with every real fixture: truncations, bit
// flips and inflated length/count fields. Each input must parse or fail with a
// MetadataFormatError, quickly, and no allocation may exceed the 64 MiB cap.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithShared } from "../helpers/shared.js";
import { MetadataFormatError, parseMetadata, type ParseStats } from "../../src/flink/index.js";
import { readManifest } from "./manifest.js";

const CAP = 64 * 1024 * 1024;
const CASES_PER_FIXTURE = 2000;

/** mulberry32: small seeded PRNG, so every run fuzzes the same inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BIG_VALUES = [0x7fffffff, 0x10000000, 0x00ffffff, 0x0000ffff, 0x80000000 | 0, -1, 65535];

function mutate(original: Buffer, rnd: () => number, i: number): Buffer {
  const pick = (n: number) => Math.floor(rnd() * n);
  switch (i % 3) {
    case 0:
      return Buffer.from(original.subarray(0, pick(original.length)));
    case 1: {
      const b = Buffer.from(original);
      for (let k = 1 + pick(4); k > 0; k--) {
        const at = pick(b.length);
        b[at]! ^= 1 << pick(8);
      }
      return b;
    }
    default: {
      const b = Buffer.from(original);
      const at = pick(b.length - 4);
      const value = BIG_VALUES[pick(BIG_VALUES.length)]!;
      if (rnd() < 0.3) b.writeUInt16BE(value & 0xffff, at);
      else b.writeInt32BE(value, at);
      return b;
    }
  }
}

function outcome(input: Buffer): { ok: boolean; ms: number; stats: ParseStats } {
  const stats: ParseStats = { largestAllocationBytes: 0 };
  const start = performance.now();
  try {
    parseMetadata(input, { stats });
    return { ok: true, ms: performance.now() - start, stats };
  } catch (err) {
    if (!(err instanceof MetadataFormatError)) {
      throw new Error(`non-MetadataFormatError for input of ${input.length} bytes: ${String(err)}`, { cause: err });
    }
    expect(err.message).toMatch(/^invalid Flink metadata at byte \d+ \(/);
    return { ok: false, ms: performance.now() - start, stats };
  }
}

describeWithShared("Flink metadata reader fuzzing", (shared) => {
  const root = join(shared, "fixtures", "flink-metadata");
  for (const entry of readManifest(root)) {
    it(`${entry.folder}: ${CASES_PER_FIXTURE} mutated inputs parse or fail with MetadataFormatError`, () => {
      const original = readFileSync(join(root, entry.folder, "_metadata"));
      const rnd = prng(0xc0ffee ^ original.length);
      let failures = 0;
      let slowest = 0;
      let largest = 0;
      for (let i = 0; i < CASES_PER_FIXTURE; i++) {
        const r = outcome(mutate(original, rnd, i));
        if (!r.ok) failures++;
        slowest = Math.max(slowest, r.ms);
        largest = Math.max(largest, r.stats.largestAllocationBytes);
      }
      expect(slowest).toBeLessThan(1000);
      expect(largest).toBeLessThanOrEqual(CAP);
      // Every truncation must fail; most other mutations do too.
      expect(failures).toBeGreaterThanOrEqual(CASES_PER_FIXTURE / 3);
    });
  }

  it("a count claiming 2^31-1 operators fails before allocating, naming the field", () => {
    const original = readFileSync(join(root, "flink-1.15-hashmap-checkpoint", "_metadata"));
    const b = Buffer.from(original);
    b.writeInt32BE(0x7fffffff, 20); // numOperators
    const stats: ParseStats = { largestAllocationBytes: 0 };
    expect(() => parseMetadata(b, { stats })).toThrow(/at byte 24 \(operators\): 2147483647 elements of at least 29 bytes, but only 2380 bytes remain/);
    expect(stats.largestAllocationBytes).toBeLessThan(1024);
  });

  it("the allocation cap is enforced on every allocation the reader makes", () => {
    const original = readFileSync(join(root, "flink-1.9-heap-savepoint", "_metadata"));
    expect(() => parseMetadata(original, { limits: { maxAllocationBytes: 32 } })).toThrow(/an allocation of at most 32 bytes/);
  });

  it("handles nested deeper than the limit fail with MetadataFormatError, not a stack overflow", () => {
    // version 2, checkpoint 0, no master states, 1 operator, 1 subtask whose managed keyed state is
    // an incremental handle whose meta handle is tag 3 -> tag 3 -> ... 100 000 times.
    const head = Buffer.alloc(8 + 8 + 4 + 4 + 16 + 16 + 4 + 8 + 4 + 4 + 4);
    let o = 0;
    o = head.writeInt32BE(0x4960672d, o);
    o = head.writeInt32BE(2, o);
    o = head.writeBigInt64BE(0n, o);
    o = head.writeInt32BE(0, o); // master states
    o = head.writeInt32BE(1, o); // operators
    o += 16; // operator id
    o = head.writeInt32BE(1, o); // parallelism
    o = head.writeInt32BE(1, o); // max parallelism
    o = head.writeInt32BE(1, o); // chain length
    o = head.writeInt32BE(1, o); // subtask count
    o = head.writeInt32BE(0, o); // subtask index
    o = head.writeBigInt64BE(-1n, o); // duration
    o = head.writeInt32BE(0, o); // legacy
    o = head.writeInt32BE(0, o); // managed op
    head.writeInt32BE(0, o); // raw op
    const incremental = Buffer.concat([Buffer.from([5]), Buffer.alloc(8), Buffer.from([0, 1, 0x62]), Buffer.alloc(8)]);
    const chain = Buffer.alloc(100_000 * 9, Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0]));
    const input = Buffer.concat([head, incremental, chain]);
    expect(() => parseMetadata(input)).toThrow(/nesting of at most 64 levels/);
  });
});
