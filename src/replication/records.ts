// Replication records: one small JSON file per published checkpoint under
// <target root>/.ckpt-replicator/records/<job>/<unit>.json, written after the
// _metadata is in place and removed before anything of the checkpoint is
// deleted. They carry what the target's files cannot: the source completion
// time (for lag) and what was copied.

import { joinPath, readSmallFile, type ReadOnlyStorage, type Storage } from "../storage/types.js";
import { writeAtomically } from "./atomic.js";
import type { LeftBehind } from "./left-behind.js";
import { isTempName, recordPath, recordsDir } from "./layout.js";

export interface ReplicationRecord {
  format: 1;
  job: string;
  unit: string;
  kind: "checkpoint" | "savepoint";
  checkpointId: number;
  source: { cluster: string; dir: string; metadataLength: number; completedAt: string };
  target: { cluster: string; dir: string };
  files: number;
  bytes: number;
  publishedAt: string;
}

export async function writeRecord(
  target: Storage,
  targetRoot: string,
  record: ReplicationRecord,
  o: { signal?: AbortSignal | undefined; leftBehind?: LeftBehind | undefined } = {},
): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
  await writeAtomically(target, recordPath(targetRoot, record.job, record.unit), bytes, {
    ensureParent: true,
    owner: { job: record.job, checkpoint: record.unit },
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.leftBehind ? { leftBehind: o.leftBehind } : {}),
  });
}

/** The record of a unit, or null when absent or unreadable (records are advisory; _metadata is the truth). */
export async function readRecord(target: Storage, targetRoot: string, job: string, unit: string): Promise<ReplicationRecord | null> {
  try {
    const bytes = await readSmallFile(target, recordPath(targetRoot, job, unit), 1024 * 1024);
    const parsed = JSON.parse(bytes.toString("utf8")) as ReplicationRecord;
    return parsed.format === 1 ? parsed : null;
  } catch {
    return null;
  }
}

export interface RecordListing {
  /** Units of the job that have a replication record. */
  names: Set<string>;
  /** Temporaries of record writes that did not finish (the reaper removes them once stale). */
  temporaries: Array<{ path: string; mtime: number }>;
}

/** A fresh listing of a job's records directory. */
export async function listRecords(target: ReadOnlyStorage, targetRoot: string, job: string, signal?: AbortSignal): Promise<RecordListing> {
  const dir = recordsDir(targetRoot, job);
  const entries = await target.list(dir, signal ? { signal } : {});
  const out: RecordListing = { names: new Set(), temporaries: [] };
  for (const e of entries ?? []) {
    if (e.type !== "file") continue;
    if (isTempName(e.name)) out.temporaries.push({ path: joinPath(dir, e.name), mtime: e.mtime });
    else if (e.name.endsWith(".json")) out.names.add(e.name.slice(0, -".json".length));
  }
  return out;
}

export interface RecordFacts {
  job: string;
  unit: { name: string; kind: "checkpoint" | "savepoint"; checkpointId: number };
  sourceCluster: string;
  sourceDir: string;
  targetCluster: string;
  targetDir: string;
  /** Source _metadata modification time, ms. */
  completedAt: number;
  metadataLength: number;
  files: number;
  bytes: number;
}

export function recordFor(f: RecordFacts): ReplicationRecord {
  return {
    format: 1,
    job: f.job,
    unit: f.unit.name,
    kind: f.unit.kind,
    checkpointId: Number.isNaN(f.unit.checkpointId) ? -1 : f.unit.checkpointId,
    source: { cluster: f.sourceCluster, dir: f.sourceDir, metadataLength: f.metadataLength, completedAt: new Date(f.completedAt).toISOString() },
    target: { cluster: f.targetCluster, dir: f.targetDir },
    files: f.files,
    bytes: f.bytes,
    publishedAt: new Date().toISOString(),
  };
}
