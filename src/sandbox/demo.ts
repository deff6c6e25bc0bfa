// The sandbox demo (`npm start` / `ckpt-replicator demo`): two emulated HDFS
// clusters, Flink jobs checkpointing on hdfs1, the replicator daemon copying to
// hdfs2 and serving metrics. Prints one line per checkpoint published on hdfs2;
// at the end verifies hdfs2 and prints, per job, the checkpoint to restore from.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { parseConfigText, type Config } from "../config/load.js";
import { formatBytes } from "../util/units.js";
import { Daemon } from "../daemon/daemon.js";
import type { PublishedEvent } from "../replication/index.js";
import { findLatest, formatLatest } from "../replication/latest.js";
import { openSides } from "../replication/sides.js";
import { formatVerdicts, verifyCheckpoints } from "../replication/verify.js";
import { WebHdfsStorage } from "../storage/webhdfs.js";
import { errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { WebHdfsClient } from "../webhdfs/index.js";
import { startSandbox, type Sandbox } from "./emulator/index.js";
import { FlinkJobSimulator } from "./simulator/index.js";

export interface DemoOptions {
  durationMs: number;
  jobs: number;
  intervalMs: number;
  stateSizeBytes: number;
  /** Keep the sandbox state here (default: a temporary directory, removed at the end). */
  stateDir?: string;
  metricsListen: string;
  /** Fail over NameNodes and cut the target off for a moment while the demo runs. */
  chaos: boolean;
  out: Writable;
  logger: Logger;
  signal?: AbortSignal;
}

export interface DemoResult {
  published: number;
  restorable: number;
  broken: number;
  jobs: string[];
}

const SOURCE_ROOT = "/flink/checkpoints";
const TARGET_ROOT = "/dr/flink/checkpoints";

export function demoConfigText(sandbox: Sandbox, metricsListen: string): string {
  const nn = sandbox.endpoints.clusters;
  return `# Written by \`ckpt-replicator demo\` for its sandbox clusters.
source:
  name: hdfs1
  namenodes: ${JSON.stringify(nn.hdfs1?.namenodes ?? [])}
  uri: hdfs://hdfs1
  user: replicator
target:
  name: hdfs2
  namenodes: ${JSON.stringify(nn.hdfs2?.namenodes ?? [])}
  uri: hdfs://hdfs2
  user: replicator
paths:
  - {source: ${SOURCE_ROOT}, target: ${TARGET_ROOT}}
scan: {interval: 500ms}
copy: {concurrency: 4}
retain: {min: 1, max: 3}
lease: {ttl: 10s}
metrics: {listen: "${metricsListen}"}
`;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const stateDir = o.stateDir ?? (await mkdtemp(join(tmpdir(), "ckpt-replicator-demo-")));
  const say = (line: string) => o.out.write(`${line}\n`);
  const sandbox = await startSandbox({ stateDir: join(stateDir, "sandbox"), logger: o.logger });
  const clients: WebHdfsClient[] = [];
  let daemon: Daemon | null = null;
  const result: DemoResult = { published: 0, restorable: 0, broken: 0, jobs: [] };
  try {
    const configFile = join(stateDir, "ckpt-replicator.yaml");
    const metricsListen = await freeOrAnyPort(o.metricsListen);
    if (metricsListen !== o.metricsListen) say(`${o.metricsListen} is in use; serving metrics on a free port instead`);
    const configText = demoConfigText(sandbox, metricsListen);
    await writeFile(configFile, configText);
    const config: Config = await parseConfigText(configText, configFile);
    say(`sandbox: hdfs1 ${sandbox.endpoints.clusters.hdfs1?.namenodes.join(" ")}  hdfs2 ${sandbox.endpoints.clusters.hdfs2?.namenodes.join(" ")}`);
    say(`sandbox admin API: ${sandbox.endpoints.admin}   replicator config: ${configFile}`);

    const hdfs1 = (): WebHdfsClient => {
      const client = new WebHdfsClient({ name: "hdfs1", namenodes: sandbox.endpoints.clusters.hdfs1?.namenodes ?? [], user: "flink" }, { logger: o.logger });
      clients.push(client);
      return client;
    };
    // Flink creates its checkpoint directory when the job starts. With a kept --state-dir, earlier runs'
    // jobs are still there: new jobs get new ids.
    const sourceRoot = new WebHdfsStorage(hdfs1());
    await sourceRoot.mkdirs(SOURCE_ROOT);
    const earlierJobs = ((await sourceRoot.list(SOURCE_ROOT)) ?? []).filter((e) => e.type === "dir").length;
    const simulators = Array.from({ length: o.jobs }, (_, i) => {
      const client = hdfs1();
      return new FlinkJobSimulator({
        storage: new WebHdfsStorage(client),
        fsUri: "hdfs://hdfs1",
        root: SOURCE_ROOT,
        seed: 1000 + earlierJobs + i,
        intervalMs: o.intervalMs,
        stateSizeBytes: o.stateSizeBytes,
        retained: 2,
        logger: o.logger,
      });
    });
    result.jobs = simulators.map((s) => s.jobId);
    say(`flink jobs on hdfs1 (checkpoint every ${o.intervalMs} ms, 2 retained): ${result.jobs.join(", ")}`);

    daemon = new Daemon({
      config,
      logger: o.logger,
      hooks: {
        onPublished: (e: PublishedEvent) => {
          result.published++;
          say(formatPublished(e));
        },
        onAbandoned: (job, unit, reason) => say(`  ${short(job)}/${unit}: abandoned (${reason === "subsumed" ? "subsumed on hdfs1 during the copy" : "a file it needs is gone"})`),
      },
    });
    await daemon.start();
    say(`replicator running; metrics at ${daemon.metricsUrl ?? "(disabled)"}/metrics  status at ${daemon.metricsUrl ?? ""}/status`);

    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), o.durationMs > 0 ? o.durationMs : 2 ** 31 - 1);
    o.signal?.addEventListener("abort", () => stop.abort(), { once: true });
    const chaos = o.chaos ? startChaos(sandbox, say) : null;
    await Promise.all(simulators.map((s) => s.run({ signal: stop.signal }).catch((err: unknown) => say(`simulator ${short(s.jobId)} stopped: ${errorMessage(err)}`))));
    clearTimeout(timer);
    await chaos?.stop();

    say("flink jobs stopped; letting the replicator catch up...");
    const newest = new Map(simulators.map((s) => [s.jobId, Math.max(-1, ...s.retained().map((c) => c.id))]));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const jobs = daemon.engine.status().jobs;
      if ([...newest].every(([job, id]) => id < 0 || jobs.find((j) => j.job === job)?.newestPublishedCheckpoint === id)) break;
      daemon.trigger();
      await new Promise((r) => setTimeout(r, 200));
    }
    await daemon.stop("demo finished");
    daemon = null;

    const sides = openSides(config, o.logger);
    try {
      const verdicts = await verifyCheckpoints({ config, side: "target", bundle: sides.target, logger: o.logger });
      result.restorable = verdicts.filter((v) => v.state === "restorable").length;
      result.broken = verdicts.length - result.restorable;
      say("\nverify hdfs2:");
      o.out.write(formatVerdicts(verdicts, "target"));
    } finally {
      sides.close();
    }
    for (const job of result.jobs) {
      say(`\nlatest ${job}:`);
      try {
        o.out.write(formatLatest(await findLatest(config, job, o.logger), "flink"));
      } catch (err) {
        say(`  ${errorMessage(err)}`);
      }
    }
    return result;
  } finally {
    if (daemon) await daemon.stop("demo interrupted").catch(() => undefined);
    for (const c of clients) c.close();
    await sandbox.stop();
    if (o.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
  }
}

