// The metrics endpoint as Prometheus and an operator see it: ckpt_replicator_*
// counters fed by engine hooks, gauges read at scrape time from the engine status
// folded into the DR view (which keeps the newest restorable checkpoint and the
// verified restorable count while a side is unreachable, and across restarts via
// the replication records), and the /healthz, /readyz and /status endpoints.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { combineHooks, createMetrics } from "../../src/metrics/metrics.js";
import { startStatusServer } from "../../src/metrics/server.js";
import type { EngineStatus, JobStatus } from "../../src/replication/index.js";
import { newJobStatus } from "../../src/replication/status.js";
import { LocalStorage } from "../../src/storage/local.js";

const servers: Array<{ close(): Promise<void> }> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;

function jobA(over: Partial<JobStatus> = {}): JobStatus {
  return {
    ...newJobStatus("job-a", "/flink/cp/job-a", "/dr/cp/job-a"),
    newestSourceCheckpoint: 9,
    newestSourceCompletedAt: T0 + 90_000,
    newestPublishedCheckpoint: 7,
    newestPublishedCompletedAt: T0 + 70_000,
    lastPublishAt: T0 + 75_000,
    publishedOnTarget: 2,
    restorableCheckedAt: T0 + 80_000,
    reapHeld: "the source root looks unhealthy",
    lastError: "boom",
    current: { unit: "chk-9", filesTotal: 10, filesDone: 4, bytesTotal: 1000, bytesDone: 250 },
    // The backlog: chk-9 being copied plus a savepoint after it (more than the current checkpoint lacks).
    pending: { files: 9, bytes: 2750, checkpoints: ["chk-9", "savepoint-a1b2c3-0123456789ab"] },
    ...over,
  };
}

function status(over: Partial<EngineStatus> = {}): EngineStatus {
  return {
    jobs: [jobA()],
    lastScanAt: T0 + 100_000,
    lastScanOk: true,
    sourceRootsHealthy: false,
    targetRootsHealthy: true,
    copyQueue: 3,
    bytesInFlight: 4096,
    bandwidth: 1048576,
    ...over,
  };
}

