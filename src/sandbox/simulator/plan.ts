// Plans one checkpoint without touching storage: which state files exist (new
// shared SSTs, reused SSTs, exclusive private/meta/operator/channel files,
// task-owned segment files, inline state), their sizes and content keys, and the
// SimpleCheckpointSpec the `_metadata` is built from. Pure and seeded, so the same
// seed and history always give the same plan.

import { stableUuid, type SimpleCheckpointSpec, type SimpleOperatorSpec, type SimpleSubtaskSpec, type StateFileSpec, type ChannelSpec } from "../../flink/index.js";
import type { StateFileRef } from "./events.js";
import type { JobLayout } from "./layout.js";
import type { ResolvedOptions } from "./options.js";
import { SeededRandom } from "./random.js";
import { stateBytes } from "./state-bytes.js";

/** One file the checkpoint writes; its bytes come from stateBytesStream(contentKey, size). */
export interface PlannedWrite {
  path: string;
  size: number;
  contentKey: string;
  shared: boolean;
}

/** An SST file of a RocksDB instance, as uploaded to shared/ (or kept inline when small). */
export interface SstFile {
  localPath: string;
  /** Storage path; for inline SSTs the path it would have had. */
  path: string;
  size: number;
  contentKey: string;
  inline: boolean;
}

/** What a subtask's RocksDB instance carries from one checkpoint to the next. */
export interface BackendState {
  backendId: string;
  nextFileNumber: number;
  ssts: SstFile[];
}

/** Backend states by `<operator index>/<subtask index>`. */
export type BackendStates = ReadonlyMap<string, BackendState>;

export interface CheckpointPlan {
  checkpointId: number;
  dir: string;
  metadataPath: string;
  spec: SimpleCheckpointSpec;
  /** Files to write before `_metadata`. */
  writes: PlannedWrite[];
  /** Every file the `_metadata` will reference (new and reused), sorted by path. */
  references: StateFileRef[];
  /** Backend states after this checkpoint completes. */
  backends: Map<string, BackendState>;
}

/** Sizes of RocksDB's small per-checkpoint files (bytes, before the spread). */
const MANIFEST_MEAN = 4096;
const OPTIONS_MEAN = 7000;
const META_BASE = 1200;
const META_PER_SST = 120;
const OPERATOR_STATE_MEAN = 4096;
const CURRENT_SIZE = 16; // "MANIFEST-000123\n"

/** Flink's KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex. */
export function keyGroupRange(maxParallelism: number, parallelism: number, index: number): { start: number; count: number } {
  const start = Math.floor((index * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((index + 1) * maxParallelism - 1) / parallelism);
  return { start, count: end - start + 1 };
}

export function operatorIdOf(seed: number, index: number): string {
  return SeededRandom.derive(seed, "operator-id", index).hex(32);
}

function fileNumber(n: number): string {
  return String(n).padStart(6, "0");
}

/** Collects the files of one checkpoint while its spec is being built. */
class CheckpointFiles {
  readonly writes: PlannedWrite[] = [];
  readonly refs = new Map<string, StateFileRef>();
  readonly dir: string;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly layout: JobLayout,
    readonly checkpointId: number,
  ) {
    this.dir = layout.checkpointDir(checkpointId);
  }

  uuid(label: string): string {
    return stableUuid(`${this.o.seed}/${this.o.jobId}/chk-${this.checkpointId}/${label}`);
  }

  private inline(size: number): boolean {
    return this.o.inlineState && size < this.o.inlineThresholdBytes;
  }

  private inlineSpec(path: string, contentKey: string, size: number): StateFileSpec {
    return { inline: stateBytes(contentKey, size), name: this.layout.uri(path) };
  }

  private written(path: string, size: number, contentKey: string, shared: boolean): void {
    this.writes.push({ path, size, contentKey, shared });
    this.refs.set(path, { path, size, shared });
  }

  /** A file of this checkpoint only, in chk-<n>: relative or absolute as configured, inline when small. */
  exclusive(label: string, size: number): StateFileSpec {
    const name = this.uuid(label);
    const path = `${this.dir}/${name}`;
    const contentKey = `${this.o.seed}/${path}`;
    if (this.inline(size)) return this.inlineSpec(path, contentKey, size);
    this.written(path, size, contentKey, false);
    return this.o.paths === "relative" ? { relative: name, size } : { absolute: this.layout.uri(path), size };
  }

  /** A new SST under shared/ (inline when small). */
  newSst(label: string, localPath: string, size: number): SstFile {
    const path = `${this.layout.sharedDir}/${this.uuid(label)}`;
    const sst: SstFile = { localPath, path, size, contentKey: `${this.o.seed}/${path}`, inline: this.inline(size) };
    if (!sst.inline) this.written(path, size, sst.contentKey, true);
    return sst;
  }

  /** The handle of an SST this checkpoint references (new or reused). */
  sstSpec(sst: SstFile): StateFileSpec {
    if (sst.inline) return this.inlineSpec(sst.path, sst.contentKey, sst.size);
    this.refs.set(sst.path, { path: sst.path, size: sst.size, shared: true });
    return { absolute: this.layout.uri(sst.path), size: sst.size };
  }

  /**
   * File merging: the parts that are not inline become segments of one physical
   * file under taskowned/<task manager>/; returns one handle per part.
   */
  taskOwned(label: string, parts: { label: string; size: number }[]): StateFileSpec[] {
    const tm = `tm-${SeededRandom.derive(this.o.seed, "task-manager").hex(12)}`;
    const path = `${this.layout.taskOwnedDir}/${tm}/${this.uuid(label)}`;
    const contentKey = `${this.o.seed}/${path}`;
    const uri = this.layout.uri(path);
    let offset = 0;
    const specs = parts.map((p): StateFileSpec => {
      if (this.inline(p.size)) return this.inlineSpec(`${path}#${p.label}`, `${contentKey}#${p.label}`, p.size);
      const spec: StateFileSpec = { segment: uri, start: offset, size: p.size, scope: "exclusive", logicalFileId: this.uuid(`${label}/${p.label}`) };
      offset += p.size;
      return spec;
    });
    if (offset > 0) this.written(path, offset, contentKey, true);
    return specs;
  }
}

