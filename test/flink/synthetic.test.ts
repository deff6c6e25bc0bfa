// Handle types and versions no real fixture covers (versions 6/7, file merging,
// changelog handles in both historical layouts, tag 3 as a stream, master
// states, finished operators, Flink 1.11 channel layout): built in memory,
// written, read back, and checked for byte-exact re-serialization and closure.

import { describe, expect, it } from "vitest";
import {
  buildCheckpointMetadata,
  checkpointKind,
  handleTypeCounts,
  MetadataFormatError,
  parseMetadata,
  referenceClosure,
  referencedCheckpoints,
  serializeMetadata,
  type CheckpointMetadata,
  type KeyedHandle,
  type StreamHandle,
  type SubtaskState,
} from "../../src/flink/index.js";

const OP = "00112233445566778899aabbccddeeff";
const OP2 = "ffeeddccbbaa99887766554433221100";
const DIR = "hdfs://ns1/flink/cp/job1/chk-7";

function roundTrip(md: CheckpointMetadata): { bytes: Buffer; back: CheckpointMetadata } {
  const bytes = serializeMetadata(md);
  const back = parseMetadata(bytes);
  expect(serializeMetadata(back).equals(bytes)).toBe(true);
  return { bytes, back };
}

const file = (path: string, size: number): StreamHandle => ({ type: "file", filePath: path, stateSize: BigInt(size) });
const segment = (path: string, start: number, size: number): StreamHandle => ({
  type: "segment",
  startPos: BigInt(start),
  stateSize: BigInt(size),
  scope: 1,
  filePath: path,
  logicalFileId: "3f1c-logical",
});

function subtask(version: number, parts: Partial<SubtaskState>): SubtaskState {
  return {
    managedOperatorState: [],
    rawOperatorState: [],
    managedKeyedState: { type: "null" },
    rawKeyedState: { type: "null" },
    ...(version >= 3 ? { inputChannels: [], resultSubpartitions: [] } : {}),
    ...(version === 2 ? { duration: -1n, legacyState: [] } : {}),
    ...(version >= 7 ? { referenceMarker: 0 } : {}),
    ...parts,
  };
}

function metadataWith(version: number, state: SubtaskState, extra: Partial<CheckpointMetadata> = {}): CheckpointMetadata {
  const base = buildCheckpointMetadata({ version, checkpointId: 7, operators: [] });
  return {
    ...base,
    operators: [
      {
        ...(version >= 5 ? { name: "op", uid: "" } : {}),
        operatorId: OP,
        parallelism: 2,
        maxParallelism: 128,
        ...(version >= 3 ? { coordinatorState: { type: "null" as const } } : { chainLength: 1 }),
        subtasks: [{ subtaskIndex: 0, state }],
      },
    ],
    ...extra,
  };
}

