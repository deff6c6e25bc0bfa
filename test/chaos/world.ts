// What one chaos run is made of: the Flink jobs, the daemon's settings and a
// timed schedule of faults, process signals and tampering. worldForSeed()
// derives all of it from one seed, so `CHAOS_SEED=<n>` replays the same world
// and the same schedule (timing on a loaded machine still varies a little).

import type { FaultRule } from "../../src/sandbox/emulator/index.js";
import { ChaosRandom } from "./random.js";

export interface JobShape {
  jobId: string;
  seed: number;
  intervalMs: number;
  stateSizeBytes: number;
  operators: number;
  parallelism: number;
  /** Flink's retained checkpoint count. */
  retained: number;
  formatVersion: number;
  paths: "relative" | "absolute";
  channelState: boolean;
  taskOwnedState: boolean;
  newSharedFilesPerSubtask: number;
}

export type TamperKind = "delete-shared" | "truncate-shared" | "delete-exclusive" | "delete-metadata" | "truncate-metadata";

export type ChaosAction =
  | { kind: "failover"; cluster: string }
  | { kind: "unreachable"; cluster: string; mode: "refuse" | "reset"; durationMs: number }
  | { kind: "safemode"; cluster: string; durationMs: number }
  | { kind: "startup"; cluster: string; durationMs: number }
  | { kind: "fault"; rule: FaultRule }
  /** kill -9 the daemon; a new instance starts after restartAfterMs (or once the lease allows). */
  | { kind: "kill9"; restartAfterMs: number }
  /** SIGSTOP the daemon, SIGCONT it after durationMs. */
  | { kind: "pause"; durationMs: number }
  /** SIGSTOP the daemon past lease.ttl, start a second daemon, SIGCONT the first once the second wrote. */
  | { kind: "takeover"; pauseMs: number }
  | { kind: "tamper"; what: TamperKind; pick: number }
  /** The job is cancelled (its checkpoints deleted) and started again under the same job id: ids restart at 1. */
  | { kind: "restart-job"; job: number; seed: number }
  /** Removes every fault rule (admin DELETE /faults). */
  | { kind: "clear-faults" }
  /** Every Flink job stops checkpointing (its retained checkpoints stay on the source). */
  | { kind: "stop-jobs" };

export interface ScheduledAction {
  /** Milliseconds after the start of the run. */
  at: number;
  action: ChaosAction;
}

export interface World {
  name: string;
  seed: number;
  durationMs: number;
  jobs: JobShape[];
  retain: { min: number; max: number };
  /** Bytes per second; 0 = unlimited. */
  bandwidth: number;
  concurrency: number;
  scanIntervalMs: number;
  leaseTtlMs: number;
  fullRescanEvery: number;
  schedule: ScheduledAction[];
  /** How long after the chaos stops the newest source checkpoint of every job must be published. */
  convergeMs: number;
  /** How long a checkpoint broken by tampering may stay visible (and the metrics may overclaim). */
  repairWindowMs: number;
  /** Compare the daemon's restorable gauge with the checker. */
  checkMetrics: boolean;
}

const MiB = 1024 * 1024;

export function repairWindow(scanIntervalMs: number): number {
  // 2 x scan interval + a margin for retries, a full copy of a small file and a loaded machine.
  return 2 * scanIntervalMs + 8000;
}

export function worldForSeed(seed: number, durationMs = 45_000): World {
  const r = new ChaosRandom(seed, "world");
  const jobCount = r.weighted([
    [3, 1],
    [3, 2],
    [1, 3],
  ] as const);
  const jobs: JobShape[] = [];
  for (let i = 0; i < jobCount; i++) {
    const taskOwnedState = r.chance(0.2);
    jobs.push({
      jobId: r.hex(32),
      seed: r.int(1, 1_000_000),
      intervalMs: r.pick([700, 1000, 1500, 2500, 4000]),
      stateSizeBytes: r.pick([64 * 1024, 256 * 1024, 1 * MiB, 3 * MiB, 8 * MiB]),
      operators: r.int(1, 4),
      parallelism: r.pick([1, 2, 4, 8]),
      retained: r.int(1, 3),
      formatVersion: r.int(3, 7),
      paths: r.chance(0.5) ? "relative" : "absolute",
      channelState: r.chance(0.25),
      taskOwnedState,
      newSharedFilesPerSubtask: r.int(1, 3),
    });
  }
  const min = r.int(1, 2);
  const max = min + r.int(0, 2);
  const scanIntervalMs = r.pick([300, 700, 1500, 3000]);
  const leaseTtlMs = r.pick([3000, 4000, 6000]);
  const world: World = {
    name: `seed ${seed}`,
    seed,
    durationMs,
    jobs,
    retain: { min, max },
    bandwidth: r.weighted([
      [2, 0],
      [1, 2 * MiB],
      [1, 4 * MiB],
      [1, 16 * MiB],
    ] as const),
    concurrency: r.int(1, 6),
    scanIntervalMs,
    leaseTtlMs,
    fullRescanEvery: r.pick([3, 10, 30]),
    schedule: [],
    convergeMs: 40_000,
    repairWindowMs: repairWindow(scanIntervalMs),
    checkMetrics: true,
  };
  world.schedule = scheduleForSeed(seed, world);
  return world;
}

