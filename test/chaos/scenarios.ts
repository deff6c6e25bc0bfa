// Deterministic, named chaos worlds: each reproduces one bug of issue #7 with
// a fixed schedule (no random faults), judged by the same independent checker
// as the seeded runs. scenarios.test.ts runs them.

import { repairWindow, type JobShape, type World } from "./world.js";

const MiB = 1024 * 1024;

function job(o: Partial<JobShape> & { jobId: string }): JobShape {
  return {
    seed: 7,
    intervalMs: 1000,
    stateSizeBytes: 1 * MiB,
    operators: 2,
    parallelism: 2,
    retained: 2,
    formatVersion: 4,
    paths: "relative",
    channelState: false,
    taskOwnedState: false,
    newSharedFilesPerSubtask: 2,
    ...o,
  };
}

function world(o: Partial<World> & { name: string; jobs: JobShape[] }): World {
  const scanIntervalMs = o.scanIntervalMs ?? 1000;
  return {
    seed: 0,
    durationMs: 30_000,
    retain: { min: 1, max: 3 },
    bandwidth: 0,
    concurrency: 4,
    scanIntervalMs,
    leaseTtlMs: 3000,
    fullRescanEvery: 30,
    schedule: [],
    convergeMs: 25_000,
    repairWindowMs: repairWindow(scanIntervalMs),
    checkMetrics: true,
    ...o,
  };
}

export interface Scenario {
  /** Stable name (also the KNOWN_FAILING key). */
  name: string;
  /** Which bug of issue #7 it reproduces and what a user would see. */
  bug: string;
  world: World;
}

