// The Grafana dashboard (deploy/grafana/ckpt-replicator.json) against the product:
// it is valid dashboard JSON whose every query, including the template variables,
// reads only metrics the daemon's registry exports (besides Prometheus' `up`),
// with label matchers on labels those metrics carry, and it has the panels an
// operator needs first (RPO vs objective, lag, pending bytes, throughput, errors,
// restorable checkpoints). test/e2e/prometheus-alerts.test.ts also runs every query
// against a live Prometheus.

import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics/metrics.js";
import { promqlMetricNames, readProjectFile } from "./deploy-parsers.js";
import { dashboard, dashboardQueries } from "./manifests.js";

async function exported(): Promise<Map<string, Set<string>>> {
  const metrics = createMetrics();
  // Fire every hook once so that labelled series exist and their labels can be read.
  const h = metrics.hooks;
  h.onPublished?.({ job: "j", unit: "chk-1", checkpointId: 1, kind: "checkpoint", files: 1, filesCopied: 1, bytes: 1, bytesCopied: 1, lagMs: 1, durationMs: 1, targetDir: "/t/j/chk-1" });
  h.onFileCopied?.("j", 1);
  h.onBytes?.("j", 1);
  h.onAbandoned?.("j", "chk-1", "subsumed", "x");
  h.onUnpublishable?.("j", "chk-1", []);
  h.onCorruptMetadata?.("j", "/p", "x");
  h.onDeleted?.("j", "/p", "x");
  h.onJobError?.("j", null);
  h.onScan?.("source", 1, 1, true);
  h.onNamenodeFailover?.("c", "http://a", "http://b");
  metrics.configReloaded(false);
  metrics.bindStatus(
    () => ({
      jobs: [
        {
          job: "j", sourceDir: "/s/j", targetDir: "/t/j", phase: "idle", newestSourceCheckpoint: 1, newestSourceCompletedAt: 1, newestPublishedCheckpoint: 1,
          newestPublishedCompletedAt: 1, lastPublishAt: 1, newestRestorePoint: { unit: "chk-1", kind: "checkpoint", checkpointId: 1, completedAt: 1 }, publishedOnTarget: 1, restorableCheckedAt: 1, lagSeconds: 0, behindSince: null, current: null, pending: { files: 0, bytes: 0, checkpoints: [] },
          lastError: null, lastErrorAt: null, reapHeld: null, newRunDetectedAt: null,
          totals: { published: 0, filesCopied: 0, bytesCopied: 0, filesSkipped: 0, abandonedSubsumed: 0, abandonedMissing: 0, unpublishable: 0, corruptMetadata: 0, deleted: 0, unpublishedBroken: 0, errors: 0 },
        },
      ],
      lastScanAt: 1, lastScanOk: true, sourceRootsHealthy: true, targetRootsHealthy: true, copyQueue: 0, bytesInFlight: 0, bandwidth: 0,
    }),
    () => true,
  );
  const out = new Map<string, Set<string>>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const labels = new Set<string>(["instance", "job"]); // added by the scrape
    for (const v of m.values) for (const k of Object.keys(v.labels)) labels.add(k);
    if (String(m.type) === "histogram") labels.add("le");
    out.set(m.name, labels);
  }
  return out;
}

describe("deploy/grafana/ckpt-replicator.json", () => {
  it("is a dashboard with a stable uid, a Prometheus data-source variable and unique panel ids on the grid", () => {
    const d = dashboard();
    expect(d.uid).toBe("ckpt-replicator");
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.templating.list.map((v) => v.name)).toEqual(["datasource", "instance", "flink_job"]);
    expect(d.templating.list[0]).toMatchObject({ type: "datasource", query: "prometheus" });
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.w + p.gridPos.x, `${p.title} fits the 24-column grid`).toBeLessThanOrEqual(24);
      if (p.type !== "row") expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
    }
    expect(JSON.stringify(d)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|ckpt-replicator")[^"]*"/); // no data source uid of someone's Grafana
  });

  it("every query reads only metrics the registry exports, with labels they carry", async () => {
    const known = await exported();
    const queries = dashboardQueries(dashboard());
    expect(queries.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const q of queries) {
      const names = promqlMetricNames(q);
      if (names.length === 0) problems.push(`no metric in: ${q}`);
      for (const name of names) {
        if (name === "up") continue;
        const base = known.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
        const labels = known.get(base);
        if (!labels) {
          problems.push(`${name} is not exported (in: ${q})`);
          continue;
        }
        for (const sel of q.matchAll(new RegExp(`${name}\\{([^}]*)\\}`, "g"))) {
          for (const m of (sel[1] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
            if (!labels.has(m[1] ?? "")) problems.push(`${name} has no label ${m[1]} (in: ${q})`);
          }
        }
        for (const by of q.matchAll(/\bby\s*\(([^)]*)\)/g)) {
          for (const label of (by[1] ?? "").split(",").map((l) => l.trim())) {
            if (label !== "" && !labels.has(label)) problems.push(`${name} has no label ${label} to aggregate by (in: ${q})`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("has the operator's panels: RPO vs objective, lag, pending bytes, throughput, errors, restorable checkpoints", () => {
    const all = dashboardQueries(dashboard()).join("\n");
    for (const metric of [
      "time() - ckpt_replicator_newest_restore_point_completed_timestamp_seconds",
      "ckpt_replicator_rpo_objective_seconds",
      "ckpt_replicator_replication_lag_seconds",
      "ckpt_replicator_pending_bytes",
      "rate(ckpt_replicator_bytes_copied_total",
      "increase(ckpt_replicator_job_errors_total",
      "ckpt_replicator_restorable_checkpoints",
      "ckpt_replicator_target_reachable",
    ]) {
      expect(all, metric).toContain(metric);
    }
    expect(readProjectFile("README.md")).toContain("deploy/grafana/ckpt-replicator.json");
  });
});
