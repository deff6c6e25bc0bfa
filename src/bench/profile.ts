// Sizes of every benchmark: the full profile (what RESULTS.md reports, a few
// minutes at most on 2 cores) and the quick profile (seconds; the smoke test).

export interface BenchProfile {
  name: "full" | "quick";
  copy: {
    /** Total state bytes of the checkpoint, in MiB. */
    totalMiB: number;
    /** Parallel subtasks x new files per subtask = the checkpoint's large state files. */
    subtasks: number;
    filesPerSubtask: number;
    concurrency: number;
    /** Baseline and replicator alternate this many times; the best of each is reported. */
    rounds: number;
  };
  scan: {
    jobs: number;
    /** Retained checkpoints per job. */
    checkpoints: number;
    /** New state files per checkpoint (subtasks x files per subtask). */
    subtasks: number;
    filesPerSubtask: number;
    /** Scans averaged for each of the cold and the warm figure. */
    repeats: number;
  };
  catchUp: {
    /** Checkpoints the target is behind. */
    behind: number;
    /** State bytes of each checkpoint, in MiB (none reused, so every checkpoint is the same size). */
    checkpointMiB: number;
    subtasks: number;
    filesPerSubtask: number;
    /** One-checkpoint and K-behind publications alternate this many times; the best of each is reported. */
    rounds: number;
  };
  memory: {
    files: number;
    fileMiB: number;
    concurrency: number;
    growthLimitMiB: number;
  };
  smallFiles: {
    /** operators x parallelism x files per subtask = state files of the one checkpoint. */
    operators: number;
    parallelism: number;
    filesPerSubtask: number;
    /** Mean size of the new shared SST files (log-normal spread 0.5); the small exclusive files bring the median down. */
    sstMeanKiB: number;
    /** Concurrencies the bare parallel copy is measured at (the best is the baseline). */
    bareConcurrencies: number[];
    /** Replicator publications into fresh targets; the best is reported. */
    rounds: number;
  };
  treeScale: {
    /** Tree sizes in files (jobs of 10,000 files each), smallest first. */
    sizes: number[];
    warmRepeats: number;
    rssLimitMiB: number;
  };
  rpo: {
    /** How long the job checkpoints while the daemon runs (`--rpo-duration`). */
    durationS: number;
    intervalMs: number;
    /** New state per checkpoint (MiB), in operators x parallelism x files per subtask new SST files. */
    checkpointMiB: number;
    operators: number;
    parallelism: number;
    filesPerSubtask: number;
    scanIntervalMs: number;
  };
  fairness: {
    /** The backlog: one checkpoint of operators x parallelism x files per subtask new SSTs of fileKiB. */
    backlog: { operators: number; parallelism: number; filesPerSubtask: number; fileKiB: number };
    /** Backlog files copied before the small jobs checkpoint. */
    backlogHeadStartFiles: number;
    smallJobs: number;
    /** New state of each small checkpoint (MiB). */
    smallMiB: number;
    scanIntervalMs: number;
  };
  engineScale: {
    /** Tree sizes in files (jobs of 10,000 zero-length files each), smallest first. */
    sizes: number[];
    /**
     * Sizes of the "synced" trees (`--engine-synced-sizes`): both sides generated with the same files, so the
     * engine's start-up cycle only plans, verifies and publishes every job's checkpoint, then keeps it in sync.
     */
    syncedSizes: number[];
    warmRepeats: number;
    rssLimitMiB: number;
    /** Longest the first sync of one tree may take. */
    timeoutMs: number;
    /** `--engine-heap-dir`: the child writes V8 heap snapshots there (half-way through the sync, after it). */
    heapSnapshotDir?: string;
    /**
     * The engine's process runs with V8's old generation capped at this (`--max-old-space-size`), as the
     * shipped deployment files run the daemon (DEPLOYED_HEAP_CAP_MIB); `--engine-max-old-space MiB` sets
     * another, 0 none (V8's own limit).
     */
    maxOldSpaceMiB?: number;
  };
  /** Longest any single engine publication may take before the benchmark fails. */
  publishTimeoutMs: number;
}

/** The V8 heap cap the Dockerfile, deploy/kubernetes and deploy/systemd give the daemon (a test keeps them equal). */
export const DEPLOYED_HEAP_CAP_MIB = 384;

export const FULL_PROFILE: BenchProfile = {
  name: "full",
  copy: { totalMiB: 256, subtasks: 8, filesPerSubtask: 8, concurrency: 4, rounds: 5 },
  scan: { jobs: 10, checkpoints: 3, subtasks: 4, filesPerSubtask: 5, repeats: 5 },
  catchUp: { behind: 8, checkpointMiB: 16, subtasks: 4, filesPerSubtask: 2, rounds: 3 },
  memory: { files: 4, fileMiB: 256, concurrency: 4, growthLimitMiB: 150 },
  smallFiles: { operators: 10, parallelism: 60, filesPerSubtask: 5, sstMeanKiB: 32, bareConcurrencies: [8, 16, 32, 64], rounds: 3 },
  treeScale: { sizes: [10_000, 100_000, 1_000_000], warmRepeats: 3, rssLimitMiB: 500 },
  rpo: { durationS: 90, intervalMs: 10_000, checkpointMiB: 200, operators: 2, parallelism: 4, filesPerSubtask: 4, scanIntervalMs: 2_000 },
  fairness: { backlog: { operators: 10, parallelism: 50, filesPerSubtask: 6, fileKiB: 16 }, backlogHeadStartFiles: 200, smallJobs: 4, smallMiB: 2, scanIntervalMs: 500 },
  engineScale: { sizes: [10_000, 30_000], syncedSizes: [10_000, 100_000], warmRepeats: 3, rssLimitMiB: 500, timeoutMs: 15 * 60_000, maxOldSpaceMiB: DEPLOYED_HEAP_CAP_MIB },
  publishTimeoutMs: 120_000,
};

export const QUICK_PROFILE: BenchProfile = {
  name: "quick",
  copy: { totalMiB: 8, subtasks: 4, filesPerSubtask: 2, concurrency: 4, rounds: 1 },
  scan: { jobs: 2, checkpoints: 2, subtasks: 2, filesPerSubtask: 2, repeats: 2 },
  catchUp: { behind: 3, checkpointMiB: 1, subtasks: 2, filesPerSubtask: 1, rounds: 1 },
  memory: { files: 2, fileMiB: 8, concurrency: 2, growthLimitMiB: 150 },
  smallFiles: { operators: 2, parallelism: 10, filesPerSubtask: 5, sstMeanKiB: 32, bareConcurrencies: [4, 16], rounds: 1 },
  treeScale: { sizes: [2_000, 20_000], warmRepeats: 2, rssLimitMiB: 500 },
  rpo: { durationS: 6, intervalMs: 1_000, checkpointMiB: 2, operators: 1, parallelism: 2, filesPerSubtask: 2, scanIntervalMs: 300 },
  fairness: { backlog: { operators: 2, parallelism: 20, filesPerSubtask: 5, fileKiB: 8 }, backlogHeadStartFiles: 20, smallJobs: 2, smallMiB: 1, scanIntervalMs: 200 },
  engineScale: { sizes: [1_000, 3_000], syncedSizes: [1_000, 3_000], warmRepeats: 2, rssLimitMiB: 500, timeoutMs: 120_000, maxOldSpaceMiB: DEPLOYED_HEAP_CAP_MIB },
  publishTimeoutMs: 15_000,
};
