// Subsumption is judged by completion time: a checkpoint that lost a file is
// "being subsumed" (normal) only when its _metadata is gone or a sibling
// checkpoint changed after it completed; an old run's higher-numbered
// checkpoint left beside a restarted job does not excuse a new run's loss.

import { describe, expect, it } from "vitest";
import { isBeingSubsumed } from "../../src/replication/subsumption.js";
import type { TreeUnit } from "../../src/replication/scan.js";
import type { Entry } from "../../src/storage/types.js";

const JOB = "/cp/job";
const dir = (name: string, mtime: number): Entry => ({ name, type: "dir", length: 0, mtime });

function unit(id: number): TreeUnit {
  return { jobKey: "job", root: "/cp", kind: "checkpoint", name: `chk-${id}`, checkpointId: id, dir: `${JOB}/chk-${id}`, metadata: null, entries: [] };
}

function source(metadataMtime: number | null, siblings: Entry[]) {
  return {
    stat: async (p: string): Promise<Entry | null> => (p.endsWith("/_metadata") && metadataMtime !== null ? { name: "_metadata", type: "file", length: 10, mtime: metadataMtime } : null),
    list: async (p: string): Promise<Entry[] | null> => (p === JOB ? siblings : null),
  };
}

describe("isBeingSubsumed", () => {
  it("is true when the _metadata is gone (Flink deletes it last)", async () => {
    expect(await isBeingSubsumed(source(null, []), unit(3), JOB)).toBe(true);
  });

  it("is true when a newer checkpoint completed after this one", async () => {
    expect(await isBeingSubsumed(source(1000, [dir("chk-3", 1000), dir("chk-4", 5000)]), unit(3), JOB)).toBe(true);
  });

  it("is false when the only other checkpoint is an older run's, higher-numbered but finished before", async () => {
    // The job was restarted under the same id: its chk-3 is newer than the old run's chk-50.
    expect(await isBeingSubsumed(source(9000, [dir("chk-3", 9000), dir("chk-50", 2000), dir("shared", 9500)]), unit(3), JOB)).toBe(false);
  });

  it("is true for an old run's checkpoint once the new run completed one after it", async () => {
    expect(await isBeingSubsumed(source(2000, [dir("chk-50", 2000), dir("chk-1", 9000)]), unit(50), JOB)).toBe(true);
  });
});
