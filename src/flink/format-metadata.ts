// Format description of the `_metadata` body: header, master states, operator
// and subtask states for every format version 1-7 (spec sections 2-7), and the
// raw CheckpointProperties trailer of versions 4+. Declared once against
// FormatIO, so the same code reads and writes.

import type { FormatIO } from "./format-io.js";
import { channelHandle, COORDINATOR_STREAM_TAGS, keyedHandle, MIN_BYTES, operatorHandle, streamHandle } from "./format-handles.js";
import type { CheckpointMetadata, MasterState, OperatorHandle, OperatorState, SubtaskEntry, SubtaskState } from "./model.js";
import { MASTER_STATE_MAGIC, MAX_VERSION, METADATA_MAGIC, MIN_VERSION } from "./model.js";

const MIN_OPERATOR_BYTES = 29;
const MIN_MASTER_STATE_BYTES = 18;
const MIN_SUBTASK_ENTRY_BYTES = 4;

/** Magic and version; the version picks the body layout. */
export function header(io: FormatIO, version: number | undefined): number {
  const magic = io.i32("magic", io.reading ? undefined : METADATA_MAGIC);
  io.checkValue(magic === METADATA_MAGIC, "magic", `the magic number 0x4960672d of a Flink _metadata file, found 0x${(magic >>> 0).toString(16)}`);
  const v = io.i32("version", version);
  io.checkValue(v >= MIN_VERSION && v <= MAX_VERSION, "version", `format version ${MIN_VERSION} to ${MAX_VERSION}, not ${v}`);
  return v;
}

/** Everything after the header. `io.ctx.version` must already be set. */
export function body(io: FormatIO, md: CheckpointMetadata | undefined): Omit<CheckpointMetadata, "layout"> {
  const version = io.ctx.version;
  const checkpointId = io.i64("checkpointId", md?.checkpointId);
  io.checkValue(checkpointId >= 0n, "checkpointId", `a non-negative checkpoint id, not ${checkpointId}`);
  const masterStates = version >= 2 ? io.list("masterStates", md?.masterStates, MIN_MASTER_STATE_BYTES, masterState) : [];
  const operators = io.list("operators", md?.operators, MIN_OPERATOR_BYTES, operatorState);
  if (version < 4) return { version, checkpointId, masterStates, operators };
  const propertiesTrailer = io.rest("propertiesTrailer", md?.propertiesTrailer);
  return { version, checkpointId, masterStates, operators, propertiesTrailer };
}

function masterState(io: FormatIO, m: MasterState | undefined): MasterState {
  const magic = io.i32("magic", io.reading ? undefined : MASTER_STATE_MAGIC);
  io.checkValue(magic === MASTER_STATE_MAGIC, "magic", `master state magic 0xc96b1696, not 0x${(magic >>> 0).toString(16)}`);
  return io.enclosed("payload", () => ({
    version: io.i32("version", m?.version),
    name: io.utf("name", m?.name),
    data: io.sizedBytes("data", m?.data),
  }));
}

function operatorId(io: FormatIO, hex: string | undefined): string {
  if (!io.reading && !/^[0-9a-f]{32}$/.test(hex ?? "")) io.fail("operatorId", `32 lowercase hex digits, not ${JSON.stringify(hex)}`);
  const bytes = io.fixedBytes("operatorId", 16, hex === undefined ? undefined : Buffer.from(hex, "hex"));
  return Buffer.from(bytes).toString("hex");
}

function operatorState(io: FormatIO, op: OperatorState | undefined): OperatorState {
  const version = io.ctx.version;
  const named = version >= 5 ? { name: io.utf("name", op?.name), uid: io.utf("uid", op?.uid) } : {};
  const id = operatorId(io, op?.operatorId);
  const parallelism = io.i32("parallelism", op?.parallelism);
  const maxParallelism = io.i32("maxParallelism", op?.maxParallelism);
  if (version <= 2) {
    const chainLength = io.i32("chainLength", op?.chainLength);
    const subtasks = io.list("subtasks", op?.subtasks, MIN_SUBTASK_ENTRY_BYTES, (io, e) => {
      const subtaskIndex = io.i32("subtaskIndex", e?.subtaskIndex);
      return { subtaskIndex, state: subtaskState(io, e?.state ?? undefined) };
    });
    return { operatorId: id, parallelism, maxParallelism, chainLength, subtasks };
  }
  const coordinatorState = io.nested("coordinatorState", () => streamHandle(io, op?.coordinatorState, COORDINATOR_STREAM_TAGS));
  const count = io.i32("subtasks.count", op === undefined ? undefined : (op.finishedMarker ?? op.subtasks.length));
  const base = { ...named, operatorId: id, parallelism, maxParallelism, coordinatorState };
  if (count < 0) {
    io.require(coordinatorState.type === "null", "coordinatorState", "no coordinator state for a fully finished operator");
    io.require(op === undefined || op.subtasks.length === 0, "subtasks", "no subtask entries for a fully finished operator");
    return { ...base, finishedMarker: count, subtasks: [] };
  }
  const subtasks = io.elements("subtasks", count, op?.subtasks, MIN_SUBTASK_ENTRY_BYTES, subtaskEntryV3);
  return { ...base, subtasks };
}

