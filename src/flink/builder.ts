// Builds CheckpointMetadata from a compact description (operators x subtasks with
// keyed, operator and channel state), so tools such as the Flink job simulator
// can write real `_metadata` files with serializeMetadata().

import { createHash } from "node:crypto";
import { encodeCheckpointProperties, type CheckpointPropertiesSpec } from "./checkpoint-properties.js";
import type {
  ChannelHandle,
  CheckpointMetadata,
  KeyedHandle,
  KeyGroupRange,
  OperatorHandle,
  OperatorState,
  StreamHandle,
  SubtaskEntry,
  SubtaskState,
} from "./model.js";
import { MAX_VERSION } from "./model.js";
import { UsageError } from "../util/errors.js";

/** Where one stream of state lives. Sizes are in bytes. */
export type StateFileSpec =
  /** A file next to `_metadata` (tag 6), e.g. `{ relative: "7072833e-…", size: 532 }`. */
  | { relative: string; size: number }
  /** An absolute file (tag 2), e.g. `{ absolute: "hdfs://ns1/flink/cp/<job>/shared/<uuid>", size: 7729 }`. */
  | { absolute: string; size: number }
  /** Bytes stored inside `_metadata` (tag 1); `name` defaults to a UUID-like id. */
  | { inline: Uint8Array; name?: string }
  /** A byte range of a file-merging physical file (tag 15); scope defaults to shared. */
  | { segment: string; start: number; size: number; scope?: "shared" | "exclusive"; logicalFileId?: string };

/** RocksDB incremental state (tag 11, tag 5 for version 2): meta file plus shared (SST) and private files. */
export interface IncrementalKeyedSpec {
  kind: "incremental";
  keyGroups: KeyGroupRange;
  /** Checkpoint that created the handle; defaults to the metadata's checkpoint id. */
  checkpointId?: number | bigint;
  /** UUID of the backend instance; defaults to a stable id derived from operator and subtask. */
  backendIdentifier?: string;
  meta: StateFileSpec;
  /** Files later checkpoints may reuse (usually absolute, under `shared/`), keyed by RocksDB file name. */
  shared: { localPath: string; file: StateFileSpec }[];
  /** Files of this checkpoint only (MANIFEST, CURRENT, OPTIONS, ...). */
  private: { localPath: string; file: StateFileSpec }[];
  /** Bytes uploaded by this checkpoint (v2 handles); defaults to the sum of the listed file sizes. */
  checkpointedSize?: number;
}

/** Full keyed state in one stream (tag 12; tag 7 when `savepoint`; tag 3 for version 2). */
export interface KeyGroupsKeyedSpec {
  kind: "keyGroups";
  keyGroups: KeyGroupRange;
  /** One offset per key group; defaults to all 0. */
  offsets?: number[];
  file: StateFileSpec;
  /** Canonical savepoint handle (tag 7). */
  savepoint?: boolean;
}

export interface OperatorStateSpec {
  /** Named partitionable states, each with its partition offsets inside `file`. */
  states: { name: string; mode?: "split" | "union" | "broadcast"; offsets: number[] }[];
  file: StateFileSpec;
}

/** One unaligned-checkpoint channel (input gate/channel or result partition/subpartition). */
export interface ChannelSpec {
  /** input: gate index; output: partition index. */
  index0: number;
  /** input: channel index; output: subpartition index. */
  index1: number;
  offsets: number[];
  /** Bytes of this channel's data inside `file`. */
  stateSize: number;
  file: StateFileSpec;
}

export interface SimpleSubtaskSpec {
  index: number;
  /** Finished subtask without state (versions 3+). */
  finished?: boolean;
  keyed?: IncrementalKeyedSpec | KeyGroupsKeyedSpec;
  operatorState?: OperatorStateSpec;
  inputChannels?: ChannelSpec[];
  outputChannels?: ChannelSpec[];
  /** Version 7: an older checkpoint this subtask's state comes from. */
  referenceCheckpointId?: number | bigint;
}

