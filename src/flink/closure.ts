// What a parsed checkpoint needs: the unique files it references (with resolved
// location, required size, shared/exclusive scope and usages), inline state
// totals, handle-type counts, and older checkpoints it depends on (v7).

import type { CheckpointMetadata } from "./model.js";
import { walkHandles } from "./walk.js";

export interface FileReference {
  /** The path as stored in `_metadata` (relative paths as the bare relative string). */
  storedPath: string;
  /** Absolute paths as stored; relative ones joined to the checkpoint directory URI. */
  location: string;
  relative: boolean;
  /** Bytes the file must have: the state size for whole files, the segment end offset for file-merging segments; -1 if unknown. */
  size: number;
  /** May be referenced by other checkpoints too (do not delete with this checkpoint). */
  shared: boolean;
  /** Where the file is used, e.g. `operator:<id>/subtask:0/managedKeyedState/shared[000094.sst]`. */
  usedBy: string[];
  /** Absolute path that does not lie under the checkpoint directory (spec §14 treats these as shared too). */
  outsideCheckpointDir: boolean;
}

const SHARED_DIR_SEGMENT = /(^|\/)(shared|taskowned)\//;

/** True when `path` equals `prefix` or continues it after a `/` boundary. */
export function isUnderPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || prefix.endsWith("/") || path.charAt(prefix.length) === "/";
}

export function resolveAgainst(checkpointDirUri: string, relativePath: string): string {
  return `${checkpointDirUri.replace(/\/+$/, "")}/${relativePath}`;
}

/** Every file `md` references, once each, sorted by location. */
export function referenceClosure(md: CheckpointMetadata, checkpointDirUri: string): FileReference[] {
  const byLocation = new Map<string, FileReference>();
  const dir = checkpointDirUri.replace(/\/+$/, "");
  const add = (storedPath: string, relative: boolean, size: bigint, positionShared: boolean, usedBy: string): void => {
    const location = relative ? resolveAgainst(dir, storedPath) : storedPath;
    const shared = positionShared || SHARED_DIR_SEGMENT.test(relative ? storedPath : location);
    const existing = byLocation.get(location);
    const n = Number(size);
    if (existing) {
      existing.size = Math.max(existing.size, n);
      existing.shared ||= shared;
      if (!existing.usedBy.includes(usedBy)) existing.usedBy.push(usedBy);
      return;
    }
    const outsideCheckpointDir = !relative && !isUnderPrefix(location, dir);
    byLocation.set(location, { storedPath, location, relative, size: n, shared, usedBy: [usedBy], outsideCheckpointDir });
  };
  walkHandles(md, {
    stream(h, site) {
      if (h.type === "file") add(h.filePath, false, h.stateSize, site.sharedPosition, site.usedBy);
      else if (h.type === "relativeFile") add(h.relativePath, true, h.stateSize, site.sharedPosition, site.usedBy);
      else if (h.type === "segment") add(h.filePath, false, h.startPos + h.stateSize, true, site.usedBy);
    },
  });
  return [...byLocation.values()].sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
}

/** Inline byte-stream handles (tag 1) and their total data bytes. */
export function inlineStateSummary(md: CheckpointMetadata): { handles: number; bytes: number } {
  let handles = 0;
  let bytes = 0;
  walkHandles(md, {
    stream(h) {
      if (h.type === "inline") {
        handles++;
        bytes += h.data.length;
      }
    },
  });
  return { handles, bytes };
}

/** Number of non-null handles per Flink class name (e.g. `KeyGroupsStateHandle(v2)`). */
export function handleTypeCounts(md: CheckpointMetadata): Record<string, number> {
  const counts: Record<string, number> = {};
  const count = (name: string): void => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  const streamNames = {
    inline: "ByteStreamStateHandle",
    file: "FileStateHandle",
    keyGroupsStream: "KeyGroupsStateHandle",
    relativeFile: "RelativeFileStateHandle",
    segment: "SegmentFileStateHandle",
    emptySegment: "EmptySegmentFileStateHandle",
  } as const;
  walkHandles(md, {
    stream(h) {
      if (h.type !== "null") count(streamNames[h.type]);
    },
    keyed(h) {
      switch (h.type) {
        case "keyGroups":
          return count(h.tag === 7 ? "KeyGroupsSavepointStateHandle" : h.tag === 12 ? "KeyGroupsStateHandle(v2)" : "KeyGroupsStateHandle");
        case "incremental":
          return count(`IncrementalRemoteKeyedStateHandle(${h.tag === 5 ? "v1" : "v2"})`);
        case "changelogBackend":
          return count(`ChangelogStateBackendHandle(${h.tag === 8 ? "v1" : "v2"})`);
        case "changelogInMemory":
          return count("InMemoryChangelogStateHandle");
        case "changelogFiles":
          return count(`ChangelogStateHandleStreamImpl(${h.tag === 10 ? "v1" : "v2"})`);
        default:
          return;
      }
    },
    operator(h) {
      if (h.type === "operatorStream") count(h.fileMerging ? "FileMergingOperatorStreamStateHandle" : "OperatorStreamStateHandle");
    },
    channel(h, direction) {
      const base = direction === "input" ? "InputChannelStateHandle" : "ResultSubpartitionStateHandle";
      count(h.type === "mergedChannel" ? `Merged${base}` : base);
    },
  });
  return counts;
}

/** Older checkpoints whose state this one reuses (format version 7 `referenceCheckpointId`), unique, ascending. */
export function referencedCheckpoints(md: CheckpointMetadata): bigint[] {
  const ids = new Set<bigint>();
  for (const op of md.operators) {
    for (const e of op.subtasks) if (e.state?.referenceCheckpointId !== undefined && e.state.referenceMarker === 1) ids.add(e.state.referenceCheckpointId);
  }
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