async function serve(o: { status?: () => EngineStatus; ready?: () => { ok: boolean; reason: string }; bind?: boolean; metrics?: ReturnType<typeof createMetrics> } = {}) {
  const metrics = o.metrics ?? createMetrics({ defaultMetrics: false });
  const read = o.status ?? (() => status());
  if (o.bind !== false) metrics.bindStatus(read, () => true);
  const server = await startStatusServer({ listen: "127.0.0.1:0", registry: metrics.registry, status: read, ready: o.ready ?? (() => ({ ok: true, reason: "ok" })) });
  servers.push(server);
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${server.url}${path}`, init);
    return { status: res.status, type: res.headers.get("content-type"), headers: res.headers, body: await res.text() };
  };
  const lines = async () => (await get("/metrics")).body.split("\n");
  return { metrics, url: server.url, get, lines };
}

/** The value of one series in an exposition, or undefined when absent. */
function sample(lines: string[], series: string): number | undefined {
  const line = lines.find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics", () => {
  it("exposes the ckpt_replicator_* counters with job labels once the hooks fired", async () => {
    const { metrics, lines } = await serve();
    const h = metrics.hooks;
    h.onPublished?.({ job: "job-a", unit: "chk-7", checkpointId: 7, kind: "checkpoint", files: 4, filesCopied: 2, bytes: 100, bytesCopied: 60, lagMs: 2500, durationMs: 1500, targetDir: "/dr/cp/job-a/chk-7" });
    h.onFileCopied?.("job-a", 60);
    h.onFileCopied?.("job-a", 40);
    h.onBytes?.("", 123);
    h.onAbandoned?.("job-a", "chk-5", "subsumed", "gone");
    h.onAbandoned?.("job-a", "chk-6", "missing-file", "gone");
    h.onDeleted?.("job-a", "/dr/cp/job-a/chk-3", "subsumed on the source");
    h.onJobError?.("job-a", new Error("x"));
    h.onCorruptMetadata?.("job-a", "/p", "bad");
    h.onScan?.("source", 250, 7, true);
    const got = await lines();
    for (const line of [
      'ckpt_replicator_checkpoints_published_total{flink_job="job-a",kind="checkpoint"} 1',
      'ckpt_replicator_files_copied_total{flink_job="job-a"} 2',
      'ckpt_replicator_bytes_copied_total{flink_job="job-a"} 100',
      "ckpt_replicator_bytes_transferred_total 123",
      'ckpt_replicator_checkpoints_abandoned_total{flink_job="job-a",reason="subsumed"} 1',
      'ckpt_replicator_source_files_vanished_total{flink_job="job-a"} 2',
      'ckpt_replicator_target_deletes_total{flink_job="job-a"} 1',
      'ckpt_replicator_job_errors_total{flink_job="job-a"} 1',
      'ckpt_replicator_corrupt_metadata_total{flink_job="job-a"} 1',
      'ckpt_replicator_scan_list_requests_total{side="source"} 7',
      'ckpt_replicator_scan_duration_seconds_count{side="source"} 1',
      'ckpt_replicator_publish_lag_seconds_sum{flink_job="job-a"} 2.5',
      'ckpt_replicator_publish_duration_seconds_sum{flink_job="job-a"} 1.5',
    ]) {
      expect(got, line).toContain(line);
    }
    expect(got.filter((l) => /^ckpt_(?!replicator_)/.test(l))).toEqual([]);
  });

  it("reads the gauges from the bound status at every scrape", async () => {
    const { metrics, lines } = await serve();
    metrics.setRpo({ objective: 600_000, jobs: { "job-a": 120_000 } });
    const got = await lines();
    for (const line of [
      'ckpt_replicator_newest_source_checkpoint_id{flink_job="job-a"} 9',
      'ckpt_replicator_newest_source_checkpoint_completed_timestamp_seconds{flink_job="job-a"} 1700000090',
      'ckpt_replicator_newest_restorable_checkpoint_id{flink_job="job-a"} 7',
      'ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="job-a"} 1700000070',
      'ckpt_replicator_replication_lag_seconds{flink_job="job-a"} 20',
      'ckpt_replicator_rpo_objective_seconds{flink_job="job-a"} 120',
      'ckpt_replicator_restorable_checkpoints{flink_job="job-a"} 2',
      'ckpt_replicator_restorable_checkpoints_verified_timestamp_seconds{flink_job="job-a"} 1700000080',
      'ckpt_replicator_last_publish_timestamp_seconds{flink_job="job-a"} 1700000075',
      'ckpt_replicator_pending_files{flink_job="job-a"} 9',
      'ckpt_replicator_pending_bytes{flink_job="job-a"} 2750',
      'ckpt_replicator_job_failing{flink_job="job-a"} 1',
      'ckpt_replicator_reap_held{flink_job="job-a"} 1',
      "ckpt_replicator_copy_queue_files 3",
      "ckpt_replicator_bytes_in_flight 4096",
      "ckpt_replicator_bandwidth_limit_bytes_per_second 1048576",
      "ckpt_replicator_source_healthy 0",
      "ckpt_replicator_target_reachable 1",
      "ckpt_replicator_last_scan_timestamp_seconds 1700000100",
      "ckpt_replicator_lease_held 1",
    ]) {
      expect(got, line).toContain(line);
    }
    // RPO by the daemon's clock: the restorable checkpoint completed at T0+70s, years ago.
    expect(sample(got, 'ckpt_replicator_rpo_seconds{flink_job="job-a"}')).toBeGreaterThan((Date.now() - T0 - 70_000) / 1000 - 5);
  });

  it("keeps the newest restorable checkpoint, source checkpoint and verified count while the target or source is unreachable", async () => {
    let current = status();
    const { lines } = await serve({ status: () => current });
    const before = await lines();
    const restorableTs = 'ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="job-a"}';
    const count = 'ckpt_replicator_restorable_checkpoints{flink_job="job-a"}';
    expect(sample(before, restorableTs)).toBe(1700000070);
    expect(sample(before, count)).toBe(2);

    // The target cannot be listed: the engine's last sync saw nothing there and nothing on the source either.
    current = status({
      targetRootsHealthy: false,
      sourceRootsHealthy: false,
      jobs: [jobA({ publishedOnTarget: 0, newestSourceCheckpoint: null, newestSourceCompletedAt: null, lastError: "target unavailable: connection refused", current: null, pending: { files: 0, bytes: 0, checkpoints: [] } })],
    });
    const during = await lines();
    expect(sample(during, "ckpt_replicator_target_reachable")).toBe(0);
    expect(sample(during, restorableTs)).toBe(1700000070);
    expect(sample(during, count)).toBe(2);
    expect(sample(during, 'ckpt_replicator_newest_source_checkpoint_id{flink_job="job-a"}')).toBe(9);
    expect(sample(during, 'ckpt_replicator_pending_bytes{flink_job="job-a"}')).toBe(0);
    // The target answers again, before the job's next sync has listed it: the stale 0 still does not count.
    current = { ...current, targetRootsHealthy: true };
    expect(sample(await lines(), count)).toBe(2);

    // The next sync lists the target and sees one checkpoint left (the reaper removed one): now it counts.
    current = status({ jobs: [jobA({ publishedOnTarget: 1, restorableCheckedAt: T0 + 200_000, newestPublishedCheckpoint: 9, newestPublishedCompletedAt: T0 + 90_000, lastError: null })] });
    const after = await lines();
    expect(sample(after, count)).toBe(1);
    expect(sample(after, restorableTs)).toBe(1700000090);
    expect(sample(after, 'ckpt_replicator_replication_lag_seconds{flink_job="job-a"}')).toBe(0);
  });

  it("measures lag between NameNode times, so a daemon clock 5 minutes behind the NameNodes does not hide it", async () => {
    const ahead = Date.now() + 5 * 60_000; // the NameNodes' "now"
    const current = status({
      jobs: [jobA({ newestSourceCompletedAt: ahead - 2_000, newestPublishedCompletedAt: ahead - 14_000, behindSince: ahead - 12_000, lastError: null })],
    });
    const { lines } = await serve({ status: () => current });
    const got = await lines();
    expect(sample(got, 'ckpt_replicator_replication_lag_seconds{flink_job="job-a"}')).toBe(12);
    expect(sample(got, 'ckpt_replicator_rpo_seconds{flink_job="job-a"}')).toBe(0); // by the daemon's own clock; the alerts use Prometheus' time()
  });

  it("a published checkpoint moves the restorable timestamp at once, from the event's lag", async () => {
    const { metrics, lines } = await serve({ status: () => status({ jobs: [] }) });
    const before = Date.now();
    metrics.hooks.onPublished?.({ job: "job-b", unit: "chk-3", checkpointId: 3, kind: "checkpoint", files: 1, filesCopied: 1, bytes: 1, bytesCopied: 1, lagMs: 4000, targetDir: "/dr/cp/job-b/chk-3" });
    const got = await lines();
    const ts = sample(got, 'ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="job-b"}') ?? 0;
    expect(ts * 1000).toBeGreaterThanOrEqual(before - 4000 - 1);
    expect(ts * 1000).toBeLessThanOrEqual(Date.now() - 4000 + 1);
    expect(sample(got, 'ckpt_replicator_newest_restorable_checkpoint_id{flink_job="job-b"}')).toBe(3);
    expect(sample(got, 'ckpt_replicator_rpo_objective_seconds{flink_job="job-b"}')).toBe(900); // the default objective, 15m
  });

  it("after a restart, the newest restorable checkpoint comes from the replication records on the target", async () => {
    const root = await mkdtemp(join(tmpdir(), "records-"));
    dirs.push(root);
    const recordDir = join(root, ".ckpt-replicator", "records", "job-c");
    await mkdir(recordDir, { recursive: true });
    const record = (id: number, completedAt: string) =>
      JSON.stringify({
        format: 1, job: "job-c", unit: `chk-${id}`, kind: "checkpoint", checkpointId: id,
        source: { cluster: "hdfs1", dir: `/flink/job-c/chk-${id}`, metadataLength: 10, completedAt },
        target: { cluster: "hdfs2", dir: `${root}/job-c/chk-${id}` }, files: 3, bytes: 30, publishedAt: "2026-11-30T10:00:05.000Z",
      });
    await writeFile(join(recordDir, "chk-11.json"), record(11, "2026-11-30T09:59:00.000Z"));
    await writeFile(join(recordDir, "chk-12.json"), record(12, "2026-11-30T10:00:00.000Z"));
    await writeFile(join(recordDir, "chk-13.json"), "{ not json"); // unreadable: the next older record is used
    await writeFile(join(recordDir, ".chk-14.json.ckpt-tmp.abc"), record(14, "2026-11-30T10:01:00.000Z")); // a temporary: ignored
    const metrics = createMetrics({ defaultMetrics: false });
    await metrics.view.seedFromRecords(new LocalStorage("dr"), [root]);
    const { lines } = await serve({ metrics, status: () => status({ jobs: [], targetRootsHealthy: false }) });
    const got = await lines();
    expect(sample(got, 'ckpt_replicator_newest_restorable_checkpoint_id{flink_job="job-c"}')).toBe(12);
    expect(sample(got, 'ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="job-c"}')).toBe(Date.parse("2026-11-30T10:00:00.000Z") / 1000);
    expect(sample(got, 'ckpt_replicator_last_publish_timestamp_seconds{flink_job="job-c"}')).toBe(Date.parse("2026-11-30T10:00:05.000Z") / 1000);
    expect(sample(got, 'ckpt_replicator_restorable_checkpoints{flink_job="job-c"}')).toBe(3); // counted from records until a listing
  });

  it("counts NameNode failovers per cluster (from the client's switch events) and config reloads with their failures", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { lines } = await serve({ metrics });
    expect(await lines()).not.toContainEqual(expect.stringMatching(/^ckpt_replicator_namenode_failovers_total\{/));
    metrics.hooks.onNamenodeFailover?.("hdfs1", "http://nn1:9870", "http://nn2:9870");
    expect(await lines()).toContain('ckpt_replicator_namenode_failovers_total{cluster="hdfs1"} 1');
    metrics.hooks.onNamenodeFailover?.("hdfs1", "http://nn2:9870", "http://nn1:9870");
    metrics.configReloaded(true);
    metrics.configReloaded(false);
    const got = await lines();
    expect(got).toContain('ckpt_replicator_namenode_failovers_total{cluster="hdfs1"} 2');
    expect(got).not.toContainEqual(expect.stringMatching(/^ckpt_replicator_namenode_failovers_total\{cluster="hdfs2"\}/));
    expect(got).toContain("ckpt_replicator_config_reloads_total 2");
    expect(got).toContain("ckpt_replicator_config_reload_failures_total 1");
    expect(got).toContain("ckpt_replicator_config_last_reload_successful 0");
  });

  it("the RPO goes by the newest restore point: a newer savepoint counts, and once it is reaped the checkpoint again", async () => {
    let current = status({ jobs: [jobA({ lastError: null, newestRestorePoint: { unit: "chk-7", kind: "checkpoint", checkpointId: 7, completedAt: T0 + 70_000 } })] });
    const metrics = createMetrics({ defaultMetrics: false });
    const { lines } = await serve({ metrics, status: () => current });
    const point = 'ckpt_replicator_newest_restore_point_completed_timestamp_seconds{flink_job="job-a"}';
    const isSavepoint = 'ckpt_replicator_newest_restore_point_is_savepoint{flink_job="job-a"}';
    const chk = 'ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="job-a"}';
    expect(sample(await lines(), point)).toBe(1700000070);
    // A savepoint completed at T0+85s is published: it is the restore point now; the checkpoint figure stays.
    metrics.hooks.onPublished?.({ job: "job-a", unit: "savepoint-a1-0001", checkpointId: Number.NaN, kind: "savepoint", files: 2, filesCopied: 2, bytes: 9, bytesCopied: 9, lagMs: 5000, completedAt: T0 + 85_000, targetDir: "/dr/cp/job-a/savepoint-a1-0001" });
    let got = await lines();
    expect(sample(got, point)).toBe(1700000085);
    expect(sample(got, isSavepoint)).toBe(1);
    expect(sample(got, chk)).toBe(1700000070);
    const rpo = sample(got, 'ckpt_replicator_rpo_seconds{flink_job="job-a"}')!;
    expect(rpo).toBeLessThan((Date.now() - T0 - 70_000) / 1000 - 10); // measured from the savepoint, 15 s younger
    // A later listing shows the savepoint gone (reaped with its source): back to the checkpoint.
    current = status({ jobs: [jobA({ lastError: null, restorableCheckedAt: T0 + 300_000, newestRestorePoint: { unit: "chk-7", kind: "checkpoint", checkpointId: 7, completedAt: T0 + 70_000 } })] });
    got = await lines();
    expect(sample(got, point)).toBe(1700000070);
    expect(sample(got, isSavepoint)).toBe(0);
  });

  it("serves before a status is bound, without job gauges", async () => {
    const { get } = await serve({ bind: false });
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.body).toContain("# TYPE ckpt_replicator_checkpoints_published_total counter");
    expect(res.body).not.toMatch(/^ckpt_replicator_newest_restorable_checkpoint_id\{/m);
    expect(res.body.split("\n")).toContain("ckpt_replicator_lease_held 0");
  });

  it("reports build_info, and prom-client's process metrics under their standard names", async () => {
    const metrics = createMetrics();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(text).not.toMatch(/^ckpt_process_/m);
    const version = (JSON.parse(await import("node:fs/promises").then((fs) => fs.readFile("package.json", "utf8"))) as { version: string }).version;
    expect(text).toMatch(new RegExp(`^ckpt_replicator_build_info\\{version="${version.replace(/\./g, "\\.")}",node_version="${process.version}",revision="[^"]*"\\} 1$`, "m"));
  });
});