export interface SimpleOperatorSpec {
  /** 32 lowercase hex digits. */
  operatorId: string;
  /** Versions 5+ (default ""). */
  name?: string;
  uid?: string;
  parallelism: number;
  /** Default 128. */
  maxParallelism?: number;
  /** Inline coordinator state (versions 3+). */
  coordinatorState?: Uint8Array;
  /** Fully finished operator (versions 3+): no subtasks. */
  finished?: boolean;
  subtasks: SimpleSubtaskSpec[];
}

export interface SimpleCheckpointSpec {
  /** Format version 2-7 (Flink 1.3-1.10: 2, 1.11-1.15: 3, 1.16-1.20: 4, 2.0: 5). */
  version: number;
  checkpointId: number | bigint;
  /** Versions 4+: trailer content; defaults to a periodic checkpoint. */
  properties?: CheckpointPropertiesSpec;
  masterStates?: { name: string; version: number; data: Uint8Array }[];
  operators: SimpleOperatorSpec[];
}

const MODES = { split: 0, union: 1, broadcast: 2 } as const;

/** A stable UUID-formatted id derived from `seed` (so built files are reproducible). */
export function stableUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function streamOf(f: StateFileSpec, seed: string): StreamHandle {
  if ("relative" in f) return { type: "relativeFile", relativePath: f.relative, stateSize: BigInt(f.size) };
  if ("absolute" in f) return { type: "file", stateSize: BigInt(f.size), filePath: f.absolute };
  if ("inline" in f) return { type: "inline", handleName: f.name ?? stableUuid(seed), data: f.inline };
  return {
    type: "segment",
    startPos: BigInt(f.start),
    stateSize: BigInt(f.size),
    scope: f.scope === "exclusive" ? 0 : 1,
    filePath: f.segment,
    logicalFileId: f.logicalFileId ?? stableUuid(seed),
  };
}

function sizeOf(f: StateFileSpec): number {
  return "inline" in f ? f.inline.length : f.size;
}

function keyedOf(spec: SimpleCheckpointSpec, k: IncrementalKeyedSpec | KeyGroupsKeyedSpec | undefined, seed: string): KeyedHandle {
  if (k === undefined) return { type: "null" };
  const v2 = spec.version >= 3;
  if (k.kind === "keyGroups") {
    const offsets = (k.offsets ?? new Array<number>(k.keyGroups.count).fill(0)).map(BigInt);
    const delegate = streamOf(k.file, `${seed}/delegate`);
    if (k.savepoint) return { type: "keyGroups", tag: 7, keyGroups: k.keyGroups, offsets, delegate };
    if (!v2) return { type: "keyGroups", tag: 3, keyGroups: k.keyGroups, offsets, delegate };
    return { type: "keyGroups", tag: 12, keyGroups: k.keyGroups, offsets, delegate, stateHandleId: stableUuid(`${seed}/id`) };
  }
  const entries = (list: IncrementalKeyedSpec["shared"], what: string) =>
    list.map((e) => ({ localPath: e.localPath, handle: streamOf(e.file, `${seed}/${what}/${e.localPath}`) }));
  const base = {
    type: "incremental" as const,
    checkpointId: BigInt(k.checkpointId ?? spec.checkpointId),
    backendIdentifier: k.backendIdentifier ?? stableUuid(`${seed}/backend`),
    keyGroups: k.keyGroups,
    metaStateHandle: streamOf(k.meta, `${seed}/meta`),
    sharedState: entries(k.shared, "shared"),
    privateState: entries(k.private, "private"),
  };
  if (!v2) return { ...base, tag: 5 };
  const uploaded = k.checkpointedSize ?? [k.meta, ...k.shared.map((e) => e.file), ...k.private.map((e) => e.file)].reduce((n, f) => n + sizeOf(f), 0);
  return { ...base, tag: 11, checkpointedSize: BigInt(uploaded), stateHandleId: stableUuid(`${seed}/id`) };
}

function operatorHandleOf(o: OperatorStateSpec, seed: string): OperatorHandle {
  return {
    type: "operatorStream",
    states: o.states.map((s) => ({ stateName: s.name, mode: MODES[s.mode ?? "split"], offsets: s.offsets.map(BigInt) })),
    delegate: streamOf(o.file, seed),
  };
}

