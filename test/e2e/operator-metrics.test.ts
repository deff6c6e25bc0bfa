// Issue #9, what an operator reads on the metrics port of a daemon replicating
// the sandbox: the pending files and bytes are the job's whole backlog (every
// checkpoint and savepoint it selected to publish, not only the one being
// copied), shrink as copies land and read 0 once caught up; NameNode failovers
// are counted per cluster when the daemon's WebHDFS client switches NameNodes,
// triggered here with the emulator's failover admin API; a savepoint newer than
// the newest checkpoint is the restore point the RPO, /status, the restore
// command and `latest` go by.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Daemon } from "../../src/daemon/daemon.js";
import type { StatusReport } from "../../src/metrics/report.js";
import { silentLogger } from "../../src/util/log.js";
import { writeSavepoint } from "../helpers/replication.js";
import { waitFor } from "../helpers/child.js";
import { runCli } from "../helpers/cli-run.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
const daemons: Daemon[] = [];
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  await pair.close();
});

async function startDaemon(extra: string): Promise<Daemon> {
  const config = await pair.config(`metrics: {listen: "127.0.0.1:0"}\n${extra}`);
  const daemon = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 3000 });
  daemons.push(daemon);
  await daemon.start();
  return daemon;
}

const until = (what: string, cond: () => boolean | Promise<boolean>) => waitFor(cond, 30_000, what);

const scrape = async (d: Daemon) => (await (await fetch(`${d.metricsUrl}/metrics`)).text()).split("\n");
const statusOf = async (d: Daemon) => (await (await fetch(`${d.metricsUrl}/status`)).json()) as StatusReport;
function sample(lines: string[], series: string): number | undefined {
  const line = lines.find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the daemon's metrics port, against the sandbox", () => {
  it("pending files and bytes cover every checkpoint and savepoint selected to publish, shrink with each copy and read 0 when caught up", async () => {
    const sim = pair.simulator({ stateSizeBytes: 256 * 1024, retained: 1, seed: 21 });
    await sim.checkpointOnce();
    const source = pair.storage("hdfs1");
    const savepoints = ["savepoint-aa0001-0123456789ab", "savepoint-aa0002-0123456789ab"];
    for (const [i, name] of savepoints.entries()) {
      await writeSavepoint(source, `${SOURCE_ROOT}/${sim.jobId}/${name}`, { [`k${i}-keyed`]: 300_000, [`o${i}-operator`]: 1_000 });
    }
    // 256 KiB/s: the three units take a few seconds to copy, one after the other.
    const daemon = await startDaemon("copy: {bandwidth: 256KiB, concurrency: 2}");

    const seen: Array<{ files: number; bytes: number; checkpoints: string[]; filesCopied: number; bytesCopied: number; copying: string | null }> = [];
    await until("all three units are restorable and nothing is pending", async () => {
      const job = (await statusOf(daemon)).jobs.find((j) => j.job === sim.jobId);
      if (!job?.totals) return false;
      seen.push({ ...job.pending, filesCopied: job.totals.filesCopied, bytesCopied: job.totals.bytesCopied });
      return job.restorableCheckpoints === 3 && job.pending.checkpoints.length === 0;
    });
    const last = seen[seen.length - 1]!;
    const during = seen.filter((s) => s.checkpoints.length > 0);
    expect(during.length, "samples taken while copying").toBeGreaterThan(3);
    // Several checkpoints were pending at once, while only one was being copied.
    const all = during.find((s) => s.checkpoints.length === 3);
    expect(all, JSON.stringify(during.slice(0, 3))).toBeDefined();
    expect(all!.checkpoints.sort()).toEqual([`chk-1`, ...savepoints].sort());
    // Pending is exactly what was still to be copied: pending + copied so far = everything copied in the end.
    for (const s of during) {
      expect(s.bytes + s.bytesCopied, JSON.stringify(s)).toBe(last.bytesCopied);
      expect(s.files + s.filesCopied, JSON.stringify(s)).toBe(last.filesCopied);
    }
    expect(Math.max(...during.map((s) => s.bytes))).toBeGreaterThan(600_000); // both savepoints' state counted
    // It shrank as copies landed, never grew, and is 0 now.
    for (let i = 1; i < during.length; i++) expect(during[i]!.bytes).toBeLessThanOrEqual(during[i - 1]!.bytes);
    expect(last).toMatchObject({ files: 0, bytes: 0, checkpoints: [], copying: null });
    const metrics = await scrape(daemon);
    expect(sample(metrics, `ckpt_replicator_pending_files{flink_job="${sim.jobId}"}`)).toBe(0);
    expect(sample(metrics, `ckpt_replicator_pending_bytes{flink_job="${sim.jobId}"}`)).toBe(0);
    expect(sample(metrics, `ckpt_replicator_bytes_copied_total{flink_job="${sim.jobId}"}`)).toBe(last.bytesCopied);
  });

  it("counts each cluster's NameNode failovers when the daemon's client switches NameNodes", async () => {
    const sim = pair.simulator({ retained: 1, seed: 22 });
    await sim.checkpointOnce();
    const daemon = await startDaemon("");
    await until("chk-1 is restorable", async () => (await statusOf(daemon)).jobs.some((j) => j.newestRestorableCheckpoint?.id === 1));
    const failovers = (cluster: string) => async () => sample(await scrape(daemon), `ckpt_replicator_namenode_failovers_total{cluster="${cluster}"}`);
    expect(await failovers("hdfs1")()).toBeUndefined(); // the first configured NameNodes are active: no switch yet
    expect(await failovers("hdfs2")()).toBeUndefined();

    pair.sandbox.failover("hdfs1");
    await until("the switch on hdfs1 is counted", async () => ((await failovers("hdfs1")()) ?? 0) >= 1);
    expect(await failovers("hdfs2")()).toBeUndefined();

    pair.sandbox.failover("hdfs2");
    await until("the switch on hdfs2 is counted", async () => ((await failovers("hdfs2")()) ?? 0) >= 1);
    // And back again on hdfs1: a second switch, counted as such.
    const before = (await failovers("hdfs1")())!;
    pair.sandbox.failover("hdfs1");
    await until("the second switch on hdfs1 is counted", async () => ((await failovers("hdfs1")()) ?? 0) > before);
    // Replication goes on across the switches.
    await sim.checkpointOnce();
    await until("chk-2 is restorable", async () => (await statusOf(daemon)).jobs.some((j) => j.newestRestorableCheckpoint?.id === 2));
  });
});

