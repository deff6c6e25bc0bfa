// Checkpoint vs savepoint for a parsed `_metadata` (versions 4+ say so in their
// properties trailer; versions 1-3 do not, and the directory name must decide).

import { decodeCheckpointProperties, type CheckpointPropertiesInfo, type SnapshotKind } from "./checkpoint-properties.js";
import { propertiesObject } from "./metadata.js";
import type { CheckpointMetadata } from "./model.js";

/** The decoded properties trailer, or undefined for versions 1-3. */
export function checkpointPropertiesOf(md: CheckpointMetadata): CheckpointPropertiesInfo | undefined {
  const value = propertiesObject(md);
  return value === undefined ? undefined : decodeCheckpointProperties(value);
}

export function checkpointKind(md: CheckpointMetadata): SnapshotKind {
  return checkpointPropertiesOf(md)?.kind ?? "unknown";
}
