// The in-memory model of a parsed `_metadata` file. It keeps every field the file
// holds (including unused ones and raw flag values), so writing an unmodified
// model reproduces the input bytes exactly. 64-bit fields are bigints.

import type { ChangelogLayout, ChannelLayout } from "./format-io.js";

export interface KeyGroupRange {
  start: number;
  count: number;
}

// ---- Stream handles (one byte stream: inline, a file, or a file segment) ----

export type StreamHandle =
  | { type: "null" }
  /** tag 1: bytes stored inside `_metadata`. */
  | { type: "inline"; handleName: string; data: Uint8Array }
  /** tag 2: an absolute file. */
  | { type: "file"; stateSize: bigint; filePath: string }
  /** tag 3 used as a stream handle. */
  | { type: "keyGroupsStream"; keyGroups: KeyGroupRange; offsets: bigint[]; delegate: StreamHandle }
  /** tag 6: a file next to `_metadata`. */
  | { type: "relativeFile"; relativePath: string; stateSize: bigint }
  /** tag 15: a byte range of a file-merging physical file. `scope` 0 = exclusive, 1 = shared. */
  | { type: "segment"; startPos: bigint; stateSize: bigint; scope: number; filePath: string; logicalFileId: string }
  /** tag 16 */
  | { type: "emptySegment" };

export type StreamHandleOf<T extends StreamHandle["type"]> = Extract<StreamHandle, { type: T }>;

// ---- Keyed state handles ----

export interface IncrementalEntry {
  /** File name inside the RocksDB instance (`000094.sst`, `CURRENT`, ...). */
  localPath: string;
  handle: StreamHandle;
}

export interface ChangelogPart {
  offset: bigint;
  handle: StreamHandle;
}

export interface ChangelogChange {
  keyGroup: number;
  data: Uint8Array;
}

export type KeyedHandle =
  | { type: "null" }
  /** tags 3 (v1), 12 (v2, with stateHandleId), 7 (savepoint). */
  | { type: "keyGroups"; tag: 3 | 7 | 12; keyGroups: KeyGroupRange; offsets: bigint[]; delegate: StreamHandle; stateHandleId?: string }
  /** tags 5 (v1) and 11 (v2: checkpointedSize and stateHandleId). */
  | {
      type: "incremental";
      tag: 5 | 11;
      checkpointId: bigint;
      backendIdentifier: string;
      keyGroups: KeyGroupRange;
      checkpointedSize?: bigint;
      metaStateHandle: StreamHandle;
      sharedState: IncrementalEntry[];
      privateState: IncrementalEntry[];
      stateHandleId?: string;
    }
  /** tags 8 (v1) and 14 (v2). Flink 1.14 files lack checkpointedSize, materializationId and stateHandleId. */
  | {
      type: "changelogBackend";
      tag: 8 | 14;
      keyGroups: KeyGroupRange;
      checkpointedSize?: bigint;
      materialized: KeyedHandle[];
      nonMaterialized: KeyedHandle[];
      materializationId?: bigint;
      checkpointId?: bigint;
      stateHandleId?: string;
    }
  /** tag 9: changes stored inline. */
  | { type: "changelogInMemory"; keyGroups: KeyGroupRange; from: bigint; to: bigint; changes: ChangelogChange[]; stateHandleId?: string }
  /** tags 10 (v1) and 13 (v2, with storageIdentifier): changes in DSTL files. */
  | {
      type: "changelogFiles";
      tag: 10 | 13;
      keyGroups: KeyGroupRange;
      parts: ChangelogPart[];
      stateSize: bigint;
      checkpointedSize?: bigint;
      stateHandleId?: string;
      storageIdentifier?: string;
    };

export type KeyedHandleOf<T extends KeyedHandle["type"]> = Extract<KeyedHandle, { type: T }>;

// ---- Operator (partitionable) state handles ----

