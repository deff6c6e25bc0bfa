// Building the Storage for one configured side: one line per backend.

import type { ClusterSide } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { LocalStorage } from "./local.js";
import { createS3Storage } from "./s3.js";
import type { Storage } from "./types.js";
import { createWebHdfsClient, WebHdfsStorage } from "./webhdfs.js";

export interface StorageOptions {
  /** The WebHDFS client switched to another NameNode of this side's cluster (see WebHdfsClientOptions.onFailover). */
  onFailover?: (e: { cluster: string; from: string; to: string }) => void;
}

export function createStorage(side: ClusterSide, logger: Logger, o: StorageOptions = {}): Storage {
  if (side.kind === "local") return new LocalStorage(side.name);
  if (side.kind === "s3") return createS3Storage(side);
  return new WebHdfsStorage(createWebHdfsClient(side, logger, {}, o));
}
