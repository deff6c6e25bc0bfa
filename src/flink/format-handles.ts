// Format description of the state handles inside `_metadata` (stream, keyed,
// operator and channel handles; spec sections 8-11). Each handle layout is
// declared once against FormatIO and so drives both reading and writing.

import type { FormatIO } from "./format-io.js";
import type {
  ChannelHandle,
  KeyedHandle,
  KeyedHandleOf,
  KeyGroupRange,
  OperatorHandle,
  StreamHandle,
  StreamHandleOf,
} from "./model.js";

export const STREAM_TAGS = {
  null: 0,
  inline: 1,
  file: 2,
  keyGroupsStream: 3,
  relativeFile: 6,
  segment: 15,
  emptySegment: 16,
} as const satisfies Record<StreamHandle["type"], number>;

const ANY_STREAM_TAG: readonly number[] = Object.values(STREAM_TAGS);
/** Coordinator state is always null or inline. */
export const COORDINATOR_STREAM_TAGS: readonly number[] = [0, 1];
/** The delegate of a file-merging operator handle (tag 17) is a segment. */
const FILE_MERGING_DELEGATE_TAGS: readonly number[] = [15, 16];

/** Minimum encoded sizes, used to reject counts larger than the remaining bytes before allocating. */
export const MIN_BYTES = { handle: 1, i64: 8, incrementalEntry: 3, changelogPart: 9, change: 8, opStateEntry: 7, channel: 17 };

const i64Element = (io: FormatIO, v: bigint | undefined): bigint => io.i64("", v);

function keyGroupRange(io: FormatIO, r: KeyGroupRange | undefined): KeyGroupRange {
  const start = io.i32("keyGroups.start", r?.start);
  const count = io.i32("keyGroups.count", r?.count);
  io.checkValue(count >= 0, "keyGroups.count", `a non-negative key-group count, not ${count}`);
  return { start, count };
}

/** Key-group range followed by exactly `count` offsets. */
function keyGroupsWithOffsets(io: FormatIO, v: { keyGroups: KeyGroupRange; offsets: bigint[] } | undefined) {
  const keyGroups = keyGroupRange(io, v?.keyGroups);
  const offsets = io.elements("offsets", keyGroups.count, v?.offsets, MIN_BYTES.i64, i64Element);
  return { keyGroups, offsets };
}

function tagOf<T extends { type: string }>(io: FormatIO, h: T | undefined, tag: (h: T) => number, name = "tag"): number {
  return io.u8(name, h === undefined ? undefined : tag(h));
}

export function streamHandle(io: FormatIO, h: StreamHandle | undefined, allowedTags: readonly number[] = ANY_STREAM_TAG): StreamHandle {
  const tag = tagOf(io, h, (x) => STREAM_TAGS[x.type]);
  io.checkValue(allowedTags.includes(tag), "tag", `a stream handle tag in {${allowedTags.join(", ")}}, not ${tag}`);
  switch (tag) {
    case STREAM_TAGS.null:
      return { type: "null" };
    case STREAM_TAGS.inline: {
      const v = h as StreamHandleOf<"inline"> | undefined;
      return { type: "inline", handleName: io.utf("handleName", v?.handleName), data: io.sizedBytes("data", v?.data) };
    }
    case STREAM_TAGS.file: {
      const v = h as StreamHandleOf<"file"> | undefined;
      return { type: "file", stateSize: io.i64("stateSize", v?.stateSize), filePath: io.utf("filePath", v?.filePath) };
    }
    case STREAM_TAGS.keyGroupsStream: {
      const v = h as StreamHandleOf<"keyGroupsStream"> | undefined;
      const { keyGroups, offsets } = keyGroupsWithOffsets(io, v);
      const delegate = io.nested("delegate", () => streamHandle(io, v?.delegate));
      return { type: "keyGroupsStream", keyGroups, offsets, delegate };
    }
    case STREAM_TAGS.relativeFile: {
      const v = h as StreamHandleOf<"relativeFile"> | undefined;
      return { type: "relativeFile", relativePath: io.utf("relativePath", v?.relativePath), stateSize: io.i64("stateSize", v?.stateSize) };
    }
    case STREAM_TAGS.segment: {
      const v = h as StreamHandleOf<"segment"> | undefined;
      const startPos = io.i64("startPos", v?.startPos);
      const stateSize = io.i64("stateSize", v?.stateSize);
      const scope = io.i32("scope", v?.scope);
      io.checkValue(scope === 0 || scope === 1, "scope", `scope 0 (exclusive) or 1 (shared), not ${scope}`);
      return { type: "segment", startPos, stateSize, scope, filePath: io.utf("filePath", v?.filePath), logicalFileId: io.utf("logicalFileId", v?.logicalFileId) };
    }
    default:
      return { type: "emptySegment" };
  }
}

