// Publishing one checkpoint on the target, the step the whole product exists
// for: check that every file of its closure is there with the source's length,
// rewrite the _metadata's absolute paths for the target cluster, write it under
// a temporary name and rename it into place, then write its replication record.

import { CkptError } from "../util/errors.js";
import { joinPath, type Storage } from "../storage/types.js";
import type { PrefixRewrite } from "../config/load.js";
import { writeAtomically } from "./atomic.js";
import type { LeftBehind } from "./left-behind.js";
import { METADATA_FILE } from "./layout.js";
import type { PlannedFile } from "./plan.js";
import { checkPresence, describeProblem } from "./presence.js";
import { writeRecord, type ReplicationRecord } from "./records.js";
import { metadataForTarget } from "./rewrite.js";

export class PublishError extends CkptError {
  readonly kind = "publish";
}

export interface PublishInput {
  target: Storage;
  files: PlannedFile[];
  /** The source _metadata bytes. */
  metadata: Buffer;
  rewrite: PrefixRewrite[];
  unitDir: string;
  targetRoot: string;
  record: ReplicationRecord;
  /** Source _metadata modification time (ms): the checkpoint's completion time. */
  completedAt: number;
  /** Throws when this process may no longer write (lease lost). */
  assertWritable: () => void;
  signal?: AbortSignal | undefined;
  /** Where a temporary whose removal failed is recorded (the engine's stop reports it). */
  leftBehind?: LeftBehind | undefined;
}

export async function publishCheckpoint(p: PublishInput): Promise<void> {
  const io = p.signal ? { signal: p.signal } : {};
  const problems = await checkPresence(
    p.target,
    p.files.map((f) => ({ path: f.target, minLength: f.required, exactLength: f.sourceEntry?.length ?? f.required })),
    p.signal,
  );
  if (problems.length > 0) {
    throw new PublishError(`not publishing ${p.unitDir}: ${problems.slice(0, 5).map(describeProblem).join("; ")}`);
  }
  const bytes = metadataForTarget(p.metadata, p.rewrite);
  p.assertWritable();
  await p.target.mkdirs(p.unitDir, io);
  const metadataPath = joinPath(p.unitDir, METADATA_FILE);
  // The copy carries the source's completion time (set before it becomes visible), so the target orders
  // checkpoints and savepoints as the source does and tells one run's chk-N from another's.
  const leftBehind = p.leftBehind ? { leftBehind: p.leftBehind } : {};
  await writeAtomically(p.target, metadataPath, bytes, { overwrite: true, mtime: p.completedAt, owner: { job: p.record.job, checkpoint: p.record.unit }, ...leftBehind, ...io });
  await writeRecord(p.target, p.targetRoot, p.record, { signal: p.signal, ...leftBehind });
}
