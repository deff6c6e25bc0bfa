// Telling a checkpoint Flink is subsuming from one that lost a file: Flink
// discards a subsumed checkpoint's files before its _metadata, and only once a
// newer checkpoint completed. So a checkpoint whose _metadata is gone, or that
// has a sibling checkpoint directory changed after it completed, is being
// subsumed: dropping it is normal. "After" is judged by time, not by id: a job
// restarted under the same id counts from chk-1 again, and the old run's
// higher-numbered checkpoints left beside it subsume nothing.

import { joinPath, type ReadOnlyStorage } from "../storage/types.js";
import { classifyUnitDir, METADATA_FILE } from "./layout.js";
import type { TreeUnit } from "./scan.js";

export async function isBeingSubsumed(source: Pick<ReadOnlyStorage, "stat" | "list">, unit: TreeUnit, jobDir: string): Promise<boolean> {
  try {
    const metadata = await source.stat(joinPath(unit.dir, METADATA_FILE));
    if (metadata === null) return true;
    if (unit.kind !== "checkpoint") return false;
    const siblings = (await source.list(jobDir)) ?? [];
    return siblings.some((e) => {
      const name = classifyUnitDir(e.name);
      return e.type === "dir" && name?.kind === "checkpoint" && name.checkpointId !== unit.checkpointId && e.mtime > metadata.mtime;
    });
  } catch {
    return false;
  }
}