function sizeOfSpec(f: StateFileSpec): number {
  return "inline" in f ? f.inline.length : f.size;
}

interface SubtaskContext {
  files: CheckpointFiles;
  o: ResolvedOptions;
  op: number;
  subtask: number;
  rng: SeededRandom;
  sstMean: number;
}

/** RocksDB incremental keyed state of one subtask; returns the spec and the backend state after it. */
function planKeyedState(c: SubtaskContext, previous: BackendState | undefined): { keyed: SimpleSubtaskSpec["keyed"]; backend: BackendState } {
  const { files, o, op, subtask, rng } = c;
  const backend: BackendState = previous
    ? { ...previous, ssts: previous.ssts.filter(() => rng.next() < o.sharedReuseFraction) }
    : { backendId: stableUuid(`${o.seed}/${o.jobId}/backend/${op}/${subtask}`), nextFileNumber: 8, ssts: [] };
  const prefix = `op${op}/st${subtask}`;
  const fresh: SstFile[] = [];
  for (let i = 0; i < o.newSharedFilesPerSubtask; i++) {
    const localPath = `${fileNumber(backend.nextFileNumber++)}.sst`;
    fresh.push(files.newSst(`${prefix}/${localPath}`, localPath, rng.size(c.sstMean, o.fileSizeSpread)));
  }
  backend.ssts = [...backend.ssts, ...fresh];
  const manifestNumber = fileNumber(backend.nextFileNumber++);
  const exclusiveParts = [
    { label: "meta", size: rng.size(META_BASE + META_PER_SST * backend.ssts.length, o.fileSizeSpread) },
    { label: `MANIFEST-${manifestNumber}`, size: rng.size(MANIFEST_MEAN, o.fileSizeSpread) },
    { label: "CURRENT", size: CURRENT_SIZE },
    { label: `OPTIONS-${manifestNumber}`, size: rng.size(OPTIONS_MEAN, o.fileSizeSpread / 5) },
  ];
  const specs = o.taskOwnedState
    ? files.taskOwned(`${prefix}/exclusive`, exclusiveParts)
    : exclusiveParts.map((p) => files.exclusive(`${prefix}/${p.label}`, p.size));
  const [meta, ...privateSpecs] = specs;
  const privateEntries = privateSpecs.map((file, i) => ({ localPath: exclusiveParts[i + 1]!.label, file }));
  const uploaded = [meta!, ...privateSpecs].reduce((n, f) => n + sizeOfSpec(f), 0) + fresh.reduce((n, s) => n + s.size, 0);
  return {
    backend,
    keyed: {
      kind: "incremental",
      keyGroups: keyGroupRange(o.maxParallelism, o.parallelism, subtask),
      backendIdentifier: backend.backendId,
      meta: meta!,
      shared: backend.ssts.map((s) => ({ localPath: s.localPath, file: files.sstSpec(s) })),
      private: privateEntries,
      checkpointedSize: uploaded,
    },
  };
}

