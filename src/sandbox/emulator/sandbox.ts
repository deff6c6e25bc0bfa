// startSandbox(): starts named emulated HDFS clusters plus the admin endpoint
// and returns their endpoints, the fault injector and lifecycle controls.
// This is the public entry point of the emulator (tests, benchmarks, demo).

import { silentLogger, type Logger } from "../../util/log.js";
import { startAdminServer } from "./admin.js";
import { EmulatedCluster, type ClusterSettings, type NameNodeState } from "./cluster.js";
import type { EndpointServer, EndpointTls } from "./endpoint-server.js";
import { SandboxError } from "./errors.js";
import { FaultInjector } from "./faults.js";
import type { SecuritySettings } from "./security.js";
import type { IssuedToken } from "./tokens.js";

export interface SandboxOptions {
  /** Directory holding every cluster's namespace journal and file bytes; reuse it to keep state across restarts. */
  stateDir: string;
  /** Cluster names (default ["hdfs1", "hdfs2"]). */
  clusters?: string[];
  logger?: Logger;
  /** LISTSTATUS_BATCH page size (default 1000, like dfs.ls.limit). */
  listBatchSize?: number;
  /** DataNodes per cluster (default 1). */
  datanodesPerCluster?: number;
  /** NameNode superuser (default "hdfs"; owner of "/"). */
  superuser?: string;
  /** Superuser group (default "supergroup"). */
  supergroup?: string;
  /** Effective user when a request has no user.name (default "dr.who"). */
  staticUser?: string;
  /** Permission of "/" in a new state dir (default 0o777 so any user can start working; real clusters use 0o755). */
  rootPermission?: number;
  /** Group membership for permission checks, e.g. { flink: ["hadoop"] }. */
  userGroups?: Record<string, string[]>;
  /** Block size when CREATE has no blocksize (default 134217728). */
  defaultBlockSize?: number;
  /** Replication when CREATE has no replication (default 3). */
  defaultReplication?: number;
  /** dfs.namenode.fs-limits.min-block-size (default 1048576). */
  minBlockSize?: number;
  /** Close an aborted upload with the bytes received (default true, HdfsWriter behaviour). */
  closeAbortedUploads?: boolean;
  /** Host name put into redirect Locations (default "127.0.0.1"). */
  advertisedHost?: string;
  /** Reproduce the HDFS-14423 DataNode bug (paths decoded twice: `+` and `%` in names break). Default false. */
  doubleDecodeDataNodePaths?: boolean;
  /** Secure mode (no real Kerberos; see docs/sandbox.md). Off for every cluster by default. */
  security?: SecurityOptions;
  /** Clusters served over https only (dfs.http.policy=HTTPS_ONLY): cluster name -> certificate and key (PEM). */
  tls?: Record<string, EndpointTls>;
}

export interface SecurityOptions {
  /** Clusters that start in secure mode: `true` for all, or their names (default: none). Toggle with setSecure(). */
  enabled?: boolean | string[];
  /** User that a test-only `Authorization: Negotiate <anything>` header authenticates as (default: the superuser). */
  spnegoUser?: string;
  /** Token validity after issue and after each renewal (default 86400000, dfs.namenode.delegation.token.renew-interval). */
  tokenRenewIntervalMs?: number;
  /** No renewal goes past issue date + this (default 604800000, dfs.namenode.delegation.token.max-lifetime). */
  tokenMaxLifetimeMs?: number;
  /** The secret managers' clock (default Date.now): tests move it to cross renew deadlines without waiting. */
  clock?: () => number;
}

export interface MintTokenRequest {
  /** Token owner: the user requests made with the token act as. */
  user: string;
  /** Who may renew it (default: `user`). */
  renewer?: string;
  /** Validity instead of the renew interval, e.g. a few ms for an expiry test. */
  expiresInMs?: number;
}

export interface SandboxEndpoints {
  admin: string;
  clusters: Record<string, { namenodes: string[]; datanodes: string[] }>;
}

export interface Sandbox {
  readonly endpoints: SandboxEndpoints;
  readonly faults: FaultInjector;
  /** Swaps active and standby NameNode of `cluster`. */
  failover(cluster: string): void;
  /** Sets one NameNode's HA state (index 0 or 1). */
  setNameNodeState(cluster: string, index: number, state: NameNodeState): void;
  /** Safe mode: writes get 403 RetriableException(SafeModeException). */
  setSafeMode(cluster: string, on: boolean): void;
  /** Startup mode: every NameNode request gets 403 RetriableException "Namenode is in startup mode". */
  setStartupMode(cluster: string, on: boolean): void;
  /** Secure mode: 401 without credentials, delegation tokens verified (tokens survive toggling). */
  setSecure(cluster: string, on: boolean): void;
  /** A delegation token of `cluster`, as its NameNode would issue it (kind "WEBHDFS delegation"). */
  mintDelegationToken(cluster: string, request: MintTokenRequest): IssuedToken;
  /** Cancels every live delegation token of `cluster` behind its holders' backs (an admin revoking them); returns how many. */
  revokeDelegationTokens(cluster: string): number;
  /**
   * Creates a large tree at once, namespace only (benchmarks): under `root`, `jobs` directories job-<j>, each
   * with `filesPerJob` closed files of `fileSize` bytes in shared/ (no bytes stored: reading them fails).
   */
  generateTree(cluster: string, spec: GenerateTreeRequest): { files: number };
  /** Closes all servers and sockets and flushes the namespace. */
  stop(): Promise<void>;
}

