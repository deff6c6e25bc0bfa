// The metrics endpoint as Prometheus and an operator see it: counters fed by
// engine hooks, gauges read from the engine status at scrape time, and the
// /healthz, /readyz and /status endpoints.

import { afterEach, describe, expect, it } from "vitest";
import { combineHooks, createMetrics } from "../../src/metrics/metrics.js";
import { startStatusServer } from "../../src/metrics/server.js";
import type { EngineStatus } from "../../src/replication/index.js";
import { newJobStatus } from "../../src/replication/status.js";

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function status(over: Partial<EngineStatus> = {}): EngineStatus {
  const job = {
    ...newJobStatus("job-a", "/flink/cp/job-a", "/dr/cp/job-a"),
    newestSourceCheckpoint: 9,
    newestPublishedCheckpoint: 7,
    lastPublishAt: 1_700_000_000_000,
    publishedOnTarget: 2,
    lagSeconds: 12.5,
    reapHeld: "the source root looks unhealthy",
    lastError: "boom",
  };
  return { jobs: [job], lastScanAt: 1_700_000_100_000, lastScanOk: true, sourceRootsHealthy: false, copyQueue: 3, bytesInFlight: 4096, bandwidth: 1048576, ...over };
}

async function serve(o: { status?: () => EngineStatus; ready?: () => { ok: boolean; reason: string }; bind?: boolean } = {}) {
  const metrics = createMetrics({ defaultMetrics: false });
  const read = o.status ?? (() => status());
  if (o.bind !== false) metrics.bindStatus(read, () => true);
  const server = await startStatusServer({ listen: "127.0.0.1:0", registry: metrics.registry, status: read, ready: o.ready ?? (() => ({ ok: true, reason: "ok" })) });
  servers.push(server);
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${server.url}${path}`, init);
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  };
  return { metrics, url: server.url, get };
}

describe("/metrics", () => {
  it("exposes the ckpt_* counters with job labels once the hooks fired", async () => {
    const { metrics, get } = await serve();
    const h = metrics.hooks;
    h.onPublished?.({ job: "job-a", unit: "chk-7", checkpointId: 7, kind: "checkpoint", files: 4, filesCopied: 2, bytes: 100, bytesCopied: 60, lagMs: 2500, targetDir: "/dr/cp/job-a/chk-7" });
    h.onFileCopied?.("job-a", 60);
    h.onFileCopied?.("job-a", 40);
    h.onBytes?.("", 123);
    h.onAbandoned?.("job-a", "chk-5", "subsumed", "gone");
    h.onDeleted?.("job-a", "/dr/cp/job-a/chk-3", "subsumed on the source");
    h.onJobError?.("job-a", new Error("x"));
    h.onCorruptMetadata?.("job-a", "/p", "bad");
    h.onScan?.("source", 250, 7, true);
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    for (const line of [
      'ckpt_checkpoints_published_total{flink_job="job-a",kind="checkpoint"} 1',
      'ckpt_files_copied_total{flink_job="job-a"} 2',
      'ckpt_bytes_copied_total{flink_job="job-a"} 100',
      "ckpt_bytes_transferred_total 123",
      'ckpt_checkpoints_abandoned_total{flink_job="job-a",reason="subsumed"} 1',
      'ckpt_target_deletes_total{flink_job="job-a"} 1',
      'ckpt_job_errors_total{flink_job="job-a"} 1',
      'ckpt_corrupt_metadata_total{flink_job="job-a"} 1',
      'ckpt_scan_list_requests_total{side="source"} 7',
      'ckpt_scan_duration_seconds_count{side="source"} 1',
      'ckpt_publish_lag_seconds_sum{flink_job="job-a"} 2.5',
    ]) {
      expect(res.body.split("\n"), line).toContain(line);
    }
  });

  it("reads the gauges from the bound status at every scrape", async () => {
    let current = status();
    const { get } = await serve({ status: () => current });
    let lines = (await get("/metrics")).body.split("\n");
    for (const line of [
      'ckpt_newest_source_checkpoint_id{flink_job="job-a"} 9',
      'ckpt_newest_published_checkpoint_id{flink_job="job-a"} 7',
      'ckpt_replication_lag_seconds{flink_job="job-a"} 12.5',
      'ckpt_restorable_checkpoints{flink_job="job-a"} 2',
      'ckpt_last_publish_timestamp_seconds{flink_job="job-a"} 1700000000',
      'ckpt_job_failing{flink_job="job-a"} 1',
      'ckpt_reap_held{flink_job="job-a"} 1',
      "ckpt_copy_queue_files 3",
      "ckpt_bytes_in_flight 4096",
      "ckpt_bandwidth_limit_bytes_per_second 1048576",
      "ckpt_source_healthy 0",
      "ckpt_last_scan_timestamp_seconds 1700000100",
      "ckpt_lease_held 1",
    ]) {
      expect(lines, line).toContain(line);
    }
    current = status({ jobs: [{ ...newJobStatus("job-b", "/s/job-b", "/t/job-b"), newestPublishedCheckpoint: 3 }], sourceRootsHealthy: true });
    lines = (await get("/metrics")).body.split("\n");
    expect(lines).toContain('ckpt_newest_published_checkpoint_id{flink_job="job-b"} 3');
    expect(lines).toContain('ckpt_job_failing{flink_job="job-b"} 0');
    expect(lines).toContain("ckpt_source_healthy 1");
    expect(lines.some((l) => l.includes('job="job-a"') && l.startsWith("ckpt_newest"))).toBe(false); // a job that went away is not reported stale
  });

  it("serves before a status is bound, without job gauges", async () => {
    const { get } = await serve({ bind: false });
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.body).toContain("# TYPE ckpt_checkpoints_published_total counter");
    expect(res.body).not.toMatch(/^ckpt_newest_published_checkpoint_id\{/m);
    expect(res.body.split("\n")).toContain("ckpt_lease_held 0");
  });

  it("includes process metrics with the ckpt_ prefix by default", async () => {
    const metrics = createMetrics();
    expect(await metrics.registry.metrics()).toMatch(/^ckpt_process_cpu_seconds_total /m);
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

  it("/status answers the engine status as JSON", async () => {
    const { get } = await serve();
    const res = await get("/status");
    expect(res.status).toBe(200);
    expect(res.type).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual(status());
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
