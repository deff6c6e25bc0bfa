// Telling a checkpoint Flink is subsuming from one that lost a file: Flink
// discards a subsumed checkpoint's files before its _metadata, and only once a
// newer checkpoint completed. So a checkpoint whose _metadata is gone, or that
// has a newer sibling, is being subsumed: dropping it is normal.

import { joinPath, type ReadOnlyStorage } from "../storage/types.js";
import { classifyUnitDir, METADATA_FILE } from "./layout.js";
import type { TreeUnit } from "./scan.js";

export async function isBeingSubsumed(source: Pick<ReadOnlyStorage, "stat" | "list">, unit: TreeUnit, jobDir: string): Promise<boolean> {
  try {
    if ((await source.stat(joinPath(unit.dir, METADATA_FILE))) === null) return true;
    if (unit.kind !== "checkpoint") return false;
    const siblings = (await source.list(jobDir)) ?? [];
    return siblings.some((e) => {
      const name = classifyUnitDir(e.name);
      return name?.kind === "checkpoint" && name.checkpointId > unit.checkpointId;
    });
  } catch {
    return false;
  }
}