function channelsOf(list: ChannelSpec[] | undefined, subtaskIndex: number, seed: string): ChannelHandle[] {
  return (list ?? []).map((c, i) => ({
    type: "channel",
    subtaskIndex,
    info0: c.index0,
    info1: c.index1,
    offsets: c.offsets.map(BigInt),
    stateSize: BigInt(c.stateSize),
    delegate: streamOf(c.file, `${seed}[${i}]`),
  }));
}

function subtaskOf(spec: SimpleCheckpointSpec, s: SimpleSubtaskSpec, seed: string): SubtaskState {
  const v = spec.version;
  if (v < 3 && (s.inputChannels?.length || s.outputChannels?.length)) throw new UsageError(`channel state needs format version 3+, not ${v}`);
  if (v < 7 && s.referenceCheckpointId !== undefined) throw new UsageError(`referenceCheckpointId needs format version 7, not ${v}`);
  const state: SubtaskState = {
    managedOperatorState: s.operatorState ? [operatorHandleOf(s.operatorState, `${seed}/operatorState`)] : [],
    rawOperatorState: [],
    managedKeyedState: keyedOf(spec, s.keyed, `${seed}/keyed`),
    rawKeyedState: { type: "null" },
  };
  if (v === 2) {
    state.duration = -1n;
    state.legacyState = [];
  }
  if (v >= 3) {
    state.inputChannels = channelsOf(s.inputChannels, s.index, `${seed}/input`);
    state.resultSubpartitions = channelsOf(s.outputChannels, s.index, `${seed}/output`);
  }
  if (v >= 7) {
    state.referenceMarker = s.referenceCheckpointId === undefined ? 0 : 1;
    if (s.referenceCheckpointId !== undefined) state.referenceCheckpointId = BigInt(s.referenceCheckpointId);
  }
  return state;
}

function operatorOf(spec: SimpleCheckpointSpec, o: SimpleOperatorSpec): OperatorState {
  const v = spec.version;
  if (!/^[0-9a-f]{32}$/.test(o.operatorId)) throw new UsageError(`operatorId must be 32 lowercase hex digits, not ${JSON.stringify(o.operatorId)}`);
  if (v < 3 && (o.finished || o.coordinatorState || o.subtasks.some((s) => s.finished))) {
    throw new UsageError(`finished operators/subtasks and coordinator state need format version 3+, not ${v}`);
  }
  const op: OperatorState = { operatorId: o.operatorId, parallelism: o.parallelism, maxParallelism: o.maxParallelism ?? 128, subtasks: [] };
  if (v >= 5) {
    op.name = o.name ?? "";
    op.uid = o.uid ?? "";
  }
  if (v <= 2) op.chainLength = 1;
  else op.coordinatorState = o.coordinatorState ? { type: "inline", handleName: o.operatorId, data: o.coordinatorState } : { type: "null" };
  if (o.finished) {
    if (o.subtasks.length > 0) throw new UsageError(`fully finished operator ${o.operatorId} cannot list subtasks`);
    op.finishedMarker = -1;
    return op;
  }
  op.subtasks = o.subtasks.map(
    (s): SubtaskEntry => ({ subtaskIndex: s.index, state: s.finished ? null : subtaskOf(spec, s, `${o.operatorId}/${s.index}`) }),
  );
  return op;
}

/** Builds a metadata model; write it with serializeMetadata(). Throws UsageError for impossible combinations. */
export function buildCheckpointMetadata(spec: SimpleCheckpointSpec): CheckpointMetadata {
  if (!Number.isInteger(spec.version) || spec.version < 2 || spec.version > MAX_VERSION) {
    throw new UsageError(`format version must be 2 to ${MAX_VERSION}, not ${spec.version}`);
  }
  const md: CheckpointMetadata = {
    version: spec.version,
    checkpointId: BigInt(spec.checkpointId),
    masterStates: (spec.masterStates ?? []).map((m) => ({ ...m })),
    operators: spec.operators.map((o) => operatorOf(spec, o)),
    layout: { channels: "flink-1.12+", changelog: "flink-1.15+" },
  };
  if (spec.version >= 4) md.propertiesTrailer = encodeCheckpointProperties(spec.properties ?? { kind: "checkpoint" });
  return md;
}
