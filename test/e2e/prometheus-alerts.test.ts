// End to end with a real Prometheus (Debian's package, started here on loopback with
// a generated config and a 1 s scrape and evaluation interval). It scrapes a running
// daemon that replicates a simulated Flink job from hdfs1 to hdfs2 in the sandbox.
// The test cuts hdfs2 off through the sandbox admin API: the RPO alert of
// deploy/prometheus/alerts.yaml (same expression, shorter `for:`) goes pending, then
// firing, while the restorable count stays at its verified value, so "no restorable
// checkpoint" never fires. After recovery the alert resolves. Every query of the
// Grafana dashboard is also run against this Prometheus.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { Daemon } from "../../src/daemon/daemon.js";
import { silentLogger } from "../../src/util/log.js";
import { alerts, dashboard, dashboardQueries, type AlertRule } from "../deploy/manifests.js";
import { startSandboxPair } from "../helpers/sandbox-pair.js";
import { requireTool } from "../helpers/tools.js";

interface PromAlert {
  labels: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
  value: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The rule as deploy/prometheus/alerts.yaml has it, with a shorter for: so the test stays short. */
function ruleWithFor(name: string, forDuration: string): AlertRule {
  const rule = alerts().find((a) => a.alert === name);
  if (!rule) throw new Error(`${name} is not in deploy/prometheus/alerts.yaml`);
  return { ...rule, for: forDuration };
}

describe("live Prometheus against a running daemon", () => {
  it("the RPO alert goes pending then firing while hdfs2 is cut off, and resolves after recovery", async (ctx) => {
    const prometheusBin = requireTool(ctx, "prometheus", "live-Prometheus end-to-end test");
    const pair = await startSandboxPair();
    const work = await mkdtemp(join(tmpdir(), "prom-e2e-"));
    const abort = new AbortController();
    let daemon: Daemon | null = null;
    let prom: ChildProcess | null = null;
    let promLog = "";
    let simRun: Promise<void> | null = null;
    const admin = pair.sandbox.endpoints.admin.replace(/\/$/, "");
    try {
      const jobId = "7".repeat(32);
      const sim = pair.simulator({ jobId, seed: 21, intervalMs: 400, stateSizeBytes: 64 * 1024 });
      simRun = sim.run({ signal: abort.signal }).catch(() => undefined);
      const config = await pair.config(`metrics: {listen: "127.0.0.1:0"}\nrpo: {objective: 1h, jobs: {"${jobId}": 6s}}\n`);
      daemon = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 3000 });
      await daemon.start();
      const target = new URL(daemon.metricsUrl ?? "").host;

      // Prometheus with the real rule expressions, a 1 s scrape and evaluation interval, on loopback.
      const rules = [ruleWithFor("CkptRpoObjectiveMissed", "3s"), ruleWithFor("CkptNoRestorableCheckpoint", "2s"), ruleWithFor("CkptTargetUnreachable", "2s")];
      await writeFile(join(work, "rules.yaml"), stringify({ groups: [{ name: "ckpt-replicator", interval: "1s", rules }] }));
      await writeFile(
        join(work, "prometheus.yml"),
        stringify({
          global: { scrape_interval: "1s", evaluation_interval: "1s", scrape_timeout: "900ms" },
          rule_files: [join(work, "rules.yaml")],
          scrape_configs: [{ job_name: "ckpt-replicator", static_configs: [{ targets: [target] }] }],
        }),
      );
      const port = await freePort();
      prom = spawn(
        prometheusBin,
        [`--config.file=${join(work, "prometheus.yml")}`, `--storage.tsdb.path=${join(work, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      prom.stdout?.on("data", (c: Buffer) => (promLog += c.toString()));
      prom.stderr?.on("data", (c: Buffer) => (promLog += c.toString()));
      const api = `http://127.0.0.1:${port}/api/v1`;
      const query = async (q: string) => {
        const res = (await (await fetch(`${api}/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
        if (res.status !== "success") throw new Error(`${q}: ${res.error}`);
        return res.data.result;
      };
      const scalar = async (q: string) => {
        const r = await query(q);
        return r.length === 0 ? null : Number(r[0]!.value[1]);
      };
      const rpoAlert = async () => {
        const res = (await (await fetch(`${api}/alerts`)).json()) as { data: { alerts: PromAlert[] } };
        return res.data.alerts.filter((a) => a.labels.alertname === "CkptRpoObjectiveMissed" && a.labels.flink_job === jobId);
      };
      const allAlerts = async () => ((await (await fetch(`${api}/alerts`)).json()) as { data: { alerts: PromAlert[] } }).data.alerts;
      const sel = `{flink_job="${jobId}"}`;

      // Healthy: scraped, the job's RPO is known and small, no RPO alert.
      await until("Prometheus scrapes the daemon", 20_000, async () => (await scalar(`up{job="ckpt-replicator"}`)) === 1);
      await until("the job has a restorable checkpoint with an RPO under its 6 s objective", 20_000, async () => {
        const rpo = await scalar(`time() - ckpt_replicator_newest_restore_point_completed_timestamp_seconds${sel}`);
        return rpo !== null && rpo < 4;
      });
      expect(await scalar(`ckpt_replicator_rpo_objective_seconds${sel}`)).toBe(6);
      expect(await rpoAlert()).toEqual([]);
      expect(await scalar(`ckpt_replicator_restorable_checkpoints${sel}`)).toBeGreaterThan(0);

      // Cut hdfs2 off (connection refused on all its NameNodes and DataNodes).
      const cut = await fetch(`${admin}/clusters/hdfs2/unreachable`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode: "refuse" }) });
      expect(cut.status).toBe(200);
      const cutAt = Date.now();
      const pending = await until("the RPO alert is pending", 30_000, async () => (await rpoAlert()).find((a) => a.state === "pending"));
      expect(Number(pending.value)).toBeGreaterThan(6);
      // By now the outage is established: these must hold still until hdfs2 is back.
      const restorableDuring = await scalar(`ckpt_replicator_restorable_checkpoints${sel}`);
      const restorableTsDuring = await scalar(`ckpt_replicator_newest_restore_point_completed_timestamp_seconds${sel}`);
      const firing = await until("the RPO alert fires", 20_000, async () => (await rpoAlert()).find((a) => a.state === "firing"));
      expect(Number(firing.value)).toBeGreaterThan(6 + 3 - 1);
      expect(Date.now() - cutAt).toBeGreaterThan(6_000); // not before the objective was actually missed
      // The daemon's own RPO gauge grows with the outage (it does not fall back to 0 or vanish).
      expect(await scalar(`ckpt_replicator_rpo_seconds${sel}`)).toBeGreaterThanOrEqual((Date.now() - cutAt) / 1000 - 2);

      // During the outage: the target is reported unreachable, the restorable checkpoint and count are the last
      // verified ones (present, not 0), so the "no restorable checkpoint" page stays quiet.
      await until("CkptTargetUnreachable fires", 15_000, async () => (await allAlerts()).some((a) => a.labels.alertname === "CkptTargetUnreachable" && a.state === "firing"));
      expect(await scalar("ckpt_replicator_target_reachable")).toBe(0);
      const outageS = Math.floor((Date.now() - cutAt) / 1000);
      expect(await scalar(`ckpt_replicator_restorable_checkpoints${sel}`)).toBe(restorableDuring);
      expect(await scalar(`ckpt_replicator_newest_restore_point_completed_timestamp_seconds${sel}`)).toBe(restorableTsDuring);
      // Over the whole outage, scraped every second: the restorable count never read 0 and the series never vanished.
      expect(await scalar(`min_over_time(ckpt_replicator_restorable_checkpoints${sel}[${outageS}s])`)).toBeGreaterThan(0);
      expect(await scalar(`count_over_time(ckpt_replicator_newest_restore_point_completed_timestamp_seconds${sel}[${outageS}s])`)).toBeGreaterThanOrEqual(outageS - 2);
      expect(await scalar(`max_over_time(ckpt_replicator_replication_lag_seconds${sel}[1m])`)).toBeGreaterThan(0);
      expect((await allAlerts()).filter((a) => a.labels.alertname === "CkptNoRestorableCheckpoint")).toEqual([]);

      // The dashboard's queries all run on this Prometheus, and the per-job panels have data.
      for (const q of dashboardQueries(dashboard())) {
        const concrete = q.replace(/\$__rate_interval/g, "30s").replace(/\$(instance|flink_job)/g, ".*");
        await query(concrete); // throws on a query Prometheus rejects
      }
      for (const q of ["ckpt_replicator_replication_lag_seconds", "ckpt_replicator_pending_bytes", "ckpt_replicator_restorable_checkpoints", "ckpt_replicator_rpo_objective_seconds"]) {
        expect((await query(`${q}${sel}`)).length, q).toBe(1);
      }

      // Recovery: hdfs2 comes back, the daemon renews its lease and publishes, the alert resolves.
      const back = await fetch(`${admin}/clusters/hdfs2/reachable`, { method: "POST" });
      expect(back.status).toBe(200);
      await until("the RPO alert resolves", 30_000, async () => (await rpoAlert()).length === 0);
      expect(await scalar(`time() - ckpt_replicator_newest_restore_point_completed_timestamp_seconds${sel}`)).toBeLessThan(6);
      expect(await scalar("ckpt_replicator_target_reachable")).toBe(1);
    } catch (err) {
      if (promLog) process.stderr.write(`prometheus output:\n${promLog.slice(-4000)}\n`);
      throw err;
    } finally {
      abort.abort();
      if (prom && prom.exitCode === null) {
        const exited = new Promise((r) => prom?.once("exit", r));
        prom.kill("SIGTERM");
        const timer = setTimeout(() => prom?.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      await fetch(`${admin}/clusters/hdfs2/reachable`, { method: "POST" }).catch(() => undefined);
      await daemon?.stop();
      await simRun;
      await pair.close();
      await rm(work, { recursive: true, force: true });
    }
  }, 120_000);
});