export interface GenerateTreeRequest {
  root: string;
  jobs: number;
  filesPerJob: number;
  fileSize: number;
}

export const DEFAULT_CLUSTERS = ["hdfs1", "hdfs2"];
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const names = options.clusters ?? DEFAULT_CLUSTERS;
  if (names.length === 0) throw new SandboxError("at least one cluster name is required");
  for (const name of names) {
    if (!CLUSTER_NAME.test(name)) throw new SandboxError(`invalid cluster name "${name}" (letters, digits, "-" and "_")`);
  }
  if (new Set(names).size !== names.length) throw new SandboxError(`duplicate cluster names in ${names.join(",")}`);
  const secureNames = options.security?.enabled;
  for (const name of Array.isArray(secureNames) ? secureNames : []) {
    if (!names.includes(name)) throw new SandboxError(`security.enabled names unknown cluster "${name}"`);
  }
  for (const name of Object.keys(options.tls ?? {})) {
    if (!names.includes(name)) throw new SandboxError(`tls names unknown cluster "${name}"`);
  }
  const logger = options.logger ?? silentLogger;
  const faults = new FaultInjector();
  const clusters = new Map<string, EmulatedCluster>();
  const stopAll = async () => {
    faults.dispose();
    await Promise.all([...clusters.values()].map((c) => c.stop()));
  };
  try {
    for (const name of names) {
      const cluster = await EmulatedCluster.start(clusterSettings(name, options, logger, faults));
      clusters.set(name, cluster);
      faults.registerCluster(name, cluster);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const get = (name: string): EmulatedCluster => {
    const cluster = clusters.get(name);
    if (cluster === undefined) throw new SandboxError(`unknown cluster "${name}" (have ${names.join(", ")})`);
    return cluster;
  };
  const urls = (servers: EndpointServer[]) => servers.map((s) => s.url);
  const clusterEndpoints: SandboxEndpoints["clusters"] = {};
  for (const [name, cluster] of clusters) clusterEndpoints[name] = { namenodes: urls(cluster.namenodes), datanodes: urls(cluster.datanodes) };
  // The admin server serves this very object; it only reads it once requests arrive.
  let sandbox: Sandbox | undefined;
  const admin = await startAdminServer(() => sandbox as Sandbox, logger);
  sandbox = {
    endpoints: { admin: admin.url, clusters: clusterEndpoints },
    faults,
    failover: (name) => get(name).failover(),
    setNameNodeState: (name, index, state) => get(name).setNameNodeState(index, state),
    setSafeMode: (name, on) => {
      get(name).safeMode = on;
    },
    setStartupMode: (name, on) => {
      get(name).startupMode = on;
    },
    setSecure: (name, on) => {
      get(name).security.enabled = on;
    },
    mintDelegationToken: (name, request) => {
      const cluster = get(name);
      if (request.expiresInMs !== undefined && !(request.expiresInMs >= 0)) {
        throw new SandboxError(`expiresInMs must be a number >= 0, got ${request.expiresInMs}`);
      }
      return cluster.security.mint({
        owner: request.user,
        renewer: request.renewer ?? request.user,
        service: cluster.tokenService,
        expiresInMs: request.expiresInMs,
      });
    },
    revokeDelegationTokens: (name) => get(name).security.tokens.cancelAll(),
    generateTree: (name, spec) => get(name).generateTree(spec),
    stop: async () => {
      await admin.close();
      await stopAll();
    },
  };
  logger.info({ endpoints: sandbox.endpoints }, "sandbox started");
  return sandbox;
}

function clusterSettings(name: string, o: SandboxOptions, logger: Logger, faults: FaultInjector): ClusterSettings {
  return {
    name,
    stateDir: o.stateDir,
    logger,
    faults,
    listBatchSize: positive(o.listBatchSize ?? 1000, "listBatchSize"),
    datanodeCount: positive(o.datanodesPerCluster ?? 1, "datanodesPerCluster"),
    superuser: o.superuser ?? "hdfs",
    supergroup: o.supergroup ?? "supergroup",
    staticUser: o.staticUser ?? "dr.who",
    rootPermission: o.rootPermission ?? 0o777,
    userGroups: o.userGroups ?? {},
    defaultBlockSize: o.defaultBlockSize ?? 134217728,
    defaultReplication: o.defaultReplication ?? 3,
    minBlockSize: o.minBlockSize ?? 1048576,
    closeAbortedUploads: o.closeAbortedUploads ?? true,
    advertisedHost: o.advertisedHost ?? "127.0.0.1",
    doubleDecodeDataNodePaths: o.doubleDecodeDataNodePaths ?? false,
    security: securitySettings(name, o),
    tls: o.tls?.[name],
  };
}

function securitySettings(name: string, o: SandboxOptions): SecuritySettings {
  const s = o.security ?? {};
  const enabled = s.enabled ?? false;
  return {
    enabled: enabled === true || (Array.isArray(enabled) && enabled.includes(name)),
    spnegoUser: s.spnegoUser ?? o.superuser ?? "hdfs",
    renewIntervalMs: positive(s.tokenRenewIntervalMs ?? 86_400_000, "security.tokenRenewIntervalMs"),
    maxLifetimeMs: positive(s.tokenMaxLifetimeMs ?? 604_800_000, "security.tokenMaxLifetimeMs"),
    ...(s.clock ? { clock: s.clock } : {}),
  };
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new SandboxError(`${name} must be a positive integer, got ${value}`);
  return value;
}
