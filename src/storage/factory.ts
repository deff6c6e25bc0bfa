// The registry of storage backends (one line each) and the Storage of a
// configured side. A new backend is one module exporting its BackendDefinition
// (storage/backend.ts) and its line here: the configuration's side schema,
// its checks, Flink's path spellings, check-config's probe and the Storage
// factory all come from the definitions listed.

import type { Logger } from "../util/log.js";
import type { BackendDefinition, ClusterSide, StorageOptions } from "./backend.js";
import { localBackend } from "./local.js";
import { s3Backend } from "./s3-backend.js";
import type { Storage } from "./types.js";
import { webhdfsBackend } from "./webhdfs-backend.js";

export type { StorageOptions } from "./backend.js";

/** The backends, in the order they are asked to claim a side (the first that claims serves it). */
export const BACKENDS: readonly BackendDefinition[] = [s3Backend, webhdfsBackend, localBackend];

export function createStorage(side: ClusterSide, logger: Logger, o: StorageOptions = {}): Storage {
  return side.backend.create(side, logger, o);
}
