// The loopback setup every benchmark runs against: the WebHDFS emulator (see
// emulator-host.ts) with clusters hdfs1 (source) and hdfs2 (target) in a
// temporary state directory,
// replicator configs for a per-benchmark pair of roots, storages and bare
// WebHDFS clients on either cluster, and Flink job simulators writing to hdfs1.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { parseConfigText, type Config } from "../config/load.js";
import { Engine, type EngineHooks } from "../replication/index.js";
import { openSides } from "../replication/sides.js";
import type { SandboxEndpoints } from "../sandbox/emulator/index.js";
import { FlinkJobSimulator, type SimulatorOptions } from "../sandbox/simulator/index.js";
import type { Storage } from "../storage/types.js";
import { WebHdfsStorage } from "../storage/webhdfs.js";
import { silentLogger, type Logger } from "../util/log.js";
import { WebHdfsClient } from "../webhdfs/index.js";
import { BenchmarkError } from "./errors.js";
import { startEmulator, type EmulatorHost, type EmulatorMode } from "./emulator-host.js";

export type ClusterName = "hdfs1" | "hdfs2";

/** Source and target root of one benchmark (each benchmark works in its own directories). */
export interface BenchRoots {
  source: string;
  target: string;
}

/** Config sections that override the benchmark defaults, key by key (e.g. `{ copy: { concurrency: 8 } }`). */
export type ConfigOverrides = Record<string, Record<string, unknown>>;

export class BenchEnvironment {
  private readonly open: { close(): void }[] = [];

  private constructor(
    private readonly emulator: EmulatorHost,
    private readonly stateDir: string,
    readonly logger: Logger,
  ) {}

  static async start(mode: EmulatorMode = "auto", logger: Logger = silentLogger): Promise<BenchEnvironment> {
    const stateDir = await mkdtemp(join(tmpdir(), "ckpt-bench-"));
    try {
      return new BenchEnvironment(await startEmulator(mode, stateDir, logger), stateDir, logger);
    } catch (err) {
      await rm(stateDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Whether the emulator shares this process (its CPU and memory then count in every figure). */
  get emulatorMode(): EmulatorHost["mode"] {
    return this.emulator.mode;
  }

  /** The emulator child's CPU time so far in ms; null when it runs in this process. */
  emulatorCpuMs(): Promise<number | null> {
    return this.emulator.cpuMs();
  }

  get endpoints(): SandboxEndpoints {
    return this.emulator.endpoints;
  }

  namenodes(cluster: ClusterName): string[] {
    const c = this.emulator.endpoints.clusters[cluster];
    if (!c) throw new BenchmarkError("harness", "find cluster", `the emulator has no cluster ${cluster}`);
    return c.namenodes;
  }

  /** Roots of the benchmark `name`: /bench/<name> on hdfs1 is replicated to /dr/<name> on hdfs2. */
  roots(name: string): BenchRoots {
    return { source: `/bench/${name}`, target: `/dr/${name}` };
  }

  /** Creates a large tree in `cluster`'s namespace at once (the emulator's admin API; no bytes stored). */
  async generateTree(cluster: ClusterName, spec: { root: string; jobs: number; filesPerJob: number; fileSize: number }): Promise<number> {
    const res = await fetch(`${this.emulator.endpoints.admin}/clusters/${cluster}/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(spec),
    });
    const body = (await res.json()) as { files?: number; error?: string };
    if (!res.ok || body.files === undefined) throw new BenchmarkError("harness", "generate tree", body.error ?? `admin API answered ${res.status}`);
    return body.files;
  }

  /** A replicator config for `roots`, as the daemon would load it from YAML. */
  async config(roots: BenchRoots, overrides: ConfigOverrides = {}): Promise<Config> {
    const side = (cluster: ClusterName) => ({
      name: cluster,
      namenodes: this.namenodes(cluster),
      uri: `hdfs://${cluster}`,
      user: "replicator",
      requestTimeout: "30s",
      retry: { attempts: 3, baseDelay: "20ms", maxDelay: "200ms" },
    });
    const base: Record<string, unknown> = {
      source: side("hdfs1"),
      target: side("hdfs2"),
      paths: [roots],
      scan: { interval: "1s", corruptAfter: "1m" },
      copy: { concurrency: 4 },
      lease: { ttl: "60s" },
      metrics: false,
      log: { level: "silent" },
    };
    for (const [section, values] of Object.entries(overrides)) {
      const current = base[section];
      base[section] = current && typeof current === "object" ? { ...current, ...values } : values;
    }
    return parseConfigText(stringifyYaml(base), "bench.yaml", {});
  }

  /** An engine for `config` with its own storages (closed by engine.stop()); the lease is taken. */
  async engine(config: Config, hooks?: EngineHooks): Promise<Engine> {
    const sides = openSides(config, this.logger);
    const engine = new Engine({
      config,
      ...(hooks ? { hooks } : {}),
      source: sides.source.storage,
      target: sides.target.storage,
      logger: this.logger.child({ component: "engine" }),
    });
    await engine.start();
    return engine;
  }

  /** A bare WebHDFS client on `cluster` (closed with the environment). */
  client(cluster: ClusterName): WebHdfsClient {
    const client = new WebHdfsClient({
      name: cluster,
      namenodes: this.namenodes(cluster),
      user: "flink",
      requestTimeoutMs: 30_000,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    this.open.push(client);
    return client;
  }

  storage(cluster: ClusterName): Storage {
    return new WebHdfsStorage(this.client(cluster));
  }

  /** A Flink job checkpointing under `root` on hdfs1. */
  simulator(root: string, o: Partial<Omit<SimulatorOptions, "storage" | "fsUri" | "root">> = {}): FlinkJobSimulator {
    return new FlinkJobSimulator({ storage: this.storage("hdfs1"), fsUri: "hdfs://hdfs1", root, intervalMs: 0, ...o });
  }

  async close(): Promise<void> {
    for (const o of this.open.splice(0)) o.close();
    await this.emulator.stop();
    await rm(this.stateDir, { recursive: true, force: true });
  }
}
