// The daemon on a local source and a local target (file:/// roots) with a
// simulated Flink job writing real checkpoints: it publishes restorable
// checkpoints, serves its endpoints, applies valid config edits and rejects
// invalid ones, and stops cleanly (lease released, no temporary or partial file).

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfigFile, type Config } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { LeaseHeldError, verifyCheckpoints } from "../../src/replication/index.js";
import { epochFileName } from "../../src/replication/lease.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";
import type { Storage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";

let tmp: string;
let configPath: string;
const daemons: Daemon[] = [];
const storage = new LocalStorage("local");

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "daemon-"));
  configPath = join(tmp, "replicator.yaml");
  await writeConfig();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  await rm(tmp, { recursive: true, force: true });
});

async function writeConfig(o: { copy?: string; paths?: string; lease?: string; raw?: string } = {}): Promise<void> {
  const text =
    o.raw ??
    `source: {name: src}
target: {name: dr}
paths: ${o.paths ?? `[{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]`}
scan: {interval: 100ms}
copy: ${o.copy ?? "{concurrency: 2}"}
retain: {min: 1, max: 2}
lease: ${o.lease ?? "{ttl: 5s}"}
metrics: {listen: "127.0.0.1:0"}
log: {level: silent}
`;
  await writeFile(configPath, text);
}

async function startDaemon(o: { watchConfig?: boolean } = {}): Promise<{ daemon: Daemon; config: Config }> {
  const config = await loadConfigFile(configPath, {});
  const daemon = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 3000, ...o });
  daemons.push(daemon);
  await daemon.start();
  return { daemon, config };
}

