// Public surface of the Flink job simulator: a job that checkpoints (RocksDB
// incremental, real `_metadata`) into any Storage, for the demo, the end-to-end
// tests and the benchmarks.

export { FlinkJobSimulator } from "./simulator.js";
export { resolveOptions, jobIdForSeed, defaultMaxParallelism, SUPPORTED_FORMAT_VERSIONS, type SimulatorOptions, type PathStyle } from "./options.js";
export type { CheckpointEvent, SubsumedEvent, RetainedCheckpoint, StateFileRef } from "./events.js";
export { SimulatorError, SimulatorConflictError, CheckpointAbortedError, type SimulatorOperation } from "./errors.js";
export { JobLayout, METADATA_FILE_NAME } from "./layout.js";
export { stateBytesStream, STATE_CHUNK_BYTES } from "./state-bytes.js";