describe("synthetic metadata (no real sample exists)", () => {
  it("versions 6 and 7: typed and merged channel handles, reference checkpoint id", () => {
    for (const version of [6, 7]) {
      const state = subtask(version, {
        inputChannels: [
          { type: "channel", subtaskIndex: 0, info0: 0, info1: 1, offsets: [0n, 10n], stateSize: 20n, delegate: { type: "relativeFile", relativePath: "ch-in", stateSize: 100n } },
          { type: "mergedChannel", subtaskIndex: 0, stateSize: 40n, delegate: { type: "relativeFile", relativePath: "ch-in", stateSize: 100n }, blob: Buffer.from([0, 0, 0, 0]) },
        ],
        resultSubpartitions: [{ type: "mergedChannel", subtaskIndex: 0, stateSize: 5n, delegate: segment(`${DIR}/../shared/seg-1`, 100, 5), blob: Buffer.alloc(0) }],
        ...(version === 7 ? { referenceMarker: 1, referenceCheckpointId: 5n } : {}),
      });
      const { back } = roundTrip(metadataWith(version, state, { propertiesTrailer: buildCheckpointMetadata({ version: 4, checkpointId: 1, operators: [] }).propertiesTrailer }));
      const s = back.operators[0]!.subtasks[0]!.state!;
      expect(s.inputChannels!.map((c) => c.type)).toEqual(["channel", "mergedChannel"]);
      expect(handleTypeCounts(back)).toMatchObject({ InputChannelStateHandle: 1, MergedInputChannelStateHandle: 1, MergedResultSubpartitionStateHandle: 1 });
      expect(referencedCheckpoints(back)).toEqual(version === 7 ? [5n] : []);
      const closure = referenceClosure(back, DIR);
      expect(closure.map((f) => [f.storedPath, f.size, f.shared])).toEqual([
        [`${DIR}/../shared/seg-1`, 105, true],
        ["ch-in", 100, false],
      ]);
    }
  });

  it("version 6 rejects a channel type byte that does not belong to its list", () => {
    const state = subtask(6, {
      resultSubpartitions: [{ type: "channel", subtaskIndex: 0, info0: 0, info1: 0, offsets: [], stateSize: 0n, delegate: { type: "null" } }],
    });
    const bytes = serializeMetadata(metadataWith(6, state, { propertiesTrailer: buildCheckpointMetadata({ version: 4, checkpointId: 1, operators: [] }).propertiesTrailer }));
    const typeAt = bytes.indexOf(Buffer.from([0, 0, 0, 1, 2, 0, 0, 0, 0]), 40) + 4; // count 1, then type 2
    bytes[typeAt] = 1;
    expect(() => parseMetadata(bytes)).toThrow(/resultSubpartitions\[0\]\/type\): channel handle type 2 or 4 in the output list, not 1/);
  });

  it("file-merging handles: segments (15), empty segments (16) and file-merging operator state (17)", () => {
    const state = subtask(4, {
      managedOperatorState: [
        {
          type: "operatorStream",
          states: [{ stateName: "s", mode: 1, offsets: [0n] }],
          fileMerging: { taskOwnedDir: "hdfs://ns1/flink/cp/job1/taskowned/tm-1", sharedDir: "hdfs://ns1/flink/cp/job1/shared/op-0", isEmpty: 0 },
          delegate: segment("hdfs://ns1/flink/cp/job1/taskowned/tm-1/phys-1", 10, 90),
        },
      ],
      rawOperatorState: [
        { type: "operatorStream", states: [], fileMerging: { taskOwnedDir: "t", sharedDir: "s", isEmpty: 1 }, delegate: { type: "emptySegment" } },
      ],
      managedKeyedState: {
        type: "incremental",
        tag: 11,
        checkpointId: 7n,
        backendIdentifier: "b",
        keyGroups: { start: 0, count: 64 },
        checkpointedSize: 10n,
        metaStateHandle: segment("hdfs://ns1/flink/cp/job1/taskowned/tm-1/phys-1", 0, 10),
        sharedState: [{ localPath: "000001.sst", handle: segment("hdfs://ns1/flink/cp/job1/shared/op-0/phys-2", 0, 500) }],
        privateState: [],
        stateHandleId: "id",
      },
    });
    const md = metadataWith(4, state, { propertiesTrailer: buildCheckpointMetadata({ version: 4, checkpointId: 1, operators: [] }).propertiesTrailer });
    const { back } = roundTrip(md);
    expect(back.operators[0]!.subtasks[0]!.state!.rawOperatorState[0]).toEqual(md.operators[0]!.subtasks[0]!.state!.rawOperatorState[0]);
    const closure = referenceClosure(back, DIR);
    // The same physical file used by two segments appears once with the larger end offset.
    expect(closure.map((f) => [f.storedPath, f.size, f.shared, f.usedBy.length])).toEqual([
      ["hdfs://ns1/flink/cp/job1/shared/op-0/phys-2", 500, true, 1],
      ["hdfs://ns1/flink/cp/job1/taskowned/tm-1/phys-1", 100, true, 2],
    ]);
    expect(handleTypeCounts(back)).toMatchObject({ FileMergingOperatorStreamStateHandle: 2, SegmentFileStateHandle: 3, EmptySegmentFileStateHandle: 1 });
  });

  it("a file-merging operator handle must delegate to a segment", () => {
    const state = subtask(3, {
      managedOperatorState: [{ type: "operatorStream", states: [], fileMerging: { taskOwnedDir: "t", sharedDir: "s", isEmpty: 0 }, delegate: file("hdfs:/x", 1) }],
    });
    // The one format description validates on both sides: the writer refuses it too...
    expect(() => serializeMetadata(metadataWith(3, state))).toThrow(/managedOperatorState\/delegate\/tag\): a stream handle tag in \{15, 16\}, not 2/);
    // ...and the reader rejects a file whose delegate tag was changed from 15 to 2.
    const good = subtask(3, { managedOperatorState: [{ ...state.managedOperatorState[0]!, delegate: segment("hdfs:/x", 0, 1) } as never] });
    const bytes = serializeMetadata(metadataWith(3, good));
    const tagAt = bytes.indexOf(Buffer.from([0, 1, 115, 0, 15])) + 4; // "s", isEmpty 0, delegate tag 15
    expect(bytes[tagAt]).toBe(15);
    bytes[tagAt] = 2;
    expect(() => parseMetadata(bytes)).toThrow(
      `at byte ${tagAt} (operators[0]/subtasks[0]/managedOperatorState/delegate/tag): a stream handle tag in {15, 16}, not 2`,
    );
  });

  const changelogFlink115: KeyedHandle = {
    type: "changelogBackend",
    tag: 8,
    keyGroups: { start: 0, count: 128 },
    checkpointedSize: 99n,
    materialized: [
      { type: "keyGroups", tag: 12, keyGroups: { start: 0, count: 1 }, offsets: [0n], delegate: { type: "relativeFile", relativePath: "mat", stateSize: 10n }, stateHandleId: "k" },
      { type: "null" },
    ],
    nonMaterialized: [
      { type: "changelogInMemory", keyGroups: { start: 0, count: 128 }, from: 1n, to: 5n, changes: [{ keyGroup: -1, data: Buffer.from("meta") }], stateHandleId: "m" },
      {
        type: "changelogFiles",
        tag: 10,
        keyGroups: { start: 0, count: 128 },
        parts: [
          { offset: 0n, handle: file("hdfs://ns1/dstl/f1", 300) },
          { offset: 100n, handle: file("hdfs://ns1/dstl/f1", 300) },
        ],
        stateSize: 300n,
        checkpointedSize: 300n,
        stateHandleId: "c",
      },
      {
        type: "changelogFiles",
        tag: 13,
        keyGroups: { start: 0, count: 128 },
        parts: [{ offset: 0n, handle: file("hdfs://ns1/dstl/f2", 50) }],
        stateSize: 50n,
        checkpointedSize: 50n,
        stateHandleId: "d",
        storageIdentifier: "filesystem",
      },
    ],
    materializationId: 3n,
    stateHandleId: "h",
  };

  it("changelog handles 8/9/10/13/14 (Flink ≥ 1.15 layout) round-trip and their DSTL files are shared", () => {
    const v14: KeyedHandle = { ...(changelogFlink115 as Extract<KeyedHandle, { type: "changelogBackend" }>), tag: 14, checkpointId: 7n };
    for (const keyed of [changelogFlink115, v14]) {
      const { back } = roundTrip(metadataWith(3, subtask(3, { managedKeyedState: keyed })));
      expect(back.layout.changelog).toBe("flink-1.15+");
      expect(back.operators[0]!.subtasks[0]!.state!.managedKeyedState).toEqual(keyed);
      expect(referenceClosure(back, DIR).map((f) => [f.storedPath, f.size, f.shared, f.usedBy.length])).toEqual([
        ["hdfs://ns1/dstl/f1", 300, true, 2],
        ["hdfs://ns1/dstl/f2", 50, true, 1],
        ["mat", 10, false, 1],
      ]);
    }
  });

  it("Flink 1.14 changelog layout (same tags, fewer fields) is detected by fallback and written back identically", () => {
    const old: KeyedHandle = {
      type: "changelogBackend",
      tag: 8,
      keyGroups: { start: 0, count: 128 },
      materialized: [],
      nonMaterialized: [
        { type: "changelogInMemory", keyGroups: { start: 0, count: 128 }, from: 1n, to: 2n, changes: [] },
        { type: "changelogFiles", tag: 10, keyGroups: { start: 0, count: 128 }, parts: [{ offset: 0n, handle: file("hdfs://ns1/dstl/old", 10) }], stateSize: 10n },
      ],
    };
    const md = { ...metadataWith(3, subtask(3, { managedKeyedState: old })), layout: { channels: "flink-1.12+", changelog: "flink-1.14" } as const };
    const { back } = roundTrip(md);
    expect(back.layout).toEqual({ channels: "flink-1.12+", changelog: "flink-1.14" });
    expect(back.operators[0]!.subtasks[0]!.state!.managedKeyedState).toEqual(old);
  });

  it("Flink 1.11 channel layout (no subtaskIndex) is detected by fallback", () => {
    const state = subtask(3, {
      inputChannels: [{ type: "channel", info0: 0, info1: 3, offsets: [0n], stateSize: 8n, delegate: { type: "relativeFile", relativePath: "ch", stateSize: 8n } }],
    });
    const md = { ...metadataWith(3, state), layout: { channels: "flink-1.11", changelog: "flink-1.15+" } as const };
    const { back } = roundTrip(md);
    expect(back.layout.channels).toBe("flink-1.11");
    expect(back.operators[0]!.subtasks[0]!.state!.inputChannels![0]).not.toHaveProperty("subtaskIndex");
    expect(referenceClosure(back, DIR).map((f) => f.location)).toEqual([`${DIR}/ch`]);
  });

  it("tag 3 used as a stream handle inside an incremental handle", () => {
    const nested: StreamHandle = { type: "keyGroupsStream", keyGroups: { start: 2, count: 2 }, offsets: [0n, 4n], delegate: file("hdfs://ns1/flink/cp/job1/shared/kg", 64) };
    const keyed: KeyedHandle = {
      type: "incremental",
      tag: 5,
      checkpointId: 1n,
      backendIdentifier: "x",
      keyGroups: { start: 2, count: 2 },
      metaStateHandle: { type: "inline", handleName: "meta", data: Buffer.from([1, 2, 3]) },
      sharedState: [{ localPath: "000002.sst", handle: nested }],
      privateState: [],
    };
    const { back } = roundTrip(metadataWith(2, subtask(2, { managedKeyedState: keyed })));
    expect(back.operators[0]!.subtasks[0]!.state!.managedKeyedState).toEqual(keyed);
    expect(referenceClosure(back, DIR)).toEqual([
      {
        storedPath: "hdfs://ns1/flink/cp/job1/shared/kg",
        location: "hdfs://ns1/flink/cp/job1/shared/kg",
        relative: false,
        size: 64,
        shared: true,
        usedBy: [`operator:${OP}/subtask:0/managedKeyedState/shared[000002.sst]/delegate`],
        outsideCheckpointDir: true,
      },
    ]);
  });

  it("master states round-trip; a wrong inner length is rejected", () => {
    const md = { ...metadataWith(3, subtask(3, {})), masterStates: [{ version: 1, name: "hook", data: Buffer.from("opaque") }] };
    const { bytes, back } = roundTrip(md);
    expect(back.masterStates).toEqual(md.masterStates);
    const lengthAt = 8 + 8 + 4 + 4; // magic, version, checkpointId, count, master magic
    bytes.writeInt32BE(bytes.readInt32BE(lengthAt) + 1, lengthAt);
    expect(() => parseMetadata(bytes)).toThrow(MetadataFormatError);
  });

  it("fully finished operators and finished subtasks (negative count and index)", () => {
    const md = buildCheckpointMetadata({
      version: 5,
      checkpointId: 9,
      properties: { kind: "savepoint", formatType: "NATIVE" },
      operators: [
        { operatorId: OP, name: "Source", uid: "src", parallelism: 1, finished: true, subtasks: [] },
        { operatorId: OP2, parallelism: 3, subtasks: [{ index: 0, finished: true }, { index: 2, operatorState: { states: [{ name: "s", offsets: [0] }], file: { inline: Buffer.from("x") } } }] },
      ],
    });
    const { bytes, back } = roundTrip(md);
    expect(back.operators[0]!.finishedMarker).toBe(-1);
    expect(back.operators[1]!.subtasks.map((s) => [s.subtaskIndex, s.state === null])).toEqual([
      [0, true],
      [2, false],
    ]);
    expect(checkpointKind(back)).toBe("savepoint");
    // Operator 0: parallelism 1, max 128, no coordinator state, subtask count -1.
    const finishedOperator = Buffer.concat([Buffer.from(OP, "hex"), Buffer.from([0, 0, 0, 1, 0, 0, 0, 128, 0, 0xff, 0xff, 0xff, 0xff])]);
    expect(bytes.includes(finishedOperator)).toBe(true);
    // Operator 1: two entries, the first a finished subtask 0 stored as index -1.
    expect(bytes.includes(Buffer.from([0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2]))).toBe(true);
  });
});