function scheduleForSeed(seed: number, w: World): ScheduledAction[] {
  const r = new ChaosRandom(seed, "schedule");
  const out: ScheduledAction[] = [];
  // Leave the first seconds quiet so something gets published, and the last ones so a repair window fits.
  const start = 4000;
  const end = w.durationMs - Math.max(4000, w.repairWindowMs);
  let t = start;
  let processEventAt = -Infinity;
  while (t < end) {
    t += r.int(800, 3500);
    if (t >= end) break;
    const cluster = r.chance(0.5) ? "hdfs1" : "hdfs2";
    const kind = r.weighted([
      [4, "failover"],
      [2, "unreachable"],
      [2, "safemode"],
      [1, "startup"],
      [3, "error"],
      [2, "latency"],
      [2, "reset"],
      [2, "cut-body"],
      [2, "kill9"],
      [2, "pause"],
      [1, "takeover"],
      [3, "tamper"],
    ] as const);
    let action: ChaosAction;
    switch (kind) {
      case "failover":
        action = { kind, cluster };
        break;
      case "unreachable":
        action = { kind, cluster, mode: r.chance(0.5) ? "refuse" : "reset", durationMs: r.int(500, 6000) };
        break;
      case "safemode":
      case "startup":
        action = { kind, cluster, durationMs: r.int(300, 4000) };
        break;
      case "error":
        action = {
          kind: "fault",
          rule: {
            cluster,
            role: r.chance(0.7) ? "namenode" : "datanode",
            ...(r.chance(0.5) ? { op: r.pick(["LISTSTATUS", "GETFILESTATUS", "OPEN", "CREATE", "RENAME", "DELETE", "LISTSTATUS_BATCH"]) } : {}),
            times: r.int(1, 20),
            action: r.pick([
              { kind: "error", status: 500, javaClassName: "java.lang.RuntimeException", message: "chaos" },
              { kind: "error", status: 503, javaClassName: "java.io.IOException", message: "chaos: service unavailable" },
              { kind: "error", status: 403, javaClassName: "org.apache.hadoop.ipc.RetriableException", message: "chaos: busy" },
            ] as const),
          },
        };
        break;
      case "latency":
        action = { kind: "fault", rule: { cluster, times: r.int(5, 60), action: { kind: "latency", ms: r.int(100, 1500) } } };
        break;
      case "reset":
        action = { kind: "fault", rule: { cluster, role: r.chance(0.5) ? "namenode" : "datanode", times: r.int(1, 6), action: { kind: "reset" } } };
        break;
      case "cut-body":
        action = { kind: "fault", rule: { cluster: "hdfs1", role: "datanode", op: "OPEN", times: r.int(1, 8), action: { kind: "cut-body", afterBytes: r.int(0, 200_000) } } };
        break;
      case "kill9":
      case "pause":
      case "takeover": {
        // One process event at a time: the previous restart/pause must be over.
        if (t - processEventAt < w.leaseTtlMs * 2 + 3000) continue;
        processEventAt = t;
        if (kind === "kill9") action = { kind, restartAfterMs: w.leaseTtlMs + r.int(300, 1500) };
        else if (kind === "pause") action = { kind, durationMs: r.int(300, Math.round(w.leaseTtlMs * 0.8)) };
        else action = { kind, pauseMs: w.leaseTtlMs + r.int(1000, 3000) };
        break;
      }
      case "tamper":
        action = {
          kind,
          what: r.weighted([
            [3, "delete-shared"],
            [2, "truncate-shared"],
            [1, "delete-exclusive"],
            [2, "delete-metadata"],
            [1, "truncate-metadata"],
          ] as const),
          pick: r.int(0, 1_000_000),
        };
        break;
    }
    out.push({ at: t, action });
  }
  return out;
}

export function describeWorld(w: World): string {
  const jobs = w.jobs
    .map(
      (j, i) =>
        `  job ${i} ${j.jobId}: every ${j.intervalMs} ms, ${Math.round(j.stateSizeBytes / 1024)} KiB new state, ${j.operators} op x p${j.parallelism}, ` +
        `Flink retains ${j.retained}, format v${j.formatVersion}, ${j.paths} paths${j.channelState ? ", channel state" : ""}${j.taskOwnedState ? ", file merging" : ""}`,
    )
    .join("\n");
  return (
    `${w.name}: ${w.durationMs} ms, retain ${w.retain.min}/${w.retain.max}, bandwidth ${w.bandwidth === 0 ? "unlimited" : `${w.bandwidth / MiB} MiB/s`}, ` +
    `concurrency ${w.concurrency}, scan every ${w.scanIntervalMs} ms (full rescan every ${w.fullRescanEvery}), lease ttl ${w.leaseTtlMs} ms, repair window ${w.repairWindowMs} ms\n${jobs}`
  );
}

export function describeAction(a: ChaosAction): string {
  switch (a.kind) {
    case "fault": {
      const { action, times, ...match } = a.rule;
      return `fault ${JSON.stringify(match)} x${String(times ?? 1)}: ${JSON.stringify(action)}`;
    }
    default:
      return `${a.kind} ${JSON.stringify(Object.fromEntries(Object.entries(a).filter(([k]) => k !== "kind")))}`;
  }
}
