// Reading a _metadata named by an hdfs:// or webhdfs:// URI for `inspect`:
// with --config the URI is matched against the configured clusters' spellings;
// with --namenode the given NameNodes are used; a webhdfs://host:port URI
// names its NameNode itself.

import { loadConfigFile } from "../config/load.js";
import type { MetadataSource } from "../flink/index.js";
import { ClusterLocator, parseLocation } from "../replication/locations.js";
import { createStorage } from "../storage/factory.js";
import { readSmallFile, type Storage } from "../storage/types.js";
import { webhdfsSide } from "../storage/webhdfs-backend.js";
import { UsageError } from "../util/errors.js";
import { silentLogger } from "../util/log.js";

const MAX_BYTES = 256 * 1024 * 1024;

export function isRemoteLocation(location: string): boolean {
  return /^(hdfs|webhdfs|swebhdfs):\/\//i.test(location);
}

export interface RemoteOptions {
  config?: string | undefined;
  namenode?: string[] | undefined;
  user?: string | undefined;
}

export function remoteMetadataSource(o: RemoteOptions): MetadataSource {
  return async (location) => {
    const { storage, path } = await resolveRemote(location, o);
    try {
      return await readSmallFile(storage, path, MAX_BYTES);
    } finally {
      storage.close();
    }
  };
}

async function resolveRemote(location: string, o: RemoteOptions): Promise<{ storage: Storage; path: string }> {
  const parsed = parseLocation(location);
  if (parsed === null || parsed.scheme === null) throw new UsageError(`${location} is not an hdfs:// or webhdfs:// URI`);
  if (o.config !== undefined) {
    const config = await loadConfigFile(o.config);
    for (const side of [config.source, config.target]) {
      const path = new ClusterLocator(side).pathOf(location);
      if (path !== null) return { storage: createStorage(side, silentLogger), path };
    }
    throw new UsageError(`${location} names neither the source nor the target cluster of ${o.config} (check uri and aliases)`);
  }
  let namenodes = o.namenode ?? [];
  if (namenodes.length === 0 && parsed.scheme !== "hdfs") {
    namenodes = [`${parsed.scheme === "swebhdfs" ? "https" : "http"}://${parsed.authority}`];
  }
  if (namenodes.length === 0) throw new UsageError(`reading ${location} needs --namenode URL (repeatable) or --config FILE`);
  return { storage: createStorage(webhdfsSide({ name: parsed.authority || "hdfs", namenodes, user: o.user }), silentLogger), path: parsed.path };
}