describe("/healthz, /readyz, /status", () => {
  it("/healthz answers 200 while the process runs", async () => {
    const { get } = await serve();
    expect(await get("/healthz")).toMatchObject({ status: 200, body: "ok\n" });
  });

  it("/readyz answers 503 with the reason until ready, then 200", async () => {
    let ready = { ok: false, reason: "no scan finished yet" };
    const { get } = await serve({ ready: () => ready });
    expect(await get("/readyz")).toMatchObject({ status: 503, body: "no scan finished yet\n" });
    ready = { ok: true, reason: "ok" };
    expect(await get("/readyz")).toMatchObject({ status: 200, body: "ok\n" });
  });

  it("/status answers every job's DR state as JSON, times as ISO-8601 and seconds", async () => {
    const { get } = await serve();
    const res = await get("/status");
    expect(res.status).toBe(200);
    expect(res.type).toBe("application/json");
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      source: { healthy: false },
      target: { reachable: true },
      lastScanAt: { iso: "2023-11-14T22:15:00.000Z", seconds: 1700000100 },
      copyQueueFiles: 3,
      jobs: [
        {
          job: "job-a",
          newestSourceCheckpoint: { id: 9, completedAt: { iso: "2023-11-14T22:14:50.000Z", seconds: 1700000090 } },
          newestRestorableCheckpoint: { id: 7, uri: "/dr/cp/job-a/chk-7", completedAt: { iso: "2023-11-14T22:14:30.000Z", seconds: 1700000070 } },
          lagSeconds: 20,
          restorableCheckpoints: 2,
          pending: { files: 9, bytes: 2750, checkpoints: ["chk-9", "savepoint-a1b2c3-0123456789ab"], copying: "chk-9" },
          lastError: "boom",
          rpoObjectiveSeconds: 900,
          rpoMet: false,
          restoreCommand: "flink run --fromSavepoint /dr/cp/job-a/chk-7 --restoreMode no_claim <your-job.jar>",
        },
      ],
    });
  });

  it("answers 404 for unknown paths and 405 for writes", async () => {
    const { get } = await serve();
    expect((await get("/nope")).status).toBe(404);
    expect((await get("/metrics", { method: "POST" })).status).toBe(405);
  });
});

describe("combineHooks", () => {
  it("calls every set's hook in order", () => {
    const calls: string[] = [];
    const hooks = combineHooks({ onDeleted: (j) => calls.push(`a:${j}`) }, { onDeleted: (j) => calls.push(`b:${j}`), onJobError: () => calls.push("err") });
    hooks.onDeleted?.("x", "/p", "r");
    hooks.onJobError?.("y", null);
    expect(calls).toEqual(["a:x", "b:x", "err"]);
  });
});
