// Subsuming a checkpoint in Flink's discard order: the checkpoint's exclusive
// state files, then its `_metadata`, then its directory (non-recursively), and
// finally the shared files (shared/, taskowned/) that no retained checkpoint
// references any more. Best effort, like Flink: a failed delete is logged and
// counted, the rest still runs.

import PQueue from "p-queue";
import type { Storage } from "../../storage/types.js";
import { errorMessage } from "../../util/errors.js";
import type { Logger } from "../../util/log.js";
import type { RetainedCheckpoint, StateFileRef } from "./events.js";

export interface DiscardPlan {
  /** Files only this checkpoint uses, deleted first. */
  exclusiveFiles: StateFileRef[];
  metadataPath: string;
  dir: string;
  /** Shared files no remaining checkpoint references, deleted after the directory. */
  unreferencedSharedFiles: StateFileRef[];
}

export interface DiscardResult {
  deletedFiles: number;
  deletedBytes: number;
  failedDeletes: number;
}

export function planDiscard(victim: RetainedCheckpoint, remaining: readonly RetainedCheckpoint[]): DiscardPlan {
  const stillReferenced = new Set(remaining.flatMap((c) => c.files.map((f) => f.path)));
  return {
    exclusiveFiles: victim.files.filter((f) => !f.shared),
    metadataPath: victim.metadataPath,
    dir: victim.dir,
    unreferencedSharedFiles: victim.files.filter((f) => f.shared && !stillReferenced.has(f.path)),
  };
}

export async function discardCheckpoint(storage: Storage, plan: DiscardPlan, concurrency: number, logger: Logger): Promise<DiscardResult> {
  const result: DiscardResult = { deletedFiles: 0, deletedBytes: 0, failedDeletes: 0 };
  const remove = async (path: string, size: number | null): Promise<void> => {
    try {
      const deleted = await storage.delete(path, { recursive: false });
      if (deleted && size !== null) {
        result.deletedFiles++;
        result.deletedBytes += size;
      }
    } catch (err) {
      result.failedDeletes++;
      logger.warn({ path, err: errorMessage(err) }, "discarding checkpoint state failed");
    }
  };
  const removeAll = async (files: StateFileRef[]): Promise<void> => {
    const queue = new PQueue({ concurrency });
    await queue.addAll(files.map((f) => () => remove(f.path, f.size)));
  };
  await removeAll(plan.exclusiveFiles);
  await remove(plan.metadataPath, null);
  await remove(plan.dir, null);
  await removeAll(plan.unreferencedSharedFiles);
  return result;
}
