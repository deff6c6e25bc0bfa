// Building the Storage for one configured side: one line per backend.

import type { ClusterSide } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { WebHdfsClient } from "../webhdfs/index.js";
import { LocalStorage } from "./local.js";
import { createS3Storage } from "./s3.js";
import type { Storage } from "./types.js";
import { connectionFor, WebHdfsStorage } from "./webhdfs.js";

export function createStorage(side: ClusterSide, logger: Logger): Storage {
  if (side.kind === "local") return new LocalStorage(side.name);
  if (side.kind === "s3") return createS3Storage(side);
  return new WebHdfsStorage(new WebHdfsClient(connectionFor(side), { logger }));
}
