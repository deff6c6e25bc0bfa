// Storage over WebHDFS: adapts WebHdfsClient to the storage port. The only place
// above src/webhdfs/ that knows HDFS: its capabilities, and how a WebHdfsError
// (Java exception class, HTTP status, failure kind) becomes a StorageError reason.

import type { Readable } from "node:stream";
import {
  checksumHex,
  GssNegotiator,
  HdfsPathError,
  isAlreadyExists,
  isNotFound,
  isPermissionDenied,
  isRetriable,
  isStandby,
  WebHdfsClient,
  WebHdfsError,
  type FileStatus,
  type ClusterConnection,
} from "../webhdfs/index.js";
import { settingsOf, type ClusterSide, type EndpointProbe } from "./backend.js";
import { StorageError, type StorageReason } from "./errors.js";
import type { WebHdfsSideSettings } from "./webhdfs-backend.js";
import type { Logger } from "../util/log.js";
import type { Entry, IoOptions, Storage, StorageCapabilities, StorageSecurity, WriteOptions } from "./types.js";

/** HDFS: atomic rename, exclusive CREATE, directory mtimes, MD5-of-CRC checksums that depend on the block size. */
export const WEBHDFS_CAPABILITIES: StorageCapabilities = Object.freeze({
  atomicRename: true,
  atomicWrite: false,
  exclusiveCreate: true,
  conditionalWrite: false,
  directoryMtimes: true,
  listedMtimes: true,
  checksum: "hdfs-file-checksum",
  blockSize: true,
});

const ALREADY_BEING_CREATED = "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException";

export class WebHdfsStorage implements Storage {
  readonly kind = "webhdfs" as const;
  readonly capabilities = WEBHDFS_CAPABILITIES;
  readonly name: string;

  constructor(readonly client: WebHdfsClient) {
    this.name = client.name;
  }

  private async call<T>(operation: string, path: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toStorageError(this.name, operation, path, err);
    }
  }

  stat(path: string, o?: IoOptions): Promise<Entry | null> {
    return this.call("stat", path, async () => {
      const st = await this.client.stat(path, o);
      return st === null ? null : toEntry(path.slice(path.lastIndexOf("/") + 1), st);
    });
  }

  list(path: string, o?: IoOptions): Promise<Entry[] | null> {
    return this.call("list", path, async () => {
      const out: Entry[] = [];
      try {
        for await (const page of this.client.listStatusBatches(path, o)) {
          for (const st of page) out.push(toEntry(st.pathSuffix, st));
        }
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
      return out;
    });
  }

  read(path: string, o?: IoOptions & { length?: number }): Promise<Readable> {
    // The body's failures come typed as StorageErrors straight from the client's read stream (no extra stream per file).
    return this.call("read", path, () => this.client.open(path, { ...o, mapStreamError: (err) => toStorageError(this.name, "read", path, err) as Error }));
  }

  write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    // A body that fails while the NameNode step is still under way has nobody piping it yet: a listener
    // keeps that from being an unhandled 'error'; the upload then finds the body destroyed and fails.
    const ignore = () => {};
    if (!(body instanceof Uint8Array)) body.on("error", ignore);
    return this.call("write", path, async () => {
      try {
        await this.create(path, body, o);
      } finally {
        if (!(body instanceof Uint8Array)) body.off("error", ignore);
      }
    });
  }

  private async create(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions): Promise<void> {
    {
      await this.client.create(path, body, {
        overwrite: o.overwrite ?? false,
        ...(o.blockSize ? { blockSize: o.blockSize } : {}),
        ...(o.permission ? { permission: o.permission } : {}),
        ...(o.replication ? { replication: o.replication } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.guard ? { guard: o.guard } : {}),
        ...(o.control ? { control: true } : {}),
      });
      if (o.mtime !== undefined) await this.client.setTimes(path, { modificationTime: o.mtime, ...ioOf(o) });
    }
  }

  mkdirs(path: string, o?: IoOptions): Promise<void> {
    return this.call("mkdirs", path, () => this.client.mkdirs(path, o));
  }

  rename(src: string, dst: string, o: IoOptions & { overwrite?: boolean } = {}): Promise<void> {
    return this.call("rename", `${src} -> ${dst}`, () => this.client.rename(src, dst, o));
  }

  delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    return this.call("delete", path, () => this.client.delete(path, o));
  }

  checksum(path: string, o?: IoOptions): Promise<string | null> {
    return this.call("checksum", path, async () => {
      const c = await this.client.getFileChecksum(path, o);
      return `${c.algorithm}:${checksumHex(c)}`;
    });
  }

  close(): void {
    this.client.close();
  }

  security(): StorageSecurity {
    return { credentialProblem: this.client.credentialProblem(), token: this.client.tokenStatus() };
  }

  release(): Promise<void> {
    return this.client.release();
  }
}

function ioOf(o: IoOptions | undefined): IoOptions {
  return { ...(o?.signal ? { signal: o.signal } : {}), ...(o?.guard ? { guard: o.guard } : {}), ...(o?.control ? { control: true } : {}) };
}

