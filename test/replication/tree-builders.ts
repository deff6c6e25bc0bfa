// Builders of scanner output (TreeJob, TreeUnit, Entry) for the pure planning
// tests: a target tree under /dr/flink mirroring a source tree under
// /flink/checkpoints, one job "j".

import type { RootPair } from "../../src/config/load.js";
import type { Entry } from "../../src/storage/types.js";
import type { TreeJob, TreeUnit } from "../../src/replication/scan.js";

export const SOURCE_ROOT = "/flink/checkpoints";
export const TARGET_ROOT = "/dr/flink";
export const JOB = "j";
export const ROOTS: RootPair[] = [{ source: SOURCE_ROOT, target: TARGET_ROOT }];

export function file(name: string, o: { length?: number; mtime?: number } = {}): Entry {
  return { name, type: "file", length: o.length ?? 10, mtime: o.mtime ?? 1_000 };
}

/** chk-<id> of job "j" under `root`; with a _metadata unless `metadata: false`. */
export function chk(root: string, id: number, o: { metadata?: boolean; entries?: Entry[] } = {}): TreeUnit {
  const metadata = o.metadata === false ? null : file("_metadata", { length: 100, mtime: id * 1000 });
  const entries = [...(metadata ? [metadata] : []), ...(o.entries ?? [])];
  return { jobKey: JOB, root, kind: "checkpoint", name: `chk-${id}`, checkpointId: id, dir: `${root}/${JOB}/chk-${id}`, metadata, entries };
}

/** savepoint-<suffix> directly under `root` (pseudo-job ""), its _metadata written at `mtime`. */
export function savepoint(root: string, suffix: string, mtime: number): TreeUnit {
  const metadata = file("_metadata", { length: 100, mtime });
  return { jobKey: "", root, kind: "savepoint", name: `savepoint-${suffix}`, checkpointId: Number.NaN, dir: `${root}/savepoint-${suffix}`, metadata, entries: [metadata] };
}

/** Job "j" under `root` with these units and shared files (names relative to <root>/j/shared). */
export function job(root: string, units: TreeUnit[], shared: Array<string | Entry> = [], complete = true): TreeJob {
  const sharedFiles = new Map<string, Entry>();
  for (const s of shared) {
    const e = typeof s === "string" ? file(s) : s;
    sharedFiles.set(`${root}/${JOB}/shared/${e.name}`, e);
  }
  return { key: JOB, root, dir: `${root}/${JOB}`, units, sharedFiles, complete, problems: complete ? [] : ["a listing failed"] };
}

export const targetShared = (name: string) => `${TARGET_ROOT}/${JOB}/shared/${name}`;
export const targetUnitDir = (id: number) => `${TARGET_ROOT}/${JOB}/chk-${id}`;