export const SCENARIOS: Scenario[] = [
  {
    name: "reaper-stale-listing",
    bug: "issue #7 bug 1: the reaper deletes published restorable checkpoints when a checkpoint directory's listing comes from a stale cache; the target holds no checkpoint for seconds",
    world: world({
      name: "reaper-stale-listing",
      durationMs: 30_000,
      retain: { min: 1, max: 2 },
      bandwidth: 4 * MiB,
      scanIntervalMs: 1000,
      jobs: [job({ jobId: "1".repeat(32), intervalMs: 4000, stateSizeBytes: 12 * MiB, retained: 1, seed: 11 })],
    }),
  },
  {
    name: "reaper-stale-listing-min2",
    bug: "issue #7 bug 1 with retain.min 2: checkpoints still on the source are deleted from the target, leaving fewer than retain.min",
    world: world({
      name: "reaper-stale-listing-min2",
      durationMs: 40_000,
      retain: { min: 2, max: 3 },
      bandwidth: 4 * MiB,
      scanIntervalMs: 1000,
      jobs: [job({ jobId: "3".repeat(32), intervalMs: 4000, stateSizeBytes: 12 * MiB, retained: 3, seed: 13 })],
    }),
  },
  {
    name: "cut-source-read",
    bug: "issue #7 bug 2: a cut source read (DataNode closes OPEN bodies after 20,000 bytes) while target CREATE is slow crashes the daemon with an unhandled 'error' event",
    world: world({
      name: "cut-source-read",
      durationMs: 25_000,
      jobs: [job({ jobId: "2".repeat(32), intervalMs: 1500, stateSizeBytes: 2 * MiB, seed: 12 })],
      schedule: [
        { at: 2000, action: { kind: "fault", rule: { cluster: "hdfs2", role: "namenode", op: "CREATE", times: "always", action: { kind: "latency", ms: 1500 } } } },
        // The 20,000 bytes, and a cut early in the body; a wave every second, so that some cut meets a copy
        // whose CREATE is still held back.
        ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((sec) => ({
          at: sec * 1000,
          action: { kind: "fault" as const, rule: { cluster: "hdfs1", role: "datanode" as const, op: "OPEN", times: 10, action: { kind: "cut-body" as const, afterBytes: sec % 2 === 0 ? 20_000 : 2000 } } },
        })),
        { at: 16_000, action: { kind: "clear-faults" } },
      ],
    }),
  },
  {
    name: "tampered-shared-file",
    bug: "issue #7 bug 4: a shared file deleted (then one truncated) on the target behind the daemon's back is never repaired and the checkpoint stays published; ckpt_restorable_checkpoints keeps counting it",
    world: world({
      name: "tampered-shared-file",
      durationMs: 28_000,
      jobs: [job({ jobId: "4".repeat(32), intervalMs: 1000, retained: 2, seed: 14 })],
      schedule: [
        { at: 7000, action: { kind: "stop-jobs" } },
        { at: 10_000, action: { kind: "tamper", what: "delete-shared", pick: 0 } },
        { at: 12_000, action: { kind: "tamper", what: "truncate-shared", pick: 1 } },
      ],
    }),
  },
  {
    name: "tampered-metadata",
    bug: "issue #7 bug 4: a `_metadata` deleted on the target must be republished without a restart (and a truncated one repaired or unpublished)",
    world: world({
      name: "tampered-metadata",
      durationMs: 28_000,
      jobs: [job({ jobId: "5".repeat(32), intervalMs: 1000, retained: 2, seed: 15 })],
      schedule: [
        { at: 7000, action: { kind: "stop-jobs" } },
        { at: 10_000, action: { kind: "tamper", what: "delete-metadata", pick: 1 } },
        { at: 12_000, action: { kind: "tamper", what: "truncate-metadata", pick: 0 } },
      ],
    }),
  },
  {
    name: "stale-lease-holder",
    bug: "issue #7 bug 5: a daemon paused (SIGSTOP) past lease.ttl keeps writing after a second daemon took the lease over (SIGCONT)",
    world: world({
      name: "stale-lease-holder",
      durationMs: 36_000,
      leaseTtlMs: 3000,
      bandwidth: 2 * MiB,
      jobs: [job({ jobId: "6".repeat(32), intervalMs: 1000, stateSizeBytes: 3 * MiB, seed: 16 })],
      schedule: [
        { at: 5000, action: { kind: "takeover", pauseMs: 5000 } },
        { at: 20_000, action: { kind: "takeover", pauseMs: 4500 } },
      ],
    }),
  },
  {
    name: "job-restarted-same-id",
    bug: "issue #7 bug 7: a job restarted under the same job id whose checkpoint ids start again at 1 is never published while its ids are below the old run's",
    world: world({
      name: "job-restarted-same-id",
      // The first run reaches about chk-20; the second run stops around chk-6, far below it.
      durationMs: 17_000,
      retain: { min: 1, max: 2 },
      jobs: [job({ jobId: "7".repeat(32), intervalMs: 600, retained: 1, stateSizeBytes: 256 * 1024, seed: 17 })],
      schedule: [{ at: 13_000, action: { kind: "restart-job", job: 0, seed: 1017 } }],
    }),
  },
  {
    name: "target-unreadable-after-restart",
    bug: "a daemon restarted (kill -9) while hdfs2's DataNode resets its reads and uploads unpublishes every published checkpoint whose _metadata it cannot read, the newest included, which the source has long subsumed: the target holds none",
    world: world({
      name: "target-unreadable-after-restart",
      durationMs: 24_000,
      retain: { min: 1, max: 2 },
      jobs: [job({ jobId: "8".repeat(32), intervalMs: 1000, retained: 1, stateSizeBytes: 512 * 1024, seed: 18 })],
      schedule: [
        // Only the restarted daemon's requests (its instances run as ckpt-d2, then ckpt-d3... if a start
        // is refused): the checker keeps reading hdfs2 through the same DataNode.
        ...["ckpt-d2", "ckpt-d3", "ckpt-d4"].flatMap((userName) =>
          ["OPEN", "CREATE"].map((op) => ({
            at: 6000,
            action: { kind: "fault" as const, rule: { cluster: "hdfs2", role: "datanode" as const, op, pathPrefix: "/flink/checkpoints/" + "8".repeat(32), userName, times: "always" as const, action: { kind: "reset" as const } } },
          })),
        ),
        // Past lease.ttl (3 s): the first restart takes the lease over.
        { at: 6500, action: { kind: "kill9", restartAfterMs: 3500 } },
        { at: 17_000, action: { kind: "clear-faults" } },
      ],
    }),
  },
];
