// One emulated HDFS cluster: its namespace (replayed from and journalled to
// the state dir), its file bytes, an HA pair of NameNode endpoints sharing
// that namespace, its DataNode endpoints, and the cluster-wide switches
// (NameNode HA states, safe mode, startup mode, secure mode, reachability).

import { join } from "node:path";
import type { Logger } from "../../util/log.js";
import { BlockStore } from "./block-store.js";
import type { ChecksumValue } from "./checksum.js";
import { EndpointServer, type EndpointTls } from "./endpoint-server.js";
import { hdfsErrors, SandboxError } from "./errors.js";
import type { FaultInjector, ReachabilityControl, UnreachableMode } from "./faults.js";
import { NamespaceJournal } from "./journal.js";
import { parseAbsolutePath } from "./paths.js";
import { Namespace } from "./namespace.js";
import { InodeTree } from "./namespace-tree.js";
import { PermissionChecker } from "./permissions.js";
import { createNameNodeHandler } from "./namenode.js";
import { createDataNodeHandler } from "./datanode.js";
import { ClusterSecurity, type SecuritySettings } from "./security.js";

export type NameNodeState = "active" | "standby" | "observer";

export interface ClusterSettings {
  name: string;
  stateDir: string;
  logger: Logger;
  faults: FaultInjector;
  /** LISTSTATUS_BATCH page size (dfs.ls.limit). */
  listBatchSize: number;
  datanodeCount: number;
  superuser: string;
  supergroup: string;
  /** User of requests without user.name (hadoop.http.staticuser.user). */
  staticUser: string;
  rootPermission: number;
  userGroups: Readonly<Record<string, readonly string[]>>;
  defaultBlockSize: number;
  defaultReplication: number;
  minBlockSize: number;
  /** Close an upload whose client vanished with the bytes received (HdfsWriter behaviour); else keep it under lease. */
  closeAbortedUploads: boolean;
  /** Host written into redirect Locations (the DN's "registered hostname"). */
  advertisedHost: string;
  /** Reproduce HDFS-14423: DataNodes decode the path a second time (`+` → space, `%xx` again). */
  doubleDecodeDataNodePaths: boolean;
  /** Secure mode (SPNEGO stand-in, delegation tokens). */
  security: SecuritySettings;
  /** Serve every NameNode and DataNode over https with this certificate (dfs.http.policy=HTTPS_ONLY). */
  tls: EndpointTls | undefined;
}

export class EmulatedCluster implements ReachabilityControl {
  readonly namenodes: EndpointServer[] = [];
  readonly datanodes: EndpointServer[] = [];
  readonly states: NameNodeState[] = ["active", "standby"];
  safeMode = false;
  startupMode = false;
  /** Secure mode switch and the delegation-token secret manager (shared by both NameNodes and the DataNodes). */
  readonly security: ClusterSecurity;
  /** Checksums of closed files, keyed by fileId, valid while length and mtime are unchanged. */
  readonly checksumCache = new Map<number, { length: number; modificationTime: number; value: ChecksumValue }>();
  /** Uploads still being received; stop() waits for them so their final length reaches the journal. */
  private readonly uploads = new Set<Promise<unknown>>();
  private nextDataNode = 0;
  private holderSeq = 0;

  private constructor(
    readonly settings: ClusterSettings,
    readonly namespace: Namespace,
    readonly blocks: BlockStore,
    private readonly journal: NamespaceJournal,
  ) {
    const log = settings.logger.child({ cluster: settings.name });
    this.security = new ClusterSecurity(settings.security, settings.staticUser);
    const nnHandler = (index: number) => createNameNodeHandler(this, index);
    for (let i = 0; i < 2; i++) this.namenodes.push(new EndpointServer(`${settings.name}-nn${i + 1}`, nnHandler(i), log, settings.tls));
    for (let i = 0; i < settings.datanodeCount; i++) {
      this.datanodes.push(new EndpointServer(`${settings.name}-dn${i + 1}`, createDataNodeHandler(this), log, settings.tls));
    }
  }