/** `listen` if that address is free, else the same host with port 0 (any free port). */
async function freeOrAnyPort(listen: string): Promise<string> {
  const sep = listen.lastIndexOf(":");
  const host = listen.slice(0, sep).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(sep + 1));
  if (port === 0) return listen;
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
  return free ? listen : `${listen.slice(0, sep)}:0`;
}

function short(job: string): string {
  return job.length > 12 ? job.slice(0, 8) : job;
}

export function formatPublished(e: PublishedEvent): string {
  return (
    `published ${short(e.job)}/${e.unit} on hdfs2: ${e.files} files (${e.filesCopied} copied), ` +
    `${formatBytes(e.bytes)} (${formatBytes(e.bytesCopied)} copied), lag ${(e.lagMs / 1000).toFixed(1)} s`
  );
}

function startChaos(sandbox: Sandbox, say: (line: string) => void) {
  let step = 0;
  const timer = setInterval(() => {
    step++;
    if (step % 3 === 1) {
      sandbox.failover("hdfs1");
      say("  chaos: hdfs1 NameNode failover");
    } else if (step % 3 === 2) {
      sandbox.failover("hdfs2");
      say("  chaos: hdfs2 NameNode failover");
    } else {
      void sandbox.faults.makeUnreachable("hdfs2", "refuse", 1500);
      say("  chaos: hdfs2 unreachable for 1.5 s");
    }
  }, 3000);
  return {
    async stop() {
      clearInterval(timer);
      await sandbox.faults.makeReachable("hdfs2").catch(() => undefined);
    },
  };
}
