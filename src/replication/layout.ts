// Names in a Flink checkpoint tree and in the replicator's own bookkeeping:
// which directories are checkpoints or savepoints, what a temporary copy is
// called, and where replication records and the lease live on the target.

import { randomUUID } from "node:crypto";
import { joinPath } from "../storage/types.js";

export const METADATA_FILE = "_metadata";
export const SHARED_DIR = "shared";
export const TASKOWNED_DIR = "taskowned";
/** The replicator's own directory under each target root (records, lease). Hidden from Flink's view. */
export const ADMIN_DIR = ".ckpt-replicator";

export type UnitKind = "checkpoint" | "savepoint";

/** A checkpoint or savepoint directory name and the number that orders it within its job. */
export interface UnitName {
  kind: UnitKind;
  name: string;
  /** Checkpoint id for chk-<n>; NaN for savepoints (ordered by _metadata time instead). */
  checkpointId: number;
}

const CHECKPOINT_DIR = /^chk-(\d{1,18})$/;
const SAVEPOINT_DIR = /^savepoint-[0-9a-zA-Z_-]+$/;

export function classifyUnitDir(name: string): UnitName | null {
  const chk = CHECKPOINT_DIR.exec(name);
  if (chk) return { kind: "checkpoint", name, checkpointId: Number(chk[1]) };
  if (SAVEPOINT_DIR.test(name)) return { kind: "savepoint", name, checkpointId: Number.NaN };
  return null;
}

/** Directories under a job directory that hold files shared between checkpoints. */
export function isSharedStateDir(name: string): boolean {
  return name === SHARED_DIR || name === TASKOWNED_DIR;
}

/** Names the replicator and Flink never treat as jobs (hidden or internal). */
export function isHiddenName(name: string): boolean {
  return name.startsWith(".") || name.startsWith("_");
}

const TEMP_MARK = ".ckpt-tmp.";

/**
 * Temporary name for a file being written: same directory, hidden (leading dot, so neither Flink nor
 * Hadoop input formats see it), and recognizable as ours so crash leftovers can be removed.
 */
export function tempPathFor(finalPath: string): string {
  const slash = finalPath.lastIndexOf("/");
  const dir = finalPath.slice(0, slash + 1);
  const name = finalPath.slice(slash + 1);
  // randomUUID draws from a buffered entropy pool: far cheaper per file than randomBytes().
  return `${dir}.${name}${TEMP_MARK}${randomUUID().replace(/-/g, "").slice(0, 12)}`;
}

export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_MARK);
}

export function adminDir(targetRoot: string): string {
  return joinPath(targetRoot, ADMIN_DIR);
}

/** Replication record of one published unit: <target root>/.ckpt-replicator/records/<job>/<unit>.json */
export function recordPath(targetRoot: string, jobKey: string, unitName: string): string {
  return joinPath(joinPath(joinPath(adminDir(targetRoot), "records"), jobKey === "" ? "_root" : jobKey), `${unitName}.json`);
}

export function recordsDir(targetRoot: string, jobKey: string): string {
  return joinPath(joinPath(adminDir(targetRoot), "records"), jobKey === "" ? "_root" : jobKey);
}
