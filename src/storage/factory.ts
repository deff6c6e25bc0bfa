// Building the Storage for one configured side (WebHDFS cluster or local tree).

import type { ClusterSide } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { GssNegotiator, WebHdfsClient, type ClusterConnection } from "../webhdfs/index.js";
import { LocalStorage } from "./local.js";
import type { Storage } from "./types.js";
import { WebHdfsStorage } from "./webhdfs.js";

export interface StorageOptions {
  /** The WebHDFS client switched to another NameNode of this side's cluster (see WebHdfsClientOptions.onFailover). */
  onFailover?: (e: { cluster: string; from: string; to: string }) => void;
}

export function createStorage(side: ClusterSide, logger: Logger, o: StorageOptions = {}): Storage {
  if (side.kind === "local") return new LocalStorage(side.name);
  return new WebHdfsStorage(createWebHdfsClient(side, logger, {}, o));
}

/** The WebHDFS client of a configured side: its connection, TLS, token file or Kerberos (SPNEGO) credentials. */
export function createWebHdfsClient(side: ClusterSide, logger?: Logger, overrides: Partial<ClusterConnection> = {}, o: StorageOptions = {}): WebHdfsClient {
  const negotiator = side.kerberos === undefined ? undefined : new GssNegotiator(side.kerberos);
  return new WebHdfsClient(clusterConnection(side, overrides), {
    ...(logger ? { logger } : {}),
    ...(negotiator ? { negotiator } : {}),
    ...(o.onFailover ? { onFailover: o.onFailover } : {}),
  });
}

/** How the WebHDFS client reaches a configured side (all its NameNodes, or `overrides` such as one of them). */
export function clusterConnection(side: ClusterSide, overrides: Partial<ClusterConnection> = {}): ClusterConnection {
  return {
    name: side.name,
    namenodes: side.namenodes,
    ...(side.user ? { user: side.user } : {}),
    ...(side.doAs ? { doAs: side.doAs } : {}),
    ...(side.delegationToken ? { delegationToken: side.delegationToken } : {}),
    ...(side.delegationTokenFile ? { delegationTokenFile: side.delegationTokenFile } : {}),
    ...(side.kerberos?.renewer ? { tokenRenewer: side.kerberos.renewer } : {}),
    ...(side.tls ? { tls: side.tls } : {}),
    requestTimeoutMs: side.requestTimeoutMs,
    retry: side.retry,
    ...overrides,
  };
}