const KEYED_TAGS = [0, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14];

function keyedTag(h: KeyedHandle): number {
  switch (h.type) {
    case "null":
      return 0;
    case "changelogInMemory":
      return 9;
    default:
      return h.tag;
  }
}

export function keyedHandle(io: FormatIO, h: KeyedHandle | undefined): KeyedHandle {
  const tag = io.i8("tag", h === undefined ? undefined : keyedTag(h));
  io.checkValue(KEYED_TAGS.includes(tag), "tag", `a keyed state handle tag in {${KEYED_TAGS.join(", ")}}, not ${tag}`);
  const legacyChangelog = io.ctx.changelogLayout === "flink-1.14";
  switch (tag) {
    case 0:
      return { type: "null" };
    case 3:
    case 7:
    case 12: {
      const v = h as KeyedHandleOf<"keyGroups"> | undefined;
      const { keyGroups, offsets } = keyGroupsWithOffsets(io, v);
      const delegate = io.nested("delegate", () => streamHandle(io, v?.delegate));
      if (tag !== 12) return { type: "keyGroups", tag, keyGroups, offsets, delegate };
      return { type: "keyGroups", tag, keyGroups, offsets, delegate, stateHandleId: io.utf("stateHandleId", v?.stateHandleId) };
    }
    case 5:
    case 11: {
      const v = h as KeyedHandleOf<"incremental"> | undefined;
      const checkpointId = io.i64("checkpointId", v?.checkpointId);
      const backendIdentifier = io.utf("backendIdentifier", v?.backendIdentifier);
      const keyGroups = keyGroupRange(io, v?.keyGroups);
      const checkpointedSize = tag === 11 ? io.i64("checkpointedSize", v?.checkpointedSize) : undefined;
      const metaStateHandle = io.nested("metaStateHandle", () => streamHandle(io, v?.metaStateHandle));
      const entry = (io: FormatIO, e: { localPath: string; handle: StreamHandle } | undefined) => ({
        localPath: io.utf("localPath", e?.localPath),
        handle: streamHandle(io, e?.handle),
      });
      const sharedState = io.list("shared", v?.sharedState, MIN_BYTES.incrementalEntry, entry);
      const privateState = io.list("private", v?.privateState, MIN_BYTES.incrementalEntry, entry);
      const base = { type: "incremental" as const, checkpointId, backendIdentifier, keyGroups, metaStateHandle, sharedState, privateState };
      if (tag === 5) return { ...base, tag };
      return { ...base, tag, checkpointedSize, stateHandleId: io.utf("stateHandleId", v?.stateHandleId) };
    }
    case 8:
    case 14: {
      const v = h as KeyedHandleOf<"changelogBackend"> | undefined;
      const keyGroups = keyGroupRange(io, v?.keyGroups);
      const oldLayout = tag === 8 && legacyChangelog;
      const checkpointedSize = oldLayout ? undefined : io.i64("checkpointedSize", v?.checkpointedSize);
      const materialized = io.list("materialized", v?.materialized, MIN_BYTES.handle, keyedHandle);
      const nonMaterialized = io.list("nonMaterialized", v?.nonMaterialized, MIN_BYTES.handle, keyedHandle);
      if (oldLayout) return { type: "changelogBackend", tag, keyGroups, materialized, nonMaterialized };
      const materializationId = io.i64("materializationId", v?.materializationId);
      const checkpointId = tag === 14 ? io.i64("checkpointId", v?.checkpointId) : undefined;
      const stateHandleId = io.utf("stateHandleId", v?.stateHandleId);
      const base = { type: "changelogBackend" as const, tag, keyGroups, checkpointedSize, materialized, nonMaterialized, materializationId };
      return tag === 14 ? { ...base, checkpointId, stateHandleId } : { ...base, stateHandleId };
    }
    case 9: {
      const v = h as KeyedHandleOf<"changelogInMemory"> | undefined;
      const keyGroups = keyGroupRange(io, v?.keyGroups);
      const from = io.i64("from", v?.from);
      const to = io.i64("to", v?.to);
      const changes = io.list("changes", v?.changes, MIN_BYTES.change, (io, c) => ({
        keyGroup: io.i32("keyGroup", c?.keyGroup),
        data: io.sizedBytes("data", c?.data),
      }));
      if (legacyChangelog) return { type: "changelogInMemory", keyGroups, from, to, changes };
      return { type: "changelogInMemory", keyGroups, from, to, changes, stateHandleId: io.utf("stateHandleId", v?.stateHandleId) };
    }
    default: {
      // 10, 13
      const t = tag as 10 | 13;
      const v = h as KeyedHandleOf<"changelogFiles"> | undefined;
      const keyGroups = keyGroupRange(io, v?.keyGroups);
      const parts = io.list("parts", v?.parts, MIN_BYTES.changelogPart, (io, p) => ({
        offset: io.i64("offset", p?.offset),
        handle: streamHandle(io, p?.handle),
      }));
      const stateSize = io.i64("stateSize", v?.stateSize);
      if (t === 10 && legacyChangelog) return { type: "changelogFiles", tag: t, keyGroups, parts, stateSize };
      const checkpointedSize = io.i64("checkpointedSize", v?.checkpointedSize);
      const stateHandleId = io.utf("stateHandleId", v?.stateHandleId);
      const base = { type: "changelogFiles" as const, tag: t, keyGroups, parts, stateSize, checkpointedSize, stateHandleId };
      return t === 13 ? { ...base, storageIdentifier: io.utf("storageIdentifier", v?.storageIdentifier) } : base;
    }
  }
}

