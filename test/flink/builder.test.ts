// buildCheckpointMetadata: the metadata the Flink job simulator writes (format
// versions 3, 4, 5 with incremental RocksDB, exclusive file, inline and channel
// state, absolute and relative paths) parses back with the expected closure.
// Also: a hand-assembled version-7 file (layout independent of our writer) and
// modified UTF-8 edge cases.

import { describe, expect, it } from "vitest";
import {
  buildCheckpointMetadata,
  checkpointKind,
  checkpointPropertiesOf,
  handleTypeCounts,
  inlineStateSummary,
  MetadataFormatError,
  parseMetadata,
  referenceClosure,
  referencedCheckpoints,
  serializeMetadata,
  type SimpleCheckpointSpec,
} from "../../src/flink/index.js";
import { decodeModifiedUtf8, encodeModifiedUtf8 } from "../../src/flink/modified-utf8.js";
import { UsageError } from "../../src/util/errors.js";

const JOB = "hdfs://ns1/flink/cp/5b1e0c0a2c1d4d0f9e8a7b6c5d4e3f20";
const CHK = `${JOB}/chk-42`;

function simulatorSpec(version: number): SimpleCheckpointSpec {
  return {
    version,
    checkpointId: 42,
    properties: { kind: "checkpoint" },
    operators: [
      {
        operatorId: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
        name: "Source: numbers",
        uid: "source",
        parallelism: 2,
        coordinatorState: Buffer.from("enumerator"),
        subtasks: [0, 1].map((index) => ({
          index,
          operatorState: { states: [{ name: "offsets", mode: "union" as const, offsets: [0] }], file: { inline: Buffer.alloc(16, index) } },
        })),
      },
      {
        operatorId: "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2",
        name: "Window",
        parallelism: 2,
        subtasks: [0, 1].map((index) => ({
          index,
          keyed: {
            kind: "incremental" as const,
            keyGroups: { start: index * 64, count: 64 },
            meta: { relative: `meta-${index}`, size: 900 },
            shared: [
              { localPath: "000010.sst", file: { absolute: `${JOB}/shared/sst-a`, size: 4096 } },
              { localPath: `0000${11 + index}.sst`, file: { absolute: `${JOB}/shared/sst-${index}`, size: 2048 } },
              { localPath: "000020.sst", file: { inline: Buffer.alloc(10) } },
            ],
            private: [
              { localPath: "MANIFEST-000003", file: { relative: `manifest-${index}`, size: 300 } },
              { localPath: "CURRENT", file: { inline: Buffer.from("MANIFEST-000003\n") } },
            ],
          },
          outputChannels: [{ index0: 0, index1: index, offsets: [0, 100], stateSize: 200, file: { relative: `channels-${index}`, size: 200 } }],
        })),
      },
    ],
  };
}

describe("buildCheckpointMetadata", () => {
  for (const version of [3, 4, 5]) {
    it(`version ${version}: incremental, inline, relative/absolute files and channel state read back`, () => {
      const md = buildCheckpointMetadata(simulatorSpec(version));
      const bytes = serializeMetadata(md);
      const back = parseMetadata(bytes);
      expect(back).toEqual(md);
      expect(serializeMetadata(back).equals(bytes)).toBe(true);
      expect(back.version).toBe(version);
      expect(checkpointKind(back)).toBe(version >= 4 ? "checkpoint" : "unknown");
      if (version >= 5) expect(back.operators.map((o) => [o.name, o.uid])).toEqual([["Source: numbers", "source"], ["Window", ""]]);
      expect(handleTypeCounts(back)).toEqual({
        ByteStreamStateHandle: 1 + 2 + 2 * 2,
        OperatorStreamStateHandle: 2,
        "IncrementalRemoteKeyedStateHandle(v2)": 2,
        FileStateHandle: 4,
        RelativeFileStateHandle: 6,
        ResultSubpartitionStateHandle: 2,
      });
      expect(inlineStateSummary(back)).toEqual({ handles: 7, bytes: 10 + 2 * 16 + 2 * 10 + 2 * 16 });
      const closure = referenceClosure(back, CHK);
      expect(closure.map((f) => [f.location, f.size, f.shared, f.relative])).toEqual([
        [`${CHK}/channels-0`, 200, false, true],
        [`${CHK}/channels-1`, 200, false, true],
        [`${CHK}/manifest-0`, 300, false, true],
        [`${CHK}/manifest-1`, 300, false, true],
        [`${CHK}/meta-0`, 900, false, true],
        [`${CHK}/meta-1`, 900, false, true],
        [`${JOB}/shared/sst-0`, 2048, true, false],
        [`${JOB}/shared/sst-1`, 2048, true, false],
        [`${JOB}/shared/sst-a`, 4096, true, false],
      ]);
      const sstA = closure.find((f) => f.location.endsWith("sst-a"))!;
      expect(sstA.usedBy).toEqual([
        "operator:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2/subtask:0/managedKeyedState/shared[000010.sst]",
        "operator:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2/subtask:1/managedKeyedState/shared[000010.sst]",
      ]);
      expect(sstA.outsideCheckpointDir).toBe(true);
    });
  }

  it("is deterministic: the same spec gives the same bytes", () => {
    expect(serializeMetadata(buildCheckpointMetadata(simulatorSpec(4))).equals(serializeMetadata(buildCheckpointMetadata(simulatorSpec(4))))).toBe(true);
  });

  it("writes savepoint properties for versions 4+", () => {
    const md = buildCheckpointMetadata({ ...simulatorSpec(4), properties: { kind: "savepoint", formatType: "NATIVE", name: "Suspend Savepoint", postCheckpointAction: "SUSPEND" } });
    expect(checkpointPropertiesOf(parseMetadata(serializeMetadata(md)))).toMatchObject({
      kind: "savepoint",
      name: "Suspend Savepoint",
      formatType: "NATIVE",
      postCheckpointAction: "SUSPEND",
      flags: { forced: true, discardSubsumed: false },
    });
  });

  it("version 2 uses the old handle tags and no channel lists", () => {
    const spec = simulatorSpec(2);
    for (const op of spec.operators) {
      delete op.coordinatorState;
      for (const s of op.subtasks) delete s.outputChannels;
    }
    const back = parseMetadata(serializeMetadata(buildCheckpointMetadata(spec)));
    expect(handleTypeCounts(back)).toMatchObject({ "IncrementalRemoteKeyedStateHandle(v1)": 2 });
    expect(back.operators[1]!.subtasks[0]!.state!.inputChannels).toBeUndefined();
  });

  it.each([
    [
      "channel state in version 2",
      { ...simulatorSpec(2), operators: simulatorSpec(2).operators.slice(1) },
      /channel state needs format version 3\+/,
    ],
    ["a bad operator id", { ...simulatorSpec(4), operators: [{ operatorId: "xyz", parallelism: 1, subtasks: [] }] }, /32 lowercase hex digits/],
    ["version 8", { ...simulatorSpec(4), version: 8 }, /format version must be 2 to 7/],
    ["a reference id before version 7", { ...simulatorSpec(5), operators: [{ operatorId: "c3".repeat(16), parallelism: 1, subtasks: [{ index: 0, referenceCheckpointId: 1 }] }] }, /needs format version 7/],
  ])("rejects %s with a UsageError", (_name, spec, message) => {
    expect(() => buildCheckpointMetadata(spec as SimpleCheckpointSpec)).toThrow(UsageError);
    expect(() => buildCheckpointMetadata(spec as SimpleCheckpointSpec)).toThrow(message);
  });
});