/** The reason a WebHDFS failure means for the engine. */
export function webHdfsReason(err: WebHdfsError): StorageReason {
  if (isNotFound(err)) return "not-found";
  if (isAlreadyExists(err) || err.javaClassName === ALREADY_BEING_CREATED) return "exists";
  if (isPermissionDenied(err)) return "denied";
  if (err.failure === "aborted") return "aborted";
  if (err.failure === "network" || err.failure === "timeout") return "unreachable";
  if (isRetriable(err)) return "transient";
  if (err.status === 400) return "fatal"; // the NameNode refused the request as invalid
  return "failed";
}

/** What an operator should check, where the typed error allows a guess. */
function hintFor(err: WebHdfsError): string | undefined {
  if (err.failure === "network" || err.failure === "timeout") return "every NameNode was tried";
  if (err.step === "namenode" && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 404 && !isPermissionDenied(err)) {
    // A DataNode (or any other HTTP server) rejects NameNode operations such as LISTSTATUS/GETFILESTATUS.
    return `is ${err.namenode ?? "it"} the HTTP address of a NameNode? a DataNode or another server rejects NameNode operations`;
  }
  if (err.failure === "unexpected-response" || err.failure === "http-status") return `is ${err.namenode ?? "it"} the HTTP address of a NameNode?`;
  return undefined;
}

/** A WebHDFS failure as the port's StorageError; anything that is not the client's (a body stream's error) passes through. */
export function toStorageError(storage: string, operation: string, path: string, err: unknown): unknown {
  if (err instanceof StorageError) return err;
  if (err instanceof HdfsPathError) return new StorageError({ reason: "fatal", storage, operation, path, message: err.message, cause: err });
  if (!(err instanceof WebHdfsError)) return err;
  const hint = hintFor(err);
  const unsettled = err.unsettled === true ? { unsettled: true } : {};
  return new StorageError({ reason: webHdfsReason(err), storage, operation, path, message: err.message, ...(hint ? { hint } : {}), ...unsettled, cause: err });
}

function toEntry(name: string, st: FileStatus): Entry {
  return {
    name,
    type: st.type === "DIRECTORY" ? "dir" : "file",
    length: st.length,
    mtime: st.modificationTime,
    ...(st.blockSize ? { blockSize: st.blockSize } : {}),
    ...(st.permission ? { permission: st.permission } : {}),
    ...(st.type !== "DIRECTORY" && st.replication ? { replication: st.replication } : {}),
  };
}

/** The connection of a configured WebHDFS side (the factory and the NameNode probe share them). */
export function connectionFor(side: ClusterSide, overrides: Partial<ClusterConnection> = {}): ClusterConnection {
  const w = settingsOf<WebHdfsSideSettings>(side, "webhdfs");
  return {
    name: side.name,
    namenodes: w.namenodes,
    ...(w.user ? { user: w.user } : {}),
    ...(w.doAs ? { doAs: w.doAs } : {}),
    ...(w.delegationToken ? { delegationToken: w.delegationToken } : {}),
    ...(w.delegationTokenFile ? { delegationTokenFile: w.delegationTokenFile } : {}),
    ...(w.kerberos?.renewer ? { tokenRenewer: w.kerberos.renewer } : {}),
    ...(w.tls ? { tls: w.tls } : {}),
    requestTimeoutMs: side.requestTimeoutMs,
    retry: side.retry,
    ...overrides,
  };
}

/** The WebHDFS client of a configured side: its connection, TLS, token file or Kerberos (SPNEGO) credentials. */
export function createWebHdfsClient(
  side: ClusterSide,
  logger?: Logger,
  overrides: Partial<ClusterConnection> = {},
  o: { onFailover?: (e: { cluster: string; from: string; to: string }) => void } = {},
): WebHdfsClient {
  const kerberos = settingsOf<WebHdfsSideSettings>(side, "webhdfs").kerberos;
  const negotiator = kerberos === undefined ? undefined : new GssNegotiator(kerberos);
  return new WebHdfsClient(connectionFor(side, overrides), {
    ...(logger ? { logger } : {}),
    ...(negotiator ? { negotiator } : {}),
    ...(o.onFailover ? { onFailover: o.onFailover } : {}),
  });
}

/** Asks each NameNode of a side, once and without failing over, whether it is the active one (check-config). */
export async function probeNameNodes(side: ClusterSide): Promise<EndpointProbe[]> {
  return Promise.all(
    settingsOf<WebHdfsSideSettings>(side, "webhdfs").namenodes.map(async (url): Promise<EndpointProbe> => {
      const client = createWebHdfsClient(side, undefined, { namenodes: [url], retry: { maxAttempts: 1 } });
      try {
        await client.stat("/");
        return { url, state: "active" };
      } catch (err) {
        if (isStandby(err)) return { url, state: "standby" };
        const typed = toStorageError(side.name, "stat", "/", err);
        if (!(typed instanceof StorageError)) throw err;
        return { url, state: typed.reason === "unreachable" ? "unreachable" : "error", error: typed };
      } finally {
        await client.release();
        client.close();
      }
    }),
  );
}