export function operatorHandle(io: FormatIO, h: OperatorHandle | undefined): OperatorHandle {
  const tag = io.i8("tag", h === undefined ? undefined : h.type === "null" ? 0 : h.fileMerging ? 17 : 4);
  if (tag === 0) return { type: "null" };
  io.checkValue(tag === 4 || tag === 17, "tag", `an operator state handle tag in {0, 4, 17}, not ${tag}`);
  const v = h as Extract<OperatorHandle, { type: "operatorStream" }> | undefined;
  const states = io.list("states", v?.states, MIN_BYTES.opStateEntry, (io, s) => {
    const stateName = io.utf("stateName", s?.stateName);
    const mode = io.i8("mode", s?.mode);
    io.checkValue(mode >= 0 && mode <= 2, "mode", `distribution mode 0, 1 or 2, not ${mode}`);
    return { stateName, mode, offsets: io.list("offsets", s?.offsets, MIN_BYTES.i64, i64Element) };
  });
  if (tag === 4) {
    return { type: "operatorStream", states, delegate: io.nested("delegate", () => streamHandle(io, v?.delegate)) };
  }
  const fileMerging = {
    taskOwnedDir: io.utf("taskOwnedDir", v?.fileMerging?.taskOwnedDir),
    sharedDir: io.utf("sharedDir", v?.fileMerging?.sharedDir),
    isEmpty: io.u8("isEmpty", v?.fileMerging?.isEmpty),
  };
  const delegate = io.nested("delegate", () => streamHandle(io, v?.delegate, FILE_MERGING_DELEGATE_TAGS));
  return { type: "operatorStream", states, fileMerging, delegate };
}

export type ChannelDirection = "input" | "output";

/** Type bytes of version-6+ channel handles: [plain, merged] per list. */
const CHANNEL_TYPE_BYTES: Record<ChannelDirection, readonly [number, number]> = { input: [1, 3], output: [2, 4] };

export function channelHandle(io: FormatIO, h: ChannelHandle | undefined, direction: ChannelDirection): ChannelHandle {
  const [plainType, mergedType] = CHANNEL_TYPE_BYTES[direction];
  if (io.ctx.version >= 6) {
    const type = io.u8("type", h === undefined ? undefined : h.type === "mergedChannel" ? mergedType : plainType);
    io.checkValue(type === plainType || type === mergedType, "type", `channel handle type ${plainType} or ${mergedType} in the ${direction} list, not ${type}`);
    if (type === mergedType) {
      const v = h as Extract<ChannelHandle, { type: "mergedChannel" }> | undefined;
      return {
        type: "mergedChannel",
        subtaskIndex: io.i32("subtaskIndex", v?.subtaskIndex),
        stateSize: io.i64("stateSize", v?.stateSize),
        delegate: io.nested("delegate", () => streamHandle(io, v?.delegate)),
        blob: io.sizedBytes("blob", v?.blob),
      };
    }
  } else if (h?.type === "mergedChannel") {
    io.fail("", `no merged channel handles in format version ${io.ctx.version} (they need version 6+)`);
  }
  const v = h as Extract<ChannelHandle, { type: "channel" }> | undefined;
  const withIndex = io.ctx.version >= 6 || io.ctx.channelLayout === "flink-1.12+";
  const subtaskIndex = withIndex ? io.i32("subtaskIndex", v?.subtaskIndex) : undefined;
  const info0 = io.i32(direction === "input" ? "gateIndex" : "partitionIndex", v?.info0);
  const info1 = io.i32(direction === "input" ? "channelIndex" : "subpartitionIndex", v?.info1);
  const offsets = io.list("offsets", v?.offsets, MIN_BYTES.i64, i64Element);
  const stateSize = io.i64("stateSize", v?.stateSize);
  const delegate = io.nested("delegate", () => streamHandle(io, v?.delegate));
  const base = { type: "channel" as const, info0, info1, offsets, stateSize, delegate };
  return subtaskIndex === undefined ? base : { ...base, subtaskIndex };
}
