// Building the Storage for one configured side (WebHDFS cluster or local tree).

import type { ClusterSide } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { WebHdfsClient } from "../webhdfs/index.js";
import { LocalStorage } from "./local.js";
import type { Storage } from "./types.js";
import { WebHdfsStorage } from "./webhdfs.js";

export interface StorageOptions {
  /** The WebHDFS client switched to another NameNode of this side's cluster (see WebHdfsClientOptions.onFailover). */
  onFailover?: (e: { cluster: string; from: string; to: string }) => void;
}

export function createStorage(side: ClusterSide, logger: Logger, o: StorageOptions = {}): Storage {
  if (side.kind === "local") return new LocalStorage(side.name);
  const client = new WebHdfsClient(
    {
      name: side.name,
      namenodes: side.namenodes,
      ...(side.user ? { user: side.user } : {}),
      ...(side.doAs ? { doAs: side.doAs } : {}),
      ...(side.delegationToken ? { delegationToken: side.delegationToken } : {}),
      requestTimeoutMs: side.requestTimeoutMs,
      retry: side.retry,
    },
    { logger, ...(o.onFailover ? { onFailover: o.onFailover } : {}) },
  );
  return new WebHdfsStorage(client);
}