function simulator(o: { stateSizeBytes?: number } = {}): FlinkJobSimulator {
  return new FlinkJobSimulator({ storage, fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: o.stateSizeBytes ?? 64 * 1024, retained: 2, seed: 3 });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const published = (d: Daemon) => d.engine.status().jobs[0]?.newestPublishedCheckpoint ?? null;

/** Every file below `dir` (path -> length). */
async function tree(s: Storage, dir: string, out = new Map<string, number>()): Promise<Map<string, number>> {
  for (const e of (await s.list(dir)) ?? []) {
    const p = `${dir}/${e.name}`;
    if (e.type === "dir") await tree(s, p, out);
    else out.set(p, e.length);
  }
  return out;
}

describe("daemon on local storage", () => {
  it("publishes the job's checkpoints as restorable copies and serves its endpoints", async () => {
    const sim = simulator();
    for (let i = 0; i < 3; i++) await sim.checkpointOnce();
    const { daemon, config } = await startDaemon();
    await until("checkpoint 3 is published", () => published(daemon) === 3);
    await sim.checkpointOnce(); // the local source is watched: a new checkpoint is picked up promptly
    await until("checkpoint 4 is published", () => published(daemon) === 4);

    const verdicts = await verifyCheckpoints({ config, side: "target", storage });
    expect(verdicts.map((v) => [v.unit, v.state])).toEqual([
      ["chk-4", "restorable"],
      ["chk-3", "restorable"],
    ]);
    const lease = JSON.parse(await readFile(join(tmp, "dr", ".ckpt-replicator", "lease", epochFileName(1)), "utf8")) as { owner: string };
    expect(lease.owner).toBe(daemon.engine.lease?.owner);

    const url = daemon.metricsUrl!;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^ckpt_replicator_checkpoints_published_total\\{flink_job="${sim.jobId}",kind="checkpoint"\\} [1-9]`, "m"));
    expect(metrics.split("\n")).toContain(`ckpt_replicator_newest_restorable_checkpoint_id{flink_job="${sim.jobId}"} 4`);
    expect(metrics.split("\n")).toContain("ckpt_replicator_lease_held 1");
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, "ok\n"]);
    const status = (await (await fetch(`${url}/status`)).json()) as { jobs: Array<{ job: string; newestRestorableCheckpoint: { id: number } }> };
    expect(status.jobs).toMatchObject([{ job: sim.jobId, newestRestorableCheckpoint: { id: 4 } }]);
  });

  it("applies a valid config edit on reload and keeps the settings that need a restart", async () => {
    const { daemon } = await startDaemon();
    expect(daemon.engine.currentConfig.copy.concurrency).toBe(2);
    await writeConfig({ copy: "{concurrency: 5, bandwidth: 1MiB}", paths: `[{source: "file://${tmp}/elsewhere", target: "file://${tmp}/dr"}]` });
    expect(await daemon.reload()).toBe(true);
    const cfg = daemon.engine.currentConfig;
    expect(cfg.copy.concurrency).toBe(5);
    expect(daemon.engine.status().bandwidth).toBe(1024 * 1024);
    expect(cfg.paths).toEqual([{ source: `${tmp}/src`, target: `${tmp}/dr` }]); // roots change only on restart
  });

  it("rejects an invalid config edit, keeps the running config and keeps replicating", async () => {
    const sim = simulator();
    await sim.checkpointOnce();
    const { daemon } = await startDaemon();
    await until("checkpoint 1 is published", () => published(daemon) === 1);
    for (const bad of ["copy: {concurrency: 0}", "copy: [unclosed"]) {
      await writeConfig({ copy: bad.slice("copy: ".length) });
      expect(await daemon.reload()).toBe(false);
      expect(daemon.engine.currentConfig.copy.concurrency).toBe(2);
    }
    await sim.checkpointOnce();
    await until("checkpoint 2 is published after the rejected edits", () => published(daemon) === 2);
  });

  it("stops mid-copy: releases the lease and leaves no temporary and no partial file on the target", async () => {
    // Throttled so that stop() lands while files are being copied.
    await writeConfig({ copy: "{concurrency: 2, bandwidth: 1MiB}" });
    const sim = simulator({ stateSizeBytes: 3 * 1024 * 1024 });
    await sim.checkpointOnce();
    const { daemon } = await startDaemon();
    await until("the copy is under way", () => (daemon.engine.status().jobs[0]?.current?.bytesDone ?? 0) > 0);
    const t0 = Date.now();
    await daemon.stop();
    expect(Date.now() - t0).toBeLessThan(3000);

    expect((await readdir(join(tmp, "dr", ".ckpt-replicator", "lease"))).filter((n) => n.startsWith("epoch-"))).toEqual([]); // released
    const target = await tree(storage, `${tmp}/dr`);
    const source = await tree(storage, `${tmp}/src`);
    const leftovers = [...target.keys()].filter((p) => p.includes(".ckpt-tmp."));
    expect(leftovers).toEqual([]);
    // Every state file at a final name on the target is whole: it has its source's length.
    const stateFiles = [...target].filter(([p]) => p.startsWith(`${tmp}/dr/${sim.jobId}/`));
    for (const [p, len] of stateFiles) expect(len, p).toBe(source.get(p.replace(`${tmp}/dr/`, `${tmp}/src/`)));
    expect(published(daemon)).toBeNull(); // nothing was published half-copied
    expect(target.has(`${tmp}/dr/${sim.jobId}/chk-1/_metadata`)).toBe(false);
  });

  it("reloads by itself when the watched config file changes", async () => {
    const { daemon } = await startDaemon({ watchConfig: true });
    await writeConfig({ copy: "{concurrency: 7}" });
    await until("the edit is applied", () => daemon.engine.currentConfig.copy.concurrency === 7, 10_000);
  });

  it("refuses to start a second daemon on the same target while the first holds the lease", async () => {
    const { daemon: first } = await startDaemon();
    const config = await loadConfigFile(configPath, {});
    const second = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 1000 });
    const err = await second.start().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as LeaseHeldError).holder).toContain(first.engine.lease!.owner);
    await second.engine.stop(100); // closes its storages; the first daemon's lease is untouched
    expect(JSON.parse(await readFile(join(tmp, "dr", ".ckpt-replicator", "lease", epochFileName(1)), "utf8"))).toMatchObject({ owner: first.engine.lease!.owner });
  });

  it("stops writing when another replicator takes its lease over", async () => {
    await writeConfig({ lease: "{ttl: 600ms}" });
    const { daemon } = await startDaemon();
    const foreign = { owner: "other:1:cafe", host: "other", pid: 1, epoch: 2, acquiredAt: Date.now(), ttlMs: 600 };
    await writeFile(join(tmp, "dr", ".ckpt-replicator", "lease", epochFileName(2)), JSON.stringify(foreign));
    await until("the daemon notices at its next renewal and stops", () => daemon.engine.stopSignal.aborted, 5_000);
    await daemon.stop();
    expect(JSON.parse(await readFile(join(tmp, "dr", ".ckpt-replicator", "lease", epochFileName(2)), "utf8"))).toEqual(foreign); // not released: not ours
    const sim = simulator();
    await sim.checkpointOnce();
    await new Promise((r) => setTimeout(r, 300));
    expect(await storage.list(`${tmp}/dr/${sim.jobId}`)).toBeNull(); // nothing is replicated any more
  });
});

describe("crash guard (issue 7, bug 2)", () => {
  it("turns an error nobody caught into a logged, orderly stop: the lease is released and the stop signal carries the error", async () => {
    const config = await loadConfigFile(configPath, {});
    const daemon = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 3000, crashGuard: true });
    daemons.push(daemon);
    const others = process.listeners("uncaughtException");
    await daemon.start();
    const leasePath = `${tmp}/dr/.ckpt-replicator/lease/${epochFileName(1)}`;
    expect(await storage.stat(leasePath)).not.toBeNull();
    // Hand the event to the daemon's guard alone (the test runner's own handler would fail the test).
    for (const l of others) process.off("uncaughtException", l);
    try {
      for (const l of process.listeners("uncaughtException")) l(new Error("boom from a stream nobody listened to"), "uncaughtException");
    } finally {
      for (const l of others) process.on("uncaughtException", l);
    }
    expect(daemon.engine.stopSignal.aborted).toBe(true);
    expect((daemon.engine.stopSignal.reason as Error).message).toContain("boom");
    await daemon.stop();
    expect(await storage.stat(leasePath)).toBeNull();
    expect(process.listeners("uncaughtException").length).toBe(others.length);
  });
});
