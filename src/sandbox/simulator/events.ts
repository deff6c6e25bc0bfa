// What the simulator reports: completed and subsumed checkpoints, and the
// retained checkpoints with every state file they reference.

/** One state file a checkpoint references, as a path on the simulator's storage. */
export interface StateFileRef {
  path: string;
  /** Length in bytes. */
  size: number;
  /** Under shared/ or taskowned/: lives until no retained checkpoint references it. */
  shared: boolean;
}

export interface RetainedCheckpoint {
  id: number;
  /** The checkpoint's directory on the storage (`<root>/<job>/chk-<id>`). */
  dir: string;
  metadataPath: string;
  metadataSize: number;
  /** SHA-256 (hex) of the `_metadata` bytes written: identifies the checkpoint's content independently of its id. */
  metadataSha256: string;
  /** Every file the `_metadata` references, once each, sorted by path (inline state has no file). */
  files: StateFileRef[];
}

export interface CheckpointEvent {
  jobId: string;
  checkpointId: number;
  dir: string;
  metadataPath: string;
  metadataBytes: number;
  /** State files the checkpoint references (new and reused). */
  files: number;
  /** Their total bytes. */
  bytes: number;
  /** State files this checkpoint wrote. */
  newFiles: number;
  newBytes: number;
  durationMs: number;
}

export interface SubsumedEvent {
  jobId: string;
  checkpointId: number;
  dir: string;
  /** State files deleted (exclusive ones and shared ones no retained checkpoint references any more). */
  deletedFiles: number;
  deletedBytes: number;
  /** Deletions that failed (logged; Flink's discard is best effort too). */
  failedDeletes: number;
}