describe("RPO with savepoints", () => {
  it("a savepoint newer than the newest checkpoint is the restore point: RPO, /status, the restore command and latest use it", async () => {
    const sim = pair.simulator({ retained: 1, seed: 23 });
    await sim.checkpointOnce();
    await new Promise((r) => setTimeout(r, 1100)); // the savepoint completes clearly later than chk-1
    const savepoint = "savepoint-bb0001-0123456789ab";
    await writeSavepoint(pair.storage("hdfs1"), `${SOURCE_ROOT}/${sim.jobId}/${savepoint}`, { "k-keyed": 20_000, "o-operator": 100 });
    const daemon = await startDaemon("");
    await until("chk-1 and the savepoint are restorable", async () => (await statusOf(daemon)).jobs.some((j) => j.job === sim.jobId && j.restorableCheckpoints === 2));
    const job = (await statusOf(daemon)).jobs.find((j) => j.job === sim.jobId)!;
    expect(job.newestRestorableCheckpoint?.id).toBe(1);
    expect(job.newestRestorePoint).toMatchObject({ unit: savepoint, kind: "savepoint", uri: `hdfs://hdfs2${TARGET_ROOT}/${sim.jobId}/${savepoint}` });
    expect(job.newestRestorePoint!.completedAt.seconds).toBeGreaterThan(job.newestRestorableCheckpoint!.completedAt.seconds + 1);
    expect(job.rpoSeconds!).toBeLessThan(job.checkpointRpoSeconds! - 1);
    expect(job.restoreCommand).toBe(`flink run --fromSavepoint hdfs://hdfs2${TARGET_ROOT}/${sim.jobId}/${savepoint} --restoreMode no_claim <your-job.jar>`);
    const m = await scrape(daemon);
    const point = sample(m, `ckpt_replicator_newest_restore_point_completed_timestamp_seconds{flink_job="${sim.jobId}"}`)!;
    const chk = sample(m, `ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="${sim.jobId}"}`)!;
    expect(point).toBe(job.newestRestorePoint!.completedAt.seconds);
    expect(chk).toBe(job.newestRestorableCheckpoint!.completedAt.seconds);
    expect(sample(m, `ckpt_replicator_newest_restore_point_is_savepoint{flink_job="${sim.jobId}"}`)).toBe(1);
    expect(sample(m, `ckpt_replicator_rpo_seconds{flink_job="${sim.jobId}"}`)!).toBeLessThan(Date.now() / 1000 - chk - 1);

    const configFile = await pair.configFile("latest");
    const latest = await runCli(["latest", "--config", configFile, "--job", sim.jobId]);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toBe(`hdfs://hdfs2${TARGET_ROOT}/${sim.jobId}/${savepoint}\n`);
    const only = await runCli(["latest", "--config", configFile, "--job", sim.jobId, "--checkpoints-only"]);
    expect(only.stdout).toBe(`hdfs://hdfs2${TARGET_ROOT}/${sim.jobId}/chk-1\n`);
  });
});
