// One event stream, three reports: a checkpoint the engine publishes is one
// `published` event, and the job's status (what /status shows), its log line
// and the metrics all come from that event: none counts it on its own.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { buildReport } from "../../src/metrics/report.js";
import { applyToStatus, EventStream, logEvent, toHooks, type JobEvent } from "../../src/replication/events.js";
import { Engine } from "../../src/replication/index.js";
import { newJobStatus } from "../../src/replication/status.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";

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
    const events: JobEvent[] = [];
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
    await engine.stop();
  });
});