/** Unaligned checkpoint channel state: one file per subtask holding its input and output channels. */
function planChannelState(c: SubtaskContext): Pick<SimpleSubtaskSpec, "inputChannels" | "outputChannels"> {
  const { o, op, rng } = c;
  const perChannelMean = Math.max(64, c.sstMean / 4 / o.parallelism);
  const sizesOf = (present: boolean): number[] => (present ? Array.from({ length: o.parallelism }, () => rng.size(perChannelMean, o.fileSizeSpread)) : []);
  // gate/partition 0, one channel per upstream/downstream subtask
  const inputSizes = sizesOf(op > 0);
  const outputSizes = sizesOf(op < o.operators - 1);
  const total = [...inputSizes, ...outputSizes].reduce((n, size) => n + size, 0);
  if (total === 0) return {};
  const file = c.files.exclusive(`op${op}/st${c.subtask}/channel-state`, total);
  let offset = 0;
  const channels = (sizes: number[]): ChannelSpec[] =>
    sizes.map((stateSize, index1) => {
      const spec: ChannelSpec = { index0: 0, index1, offsets: [offset], stateSize, file };
      offset += stateSize;
      return spec;
    });
  return { inputChannels: channels(inputSizes), outputChannels: channels(outputSizes) };
}

/** The source's split state (operator 0): one operator-state file per subtask. */
function planOperatorState(c: SubtaskContext): SimpleSubtaskSpec["operatorState"] {
  const size = c.rng.size(OPERATOR_STATE_MEAN, c.o.fileSizeSpread);
  const file = c.files.exclusive(`op${c.op}/st${c.subtask}/operator-state`, size);
  return { states: [{ name: "SourceReaderState", mode: "split", offsets: [0, Math.floor(size / 2)] }], file };
}

export function planCheckpoint(o: ResolvedOptions, layout: JobLayout, checkpointId: number, previous: BackendStates): CheckpointPlan {
  const files = new CheckpointFiles(o, layout, checkpointId);
  const backends = new Map<string, BackendState>();
  const newSstCount = o.operators * o.parallelism * o.newSharedFilesPerSubtask;
  const sstMean = newSstCount === 0 ? 0 : o.stateSizeBytes / newSstCount;
  const operators: SimpleOperatorSpec[] = [];
  for (let op = 0; op < o.operators; op++) {
    const operatorId = operatorIdOf(o.seed, op);
    const subtasks: SimpleSubtaskSpec[] = [];
    for (let subtask = 0; subtask < o.parallelism; subtask++) {
      const rng = SeededRandom.derive(o.seed, o.jobId, checkpointId, op, subtask);
      const c: SubtaskContext = { files, o, op, subtask, rng, sstMean };
      const key = `${op}/${subtask}`;
      const { keyed, backend } = planKeyedState(c, previous.get(key));
      backends.set(key, backend);
      subtasks.push({
        index: subtask,
        keyed,
        ...(op === 0 ? { operatorState: planOperatorState(c) } : {}),
        ...(o.channelState ? planChannelState(c) : {}),
      });
    }
    const coordinator = op === 0 ? { coordinatorState: stateBytes(`${o.seed}/${o.jobId}/chk-${checkpointId}/coordinator`, 96) } : {};
    operators.push({
      operatorId,
      name: op === 0 ? "Source: simulated" : `Operator ${op}`,
      uid: `simulated-operator-${op}`,
      parallelism: o.parallelism,
      maxParallelism: o.maxParallelism,
      ...coordinator,
      subtasks,
    });
  }
  return {
    checkpointId,
    dir: files.dir,
    metadataPath: layout.metadataPath(checkpointId),
    spec: { version: o.formatVersion, checkpointId, operators },
    writes: files.writes,
    references: [...files.refs.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    backends,
  };
}
