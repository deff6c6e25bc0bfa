// One event stream, three reports: a checkpoint the engine publishes is one
// `published` event, and the job's status (what /status shows), its log line
// and the metrics all come from that event: none counts it on its own. A side's
// scans and its NameNode switches are events on the same stream.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { buildReport } from "../../src/metrics/report.js";
import { applyToStatus, EventStream, logEvent, toHooks, type EngineEvent, type JobEvent } from "../../src/replication/events.js";
import { Engine } from "../../src/replication/index.js";
import { newJobStatus } from "../../src/replication/status.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";
import { createEngine } from "../../src/daemon/runtime.js";
import { webhdfsSettings } from "../../src/storage/webhdfs-backend.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair } from "../helpers/sandbox-pair.js";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

async function counter(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return m.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engine-events-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("one event stream for status, logs and metrics", () => {
  it("one published event shows in the job status, one log line and the metrics, fed to the three subscribers", async () => {
    const status = newJobStatus("job-a", "/src/job-a", "/dr/job-a");
    const { logger, lines } = capturingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const stream = new EventStream<JobEvent>();
    stream.subscribe((e) => applyToStatus(status, e, 1_700_000_000_000));
    stream.subscribe((e) => logEvent(logger.child({ job: "job-a" }), e));
    stream.subscribe(toHooks(metrics.hooks));
    stream.publish({
      type: "published", job: "job-a", unit: "chk-7", checkpointId: 7, kind: "checkpoint", files: 3, filesCopied: 2,
      bytes: 300, bytesCopied: 200, lagMs: 1500, durationMs: 900, completedAt: 1_699_999_998_500, targetDir: "/dr/job-a/chk-7",
    });
    expect(status.totals.published).toBe(1);
    expect(status.lastPublishAt).toBe(1_700_000_000_000);
    expect(lines).toEqual([expect.objectContaining({ job: "job-a", checkpoint: "chk-7", files: 3, lagMs: 1500, msg: "checkpoint published on the target" })]);
    expect(await counter(metrics, "ckpt_replicator_checkpoints_published_total", { flink_job: "job-a", kind: "checkpoint" })).toBe(1);
    expect(metrics.view.list()[0]).toMatchObject({ job: "job-a", restorable: { checkpointId: 7 } });
  });

  it("the engine publishes a replicated checkpoint once on its stream; /status, the log and the metrics all show it", async () => {
    const storage = new LocalStorage("local");
    const sim = new FlinkJobSimulator({ storage, fsUri: "file:", root: `${dir}/src`, intervalMs: 0, stateSizeBytes: 16 * 1024, retained: 1, seed: 3 });
    await sim.checkpointOnce();
    const config = await parseConfigText(
      `source: {}\ntarget: {}\npaths: [{source: "file://${dir}/src", target: "file://${dir}/dr"}]\nmetrics: false\n`,
      "t.yaml",
      {},
    );
    const { logger, lines } = capturingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const engine = new Engine({ config, source: storage, target: new LocalStorage("dr"), logger, useLease: false, hooks: metrics.hooks });
    const events: EngineEvent[] = [];
    engine.events.subscribe((e) => events.push(e));
    await engine.cycle({ wait: true });
    await engine.cycle({ wait: true }); // nothing new: no second event, no second count anywhere

    const published = events.filter((e) => e.type === "published");
    expect(published).toEqual([expect.objectContaining({ job: sim.jobId, unit: "chk-1", checkpointId: 1 })]);
    const job = engine.status().jobs.find((j) => j.job === sim.jobId);
    expect(job?.totals.published).toBe(1);
    const report = buildReport({ status: engine.status(), view: metrics.view });
    expect(report.jobs.find((j) => j.job === sim.jobId)?.newestRestorableCheckpoint?.id).toBe(1);
    expect(lines.filter((l) => l.msg === "checkpoint published on the target")).toEqual([expect.objectContaining({ job: sim.jobId, checkpoint: "chk-1" })]);
    expect(await counter(metrics, "ckpt_replicator_checkpoints_published_total", { flink_job: sim.jobId })).toBe(1);
    // Each cycle's scan of each side is one event, and the scan metrics count exactly those.
    const scans = events.filter((e) => e.type === "scan");
    expect(scans.map((e) => e.side)).toEqual(["source", "target", "source", "target"]);
    expect(scans.every((e) => e.healthy)).toBe(true);
    const scanned = (await metrics.registry.getSingleMetric("ckpt_replicator_scan_duration_seconds")?.get())?.values ?? [];
    expect(scanned.filter((v) => (v as { metricName?: string }).metricName?.endsWith("_count")).map((v) => [v.labels.side, v.value])).toEqual([["source", 2], ["target", 2]]);
    await engine.stop();
  });

  it("a NameNode switch of a side is one failover event on the engine's stream, counted once by the metrics", async () => {
    const pair = await startSandboxPair();
    try {
      const sim = pair.simulator({ intervalMs: 0, stateSizeBytes: 16 * 1024 });
      await sim.checkpointOnce();
      const config = await pair.config();
      const metrics = createMetrics({ defaultMetrics: false });
      const engine = createEngine(config, silentLogger, metrics.hooks, false);
      const events: EngineEvent[] = [];
      engine.events.subscribe((e) => events.push(e));
      await engine.cycle({ wait: true });
      expect(events.filter((e) => e.type === "failover")).toEqual([]);
      // hdfs1's active NameNode becomes standby and the other one active: the next request fails over.
      const admin = pair.sandbox.endpoints.admin;
      const res = await fetch(`${admin}/clusters/hdfs1/failover`, { method: "POST" });
      expect(res.ok).toBe(true);
      await engine.cycle({ wait: true });
      const failovers = events.filter((e) => e.type === "failover");
      const [nn1, nn2] = webhdfsSettings(config.source).namenodes;
      expect(failovers).toEqual([{ type: "failover", cluster: "hdfs1", from: nn1, to: nn2 }]);
      expect(await counter(metrics, "ckpt_replicator_namenode_failovers_total", { cluster: "hdfs1" })).toBe(1);
      expect(await counter(metrics, "ckpt_replicator_namenode_failovers_total", { cluster: "hdfs2" })).toBe(0);
      expect(engine.status().jobs.find((j) => j.job === sim.jobId)?.newestPublishedCheckpoint).toBe(1);
      await engine.stop();
    } finally {
      await pair.close();
    }
  });
});
