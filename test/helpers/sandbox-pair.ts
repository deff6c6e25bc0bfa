// An emulated hdfs1 -> hdfs2 pair for end-to-end tests: the sandbox, a config
// for the replicator (source root /flink/checkpoints, target root /dr/flink so
// that path rewriting is exercised), storages for both sides, and Flink job
// simulators writing to hdfs1.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { parseConfigText, type Config } from "../../src/config/load.js";
import { startSandbox, type EndpointTls, type Sandbox, type SecurityOptions } from "../../src/sandbox/emulator/index.js";
import { FlinkJobSimulator, type SimulatorOptions } from "../../src/sandbox/simulator/index.js";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import type { Storage } from "../../src/storage/types.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";

export const SOURCE_ROOT = "/flink/checkpoints";
export const TARGET_ROOT = "/dr/flink";

export interface SandboxPair {
  sandbox: Sandbox;
  stateDir: string;
  /** Writes a config file and returns its path (extra YAML is appended). */
  configText(extra?: string): string;
  config(extra?: string, env?: NodeJS.ProcessEnv): Promise<Config>;
  /** Writes `<name>.yaml` in the state directory: the pair's config (plus `extra`), edited as a user might get it wrong. */
  configFile(name: string, edit?: (c: Record<string, any>) => void, extra?: string): Promise<string>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Storage on a cluster as the Flink user (for simulators and for inspecting). */
  storage(cluster: "hdfs1" | "hdfs2"): Storage;
  simulator(o?: Partial<SimulatorOptions>): FlinkJobSimulator;
  /** An engine with its own storages for `config`'s sides (closed with the pair), logging nowhere. */
  engine(config: Config): Engine;
  close(): Promise<void>;
}

export interface SandboxPairOptions {
  /** Clusters in secure mode. */
  secure?: string[];
  /** Clusters served over https (their certificates) and the CA the pair's own storages trust. */
  tls?: { ca: string; servers: Record<string, EndpointTls> };
  /** Secure-mode token lifetimes and the SPNEGO user. */
  security?: Omit<SecurityOptions, "enabled">;
}

export async function startSandboxPair(o: SandboxPairOptions = {}): Promise<SandboxPair> {
  const stateDir = await mkdtemp(join(tmpdir(), "ckpt-e2e-"));
  const sandbox = await startSandbox({
    stateDir,
    ...(o.secure ? { security: { ...o.security, enabled: o.secure } } : {}),
    ...(o.tls ? { tls: o.tls.servers } : {}),
  });
  const storages: Storage[] = [];
  const nn = sandbox.endpoints.clusters;
  const configText = (extra = "") => {
    const base = parseYaml(`
source: {name: hdfs1, namenodes: ${JSON.stringify(nn.hdfs1!.namenodes)}, uri: "hdfs://hdfs1", user: replicator, requestTimeout: 5s, retry: {attempts: 3, baseDelay: 20ms, maxDelay: 200ms}}
target: {name: hdfs2, namenodes: ${JSON.stringify(nn.hdfs2!.namenodes)}, uri: "hdfs://hdfs2", user: replicator, requestTimeout: 5s, retry: {attempts: 3, baseDelay: 20ms, maxDelay: 200ms}}
paths: [{source: ${SOURCE_ROOT}, target: ${TARGET_ROOT}}]
scan: {interval: 200ms, corruptAfter: 1s}
copy: {concurrency: 4, retries: 4}
lease: {ttl: 3s}
metrics: false
log: {level: silent}
`) as Record<string, unknown>;
    // Sections in `extra` override the base section key by key.
    const over = (parseYaml(extra) ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(over)) {
      const b = base[k];
      base[k] = b && typeof b === "object" && v && typeof v === "object" && !Array.isArray(v) ? { ...b, ...v } : v;
    }
    return stringifyYaml(base);
  };
  const storage = (cluster: "hdfs1" | "hdfs2") => {
    const s = new WebHdfsStorage(
      new WebHdfsClient({
        name: cluster, namenodes: nn[cluster]!.namenodes, user: "flink", requestTimeoutMs: 5000, retry: { baseDelayMs: 20, maxDelayMs: 200 },
        ...(o.tls?.servers[cluster] ? { tls: { ca: o.tls.ca } } : {}),
      }),
    );
    storages.push(s);
    return s;
  };
  return {
    sandbox,
    stateDir,
    configText,
    config: (extra, env = {}) => parseConfigText(configText(extra), "e2e.yaml", env),
    configFile: async (name, edit = () => {}, extra = "") => {
      const c = parseYaml(configText(extra)) as Record<string, unknown>;
      edit(c);
      const file = join(stateDir, `${name}.yaml`);
      await writeFile(file, stringifyYaml(c));
      return file;
    },
    storage,
    simulator: (o = {}) =>
      new FlinkJobSimulator({
        storage: storage("hdfs1"),
        fsUri: "hdfs://hdfs1",
        root: SOURCE_ROOT,
        intervalMs: 100,
        stateSizeBytes: 256 * 1024,
        retained: 2,
        ...o,
      }),
    engine: (config) => {
      const source = createStorage(config.source, silentLogger);
      const target = createStorage(config.target, silentLogger);
      storages.push(source, target);
      return new Engine({ config, source, target, logger: silentLogger });
    },
    async close() {
      for (const s of storages) s.close();
      await sandbox.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