describe("hand-assembled version 7 file (independent of the writer)", () => {
  // One operator, one subtask with no state, then the v7 reference marker; then a
  // trailer taken from a built version-4 file (the trailer layout does not change).
  const trailer = Buffer.from(buildCheckpointMetadata({ version: 4, checkpointId: 1, operators: [] }).propertiesTrailer!);
  const parts = (marker: number[]) =>
    Buffer.concat([
      Buffer.from("4960672d00000007", "hex"), // magic, version 7
      Buffer.from("000000000000000b", "hex"), // checkpoint id 11
      Buffer.from("00000000", "hex"), // master states
      Buffer.from("00000001", "hex"), // operators
      Buffer.from("0001", "hex"), Buffer.from("n"), Buffer.from("0000", "hex"), // name "n", uid ""
      Buffer.alloc(16, 0xab), // operator id
      Buffer.from("00000001" + "00000080" + "00", "hex"), // parallelism 1, max 128, no coordinator state
      Buffer.from("00000001" + "00000000", "hex"), // 1 subtask, index 0
      Buffer.from("00000000" + "00000000" + "00" + "00" + "00000000" + "00000000", "hex"), // no op state, no keyed, no channels
      Buffer.from(marker),
      trailer,
    ]);

  it("reads the reference checkpoint id after the subtask state", () => {
    const bytes = parts([1, 0, 0, 0, 0, 0, 0, 0, 9]);
    const md = parseMetadata(bytes);
    expect(md.operators[0]).toMatchObject({ name: "n", uid: "", operatorId: "ab".repeat(16) });
    expect(referencedCheckpoints(md)).toEqual([9n]);
    expect(serializeMetadata(md).equals(bytes)).toBe(true);
  });

  it("treats a marker other than 1 as 'no reference' and keeps it", () => {
    const bytes = parts([7]);
    const md = parseMetadata(bytes);
    expect(referencedCheckpoints(md)).toEqual([]);
    expect(serializeMetadata(md).equals(bytes)).toBe(true);
  });

  it("rejects bytes after the trailer's single object", () => {
    expect(() => parseMetadata(Buffer.concat([parts([0]), Buffer.from([0x70])]))).toThrow(/propertiesTrailer\): exactly one Java object ending at end of file, but 1 bytes follow it/);
  });

  it("rejects a body that is followed by bytes in version 3", () => {
    const v3 = serializeMetadata(buildCheckpointMetadata({ version: 3, checkpointId: 1, operators: [] }));
    expect(() => parseMetadata(Buffer.concat([v3, Buffer.from([0])]))).toThrow(MetadataFormatError);
    expect(() => parseMetadata(Buffer.concat([v3, Buffer.from([0])]))).toThrow(/at byte 24 \(<file>\): end of file after the last operator, but 1 bytes follow/);
  });
});

describe("modified UTF-8", () => {
  it.each([
    ["ascii", "hdfs://ns1/a", "68646673"],
    ["NUL as C0 80", "a\u0000b", "61c08062"],
    ["two-byte", "é", "c3a9"],
    ["three-byte", "€", "e282ac"],
    ["surrogate pair as two 3-byte sequences", "😀", "eda0bdedb880"],
  ])("%s", (_name, text, hexPrefix) => {
    const encoded = encodeModifiedUtf8(text);
    expect(encoded.toString("hex").startsWith(hexPrefix)).toBe(true);
    expect(decodeModifiedUtf8(encoded)).toBe(text);
  });

  it.each([
    ["raw NUL", "00"],
    ["overlong two-byte 'A'", "c181"],
    ["overlong three-byte", "e08080"],
    ["four-byte UTF-8", "f09f9880"],
    ["truncated sequence", "e282"],
    ["stray continuation byte", "80"],
  ])("rejects %s", (_name, hex) => {
    expect(decodeModifiedUtf8(Buffer.from(hex, "hex"))).toBeNull();
  });
});