export interface OperatorStateEntry {
  stateName: string;
  /** 0 = SPLIT_DISTRIBUTE, 1 = UNION, 2 = BROADCAST. */
  mode: number;
  offsets: bigint[];
}

export interface FileMergingDirs {
  taskOwnedDir: string;
  sharedDir: string;
  /** Raw byte of the `isEmpty` flag (non-zero = the "empty" placeholder variant). */
  isEmpty: number;
}

export type OperatorHandle =
  | { type: "null" }
  /** tag 4, or tag 17 when `fileMerging` is present (delegate must then be a segment). */
  | { type: "operatorStream"; states: OperatorStateEntry[]; fileMerging?: FileMergingDirs; delegate: StreamHandle };

// ---- Channel state handles (unaligned checkpoints) ----

export type ChannelHandle =
  | {
      type: "channel";
      /** Absent only in the Flink 1.11 layout. */
      subtaskIndex?: number;
      /** input: gate index; output: partition index. */
      info0: number;
      /** input: channel index; output: subpartition index. */
      info1: number;
      offsets: bigint[];
      /** Bytes of this channel's data, not the file size. */
      stateSize: bigint;
      delegate: StreamHandle;
    }
  /** Version 6+ merged handle; `blob` packs the per-channel info. */
  | { type: "mergedChannel"; subtaskIndex: number; stateSize: bigint; delegate: StreamHandle; blob: Uint8Array };

// ---- Subtasks, operators, file ----

export interface SubtaskState {
  /** Versions 1 and 2 only (unused, normally -1). */
  duration?: bigint;
  /** Versions 1 and 2 only: "Checkpointed" state of Flink ≤ 1.1. */
  legacyState?: StreamHandle[];
  /** Version 1: any number; versions 2+: zero or one handle. */
  managedOperatorState: OperatorHandle[];
  rawOperatorState: OperatorHandle[];
  /** Versions 2+: raw presence flag, kept only when it is neither 0 nor 1. */
  managedOperatorFlag?: number;
  rawOperatorFlag?: number;
  managedKeyedState: KeyedHandle;
  rawKeyedState: KeyedHandle;
  /** Versions 3+. */
  inputChannels?: ChannelHandle[];
  resultSubpartitions?: ChannelHandle[];
  /** Version 7: raw marker byte (1 = `referenceCheckpointId` follows). */
  referenceMarker?: number;
  referenceCheckpointId?: bigint;
}

export interface SubtaskEntry {
  subtaskIndex: number;
  /** null: a finished subtask (versions 3+, stored as a negative index). */
  state: SubtaskState | null;
}

export interface OperatorState {
  /** Versions 5+: "" when absent. */
  name?: string;
  uid?: string;
  /** 32 lowercase hex digits of the 16 id bytes in file order. */
  operatorId: string;
  parallelism: number;
  maxParallelism: number;
  /** Versions 1 and 2 only. */
  chainLength?: number;
  /** Versions 3+: null (tag 0) or inline bytes (tag 1). */
  coordinatorState?: StreamHandle;
  /** Versions 3+: the raw negative subtask count of a fully finished operator. */
  finishedMarker?: number;
  subtasks: SubtaskEntry[];
}

export interface MasterState {
  version: number;
  name: string;
  data: Uint8Array;
}

export interface CheckpointMetadata {
  version: number;
  checkpointId: bigint;
  /** Versions 2+. */
  masterStates: MasterState[];
  operators: OperatorState[];
  /** Versions 4+: the Java-serialized CheckpointProperties, kept verbatim. */
  propertiesTrailer?: Uint8Array;
  /** Which historical variant of version 3 the file uses (always the default for other versions). */
  layout: { channels: ChannelLayout; changelog: ChangelogLayout };
}

export const METADATA_MAGIC = 0x4960672d;
export const MASTER_STATE_MAGIC = 0xc96b1696 | 0;
export const MIN_VERSION = 1;
export const MAX_VERSION = 7;
