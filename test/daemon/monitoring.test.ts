// The daemon's monitoring as Prometheus scrapes it, on local storage with a
// simulated Flink job: the newest restorable checkpoint survives a restart (read
// from the replication records on the target, before any sync and with the source
// gone), the page at / and /status show it, config reloads are counted with
// their failures, and a metrics port in use fails the start without keeping the lease.

import { mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { createServer } from "node:net";
import { Daemon, MetricsListenError } from "../../src/daemon/daemon.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";
import { silentLogger } from "../../src/util/log.js";

let tmp: string;
let configPath: string;
const daemons: Daemon[] = [];

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "daemon-monitoring-"));
  configPath = join(tmp, "replicator.yaml");
  await writeConfig();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  await rm(tmp, { recursive: true, force: true });
});

async function writeConfig(extra = ""): Promise<void> {
  await writeFile(
    configPath,
    `source: {name: src}
target: {name: dr}
paths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]
scan: {interval: 100ms}
lease: {ttl: 5s}
metrics: {listen: "127.0.0.1:0"}
log: {level: silent}
rpo: {objective: 10m}
${extra}`,
  );
}

async function startDaemon(): Promise<Daemon> {
  const daemon = new Daemon({ config: await loadConfigFile(configPath, {}), logger: silentLogger, stopDeadlineMs: 3000 });
  daemons.push(daemon);
  await daemon.start();
  return daemon;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function scrape(d: Daemon): Promise<string[]> {
  return (await (await fetch(`${d.metricsUrl}/metrics`)).text()).split("\n");
}

function sample(lines: string[], series: string): number | undefined {
  const line = lines.find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("daemon monitoring", () => {
  it("after a restart with the source gone, the newest restorable checkpoint comes from the records and the RPO keeps growing", async () => {
    const sim = new FlinkJobSimulator({ storage: new LocalStorage("local"), fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: 32 * 1024, retained: 2, seed: 4 });
    for (let i = 0; i < 3; i++) await sim.checkpointOnce();
    const first = await startDaemon();
    await until("checkpoint 3 is published", () => first.engine.status().jobs[0]?.newestPublishedCheckpoint === 3);
    const ts = `ckpt_replicator_newest_restorable_checkpoint_completed_timestamp_seconds{flink_job="${sim.jobId}"}`;
    const id = `ckpt_replicator_newest_restorable_checkpoint_id{flink_job="${sim.jobId}"}`;
    const before = await scrape(first);
    expect(sample(before, id)).toBe(3);
    const record = JSON.parse(await readFile(join(tmp, "dr", ".ckpt-replicator", "records", sim.jobId, "chk-3.json"), "utf8")) as { source: { completedAt: string } };
    expect(sample(before, ts)).toBe(Date.parse(record.source.completedAt) / 1000);
    await first.stop();
    daemons.splice(daemons.indexOf(first), 1);

    // The source root disappears (wrongly mounted, say); a new daemon starts.
    await rename(join(tmp, "src"), join(tmp, "src-away"));
    const second = await startDaemon();
    const right = await scrape(second); // before any cycle could have seen anything
    expect(sample(right, id)).toBe(3);
    expect(sample(right, ts)).toBe(Date.parse(record.source.completedAt) / 1000);
    await until("a cycle ran", () => second.completedCycles >= 2);
    const later = await scrape(second);
    expect(sample(later, id)).toBe(3);
    expect(sample(later, ts)).toBe(Date.parse(record.source.completedAt) / 1000);
    expect(sample(later, "ckpt_replicator_source_healthy")).toBe(0);
    expect(sample(later, `ckpt_replicator_restorable_checkpoints{flink_job="${sim.jobId}"}`)).toBeGreaterThan(0);
    expect(sample(later, `ckpt_replicator_rpo_seconds{flink_job="${sim.jobId}"}`)).toBeGreaterThan(sample(right, `ckpt_replicator_rpo_seconds{flink_job="${sim.jobId}"}`) ?? Infinity);

    const status = (await (await fetch(`${second.metricsUrl}/status`)).json()) as { jobs: Array<{ job: string; newestRestorableCheckpoint: { id: number; uri: string; completedAt: { iso: string; seconds: number } } }> };
    expect(status.jobs.find((j) => j.job === sim.jobId)?.newestRestorableCheckpoint).toEqual(
      expect.objectContaining({ id: 3, uri: `file://${tmp}/dr/${sim.jobId}/chk-3`, completedAt: { iso: record.source.completedAt, seconds: Date.parse(record.source.completedAt) / 1000 } }),
    );
    const page = await fetch(`${second.metricsUrl}/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain(`flink run --fromSavepoint file://${tmp}/dr/${sim.jobId}/chk-3 --restoreMode no_claim`);
    expect(html).toContain(`ckpt-replicator latest --config ${configPath} --job ${sim.jobId} --format flink`);
  });

  it("counts config reloads and rejected ones, and exports a changed RPO objective", async () => {
    const daemon = await startDaemon();
    await writeConfig("copy: {concurrency: 0}\n");
    expect(await daemon.reload()).toBe(false);
    let lines = await scrape(daemon);
    expect(sample(lines, "ckpt_replicator_config_reloads_total")).toBe(1);
    expect(sample(lines, "ckpt_replicator_config_reload_failures_total")).toBe(1);
    expect(sample(lines, "ckpt_replicator_config_last_reload_successful")).toBe(0);
    await writeConfig("rpo: {jobs: {some-job: 90s}}\n".replace("rpo: {", "rpo2: {")); // an unknown key is rejected too
    expect(await daemon.reload()).toBe(false);
    await writeFile(configPath, (await readFile(configPath, "utf8")).replace(/rpo2: .*\n/, "").replace("rpo: {objective: 10m}", "rpo: {objective: 2m}"));
    expect(await daemon.reload()).toBe(true);
    lines = await scrape(daemon);
    expect(sample(lines, "ckpt_replicator_config_reloads_total")).toBe(3);
    expect(sample(lines, "ckpt_replicator_config_reload_failures_total")).toBe(2);
    expect(sample(lines, "ckpt_replicator_config_last_reload_successful")).toBe(1);
    expect(daemon.statusReport().jobs.every((j) => j.rpoObjectiveSeconds === 120)).toBe(true);
    expect(lines.find((l) => l.startsWith("ckpt_replicator_build_info{"))).toMatch(/version="0\.1\.0"/);
  });

  it("a metrics port already in use fails the start with a clear error and leaves no lease held", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    try {
      const port = (blocker.address() as { port: number }).port;
      await writeFile(configPath, (await readFile(configPath, "utf8")).replace('metrics: {listen: "127.0.0.1:0"}', `metrics: {listen: "127.0.0.1:${port}"}`));
      const daemon = new Daemon({ config: await loadConfigFile(configPath, {}), logger: silentLogger, stopDeadlineMs: 1000 });
      const err = await daemon.start().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(MetricsListenError);
      expect((err as Error).message).toBe(`metrics.listen 127.0.0.1:${port}: the address is already in use (another replicator or program listens there); choose another port or stop it`);
      const leaseFiles = await readdir(join(tmp, "dr", ".ckpt-replicator", "lease")).catch(() => [] as string[]);
      expect(leaseFiles.filter((n) => n.startsWith("epoch-"))).toEqual([]); // never taken (the server starts first)
      await writeConfig(); // a free port: the next start is not refused by a leftover lease
      await startDaemon();
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