  /** Loads the namespace from the state dir, closes files a crash left open, and starts all endpoints. */
  static async start(settings: ClusterSettings): Promise<EmulatedCluster> {
    const dir = join(settings.stateDir, settings.name);
    const log = settings.logger.child({ cluster: settings.name });
    const blocks = await BlockStore.open(join(dir, "data"), log);
    const permissions = new PermissionChecker(settings);
    const tree = new InodeTree(
      { owner: settings.superuser, group: settings.supergroup, permission: settings.rootPermission, modificationTime: Date.now(), accessTime: 0 },
      permissions,
      (file) => blocks.release(file.id),
    );
    const journal = await NamespaceJournal.open(join(dir, "namespace.journal"), log, (record) => tree.apply(record));
    for (const file of tree.filesUnderConstruction()) {
      file.length = await blocks.size(file.id);
      file.lease = null;
      log.info({ fileId: file.id, length: file.length }, "closed a file left under construction");
    }
    await journal.compact(tree.snapshot());
    tree.attachJournal(journal);
    const cluster = new EmulatedCluster(settings, new Namespace(tree), blocks, journal);
    for (const server of [...cluster.namenodes, ...cluster.datanodes]) await server.listen();
    return cluster;
  }

  get name(): string {
    return this.settings.name;
  }

  /** The `namenoderpcaddress` value: the nameservice id, as in an HA setup. */
  get nameserviceId(): string {
    return this.settings.name;
  }

  /** The service field of tokens this cluster mints (an HA nameservice's token service name). */
  get tokenService(): string {
    return `ha-hdfs:${this.nameserviceId}`;
  }

  /** Swaps the active NameNode with the (first) standby. */
  /** Namespace-only bulk creation for benchmarks (see Sandbox.generateTree); files are closed, with no bytes. */
  generateTree(spec: { root: string; jobs: number; filesPerJob: number; fileSize: number }): { files: number } {
    const user = this.settings.superuser;
    const request = { overwrite: true, permission: 0o644, blockSize: 128 * 1024 * 1024, replication: 3, holder: "generator" };
    let files = 0;
    for (let j = 0; j < spec.jobs; j++) {
      const shared = `${spec.root}/job-${j}/shared`;
      this.namespace.mkdirs(parseAbsolutePath(shared, "root"), 0o755, user);
      for (let f = 0; f < spec.filesPerJob; f++) {
        const file = this.namespace.startFile(parseAbsolutePath(`${shared}/${String(f).padStart(8, "0")}-sst`, "root"), request, user);
        this.namespace.completeFile(file, spec.fileSize);
        files++;
      }
    }
    return { files };
  }

  failover(): void {
    const active = this.states.indexOf("active");
    const standby = this.states.indexOf("standby");
    if (active < 0 || standby < 0) throw new SandboxError(`cluster ${this.name} has no active/standby pair to fail over`);
    this.states[active] = "standby";
    this.states[standby] = "active";
    this.settings.logger.info({ cluster: this.name, active: standby }, "failover");
  }

  setNameNodeState(index: number, state: NameNodeState): void {
    if (index < 0 || index >= this.states.length) throw new SandboxError(`cluster ${this.name} has no NameNode ${index}`);
    this.states[index] = state;
  }

  /** Refuses writes in safe mode the way an HA NameNode does (RetriableException wrapping SafeModeException). */
  checkNotInSafeMode(action: string, path: string): void {
    if (!this.safeMode) return;
    throw hdfsErrors.retriable(
      `org.apache.hadoop.hdfs.server.namenode.SafeModeException: ${action} ${path}. Name node is in safe mode.\n` +
        `It was turned on manually. Use "hdfs dfsadmin -safemode leave" to turn safe mode off.`,
    );
  }

  /** Next DataNode for a redirect (round robin). */
  pickDataNode(): EndpointServer {
    const dn = this.datanodes[this.nextDataNode++ % this.datanodes.length];
    if (dn === undefined) throw new SandboxError(`cluster ${this.name} has no DataNode`);
    return dn;
  }

  /** A fresh lease holder name like a DFSClient's. */
  newLeaseHolder(): string {
    return `DFSClient_NONMAPREDUCE_${process.pid}_${++this.holderSeq}`;
  }

  /** Registers an in-flight upload so stop() can let it settle. */
  trackUpload<T>(upload: Promise<T>): Promise<T> {
    this.uploads.add(upload);
    const forget = () => this.uploads.delete(upload);
    upload.then(forget, forget);
    return upload;
  }

  async setUnreachable(mode: UnreachableMode | null): Promise<void> {
    for (const server of [...this.namenodes, ...this.datanodes]) await server.setUnreachable(mode);
  }

  /** Closes every endpoint and flushes the journal. */
  async stop(): Promise<void> {
    await Promise.all([...this.namenodes, ...this.datanodes].map((s) => s.close()));
    await Promise.allSettled([...this.uploads]);
    await this.journal.close();
  }
}