/** Versions 3+: a negative stored index marks a finished subtask without state. */
function subtaskEntryV3(io: FormatIO, e: SubtaskEntry | undefined): SubtaskEntry {
  if (!io.reading && e !== undefined && e.subtaskIndex < 0) io.fail("subtaskIndex", `a non-negative subtask index, not ${e.subtaskIndex}`);
  const stored = io.i32("subtaskIndex", e === undefined ? undefined : e.state === null ? -e.subtaskIndex - 1 : e.subtaskIndex);
  if (stored < 0) return { subtaskIndex: -stored - 1, state: null };
  return { subtaskIndex: stored, state: subtaskState(io, e?.state ?? undefined) };
}

/** Versions 2+: an `i32` presence flag, then the handle if the flag is non-zero. */
function optionalOperatorHandle(io: FormatIO, name: string, handles: OperatorHandle[] | undefined, rawFlag: number | undefined) {
  if (handles !== undefined && handles.length > 1) io.fail(name, `at most one operator state handle in version ${io.ctx.version}`);
  const present = handles !== undefined && handles.length === 1;
  const flag = io.i32(`${name}.present`, handles === undefined ? undefined : present ? (rawFlag !== undefined && rawFlag !== 0 ? rawFlag : 1) : 0);
  const list = flag === 0 ? [] : [io.nested(name, () => operatorHandle(io, handles?.[0]))];
  return { list, rawFlag: flag === 0 || flag === 1 ? undefined : flag };
}

function subtaskState(io: FormatIO, s: SubtaskState | undefined): SubtaskState {
  const version = io.ctx.version;
  let state: SubtaskState;
  if (version === 1) {
    const duration = io.i64("duration", s?.duration);
    const legacyState = io.list("legacyState", s?.legacyState, MIN_BYTES.handle, (io, h) => streamHandle(io, h));
    const managedOperatorState = io.list("managedOperatorState", s?.managedOperatorState, MIN_BYTES.handle, operatorHandle);
    const rawOperatorState = io.list("rawOperatorState", s?.rawOperatorState, MIN_BYTES.handle, operatorHandle);
    state = { duration, legacyState, managedOperatorState, rawOperatorState, ...keyed(io, s) };
  } else {
    const legacy =
      version === 2
        ? {
            duration: io.i64("duration", s?.duration),
            legacyState: io.list("legacyState", s?.legacyState, MIN_BYTES.handle, (io, h) => streamHandle(io, h)),
          }
        : {};
    if (legacy.legacyState !== undefined && legacy.legacyState.length > 0) {
      io.fail("legacyState", "no legacy (Flink ≤ 1.1 \"Checkpointed\") state in format version 2; Flink ≥ 1.11 refuses it");
    }
    const managed = optionalOperatorHandle(io, "managedOperatorState", s?.managedOperatorState, s?.managedOperatorFlag);
    const raw = optionalOperatorHandle(io, "rawOperatorState", s?.rawOperatorState, s?.rawOperatorFlag);
    state = { ...legacy, managedOperatorState: managed.list, rawOperatorState: raw.list, ...keyed(io, s) };
    if (managed.rawFlag !== undefined) state.managedOperatorFlag = managed.rawFlag;
    if (raw.rawFlag !== undefined) state.rawOperatorFlag = raw.rawFlag;
  }
  if (version >= 3) {
    state.inputChannels = io.list("inputChannels", s?.inputChannels, MIN_BYTES.channel, (io, h) => channelHandle(io, h, "input"));
    state.resultSubpartitions = io.list("resultSubpartitions", s?.resultSubpartitions, MIN_BYTES.channel, (io, h) =>
      channelHandle(io, h, "output"),
    );
  }
  if (version >= 7) {
    const hasReference = s !== undefined && s.referenceCheckpointId !== undefined;
    const marker = io.u8("referenceMarker", s === undefined ? undefined : (s.referenceMarker ?? (hasReference ? 1 : 0)));
    state.referenceMarker = marker;
    if (marker === 1) state.referenceCheckpointId = io.i64("referenceCheckpointId", s?.referenceCheckpointId);
  }
  return state;
}

function keyed(io: FormatIO, s: SubtaskState | undefined) {
  return {
    managedKeyedState: io.nested("managedKeyedState", () => keyedHandle(io, s?.managedKeyedState)),
    rawKeyedState: io.nested("rawKeyedState", () => keyedHandle(io, s?.rawKeyedState)),
  };
}
