// Public API of the Flink `_metadata` engine: parse, serialize, build, inspect
// references, and rewrite absolute paths of checkpoint/savepoint metadata.

export { MetadataFormatError } from "./errors.js";
export type * from "./model.js";
export { parseMetadata, serializeMetadata, propertiesObject, type ParseOptions } from "./metadata.js";
export type { ParseStats, ReadLimits } from "./format-io.js";
export {
  referenceClosure,
  inlineStateSummary,
  handleTypeCounts,
  referencedCheckpoints,
  resolveAgainst,
  type FileReference,
} from "./closure.js";
export { walkHandles, type HandleVisitor, type StreamSite } from "./walk.js";
export {
  decodeCheckpointProperties,
  encodeCheckpointProperties,
  type CheckpointPropertiesInfo,
  type CheckpointPropertiesSpec,
  type SnapshotKind,
} from "./checkpoint-properties.js";
export { checkpointKind, checkpointPropertiesOf } from "./kind.js";
export { parsePathMap, pathMapOf, invertPathMap, mapPath, type PathMap, type PathMapping } from "./path-map.js";
export { rewriteMetadataPaths, rewritePathsInPlace, verifyRewrittenClosure, PathRewriteError, type RewriteResult } from "./rewrite.js";
export {
  buildCheckpointMetadata,
  stableUuid,
  type SimpleCheckpointSpec,
  type SimpleOperatorSpec,
  type SimpleSubtaskSpec,
  type StateFileSpec,
  type IncrementalKeyedSpec,
  type KeyGroupsKeyedSpec,
  type OperatorStateSpec,
  type ChannelSpec,
} from "./builder.js";
export { localMetadataSource, directoryOf, MAX_METADATA_BYTES, type MetadataSource } from "./metadata-source.js";
