// One side of the replication (source or target) as everything above the
// storage port uses it: the side's storage, the locator that maps the locations
// a _metadata names to paths there, its configured roots, the metadata catalog
// and the tree scanner. Built by one function (`bundleSide`) for the engine, the
// daemon, `verify`, `latest`, `resync` and the benchmarks alike; `openSides`
// also builds the two storages from the config (storage/factory.ts).

import type { ClusterSide, Config } from "../config/load.js";
import { createStorage, type StorageOptions } from "../storage/factory.js";
import type { ReadOnlyStorage, Storage } from "../storage/types.js";
import type { Logger } from "../util/log.js";
import { MetadataCatalog } from "./catalog.js";
import { ClusterLocator } from "./locations.js";
import { TreeScanner } from "./scan.js";

export type SideName = "source" | "target";

export interface ReplicationSide<S extends ReadOnlyStorage = ReadOnlyStorage> {
  readonly name: SideName;
  /** The configured cluster (or bucket, or local directory) of this side. */
  readonly cluster: ClusterSide;
  readonly storage: S;
  readonly locator: ClusterLocator;
  /** This side's configured roots, in config order (one per path pair). */
  readonly roots: string[];
  readonly catalog: MetadataCatalog;
  readonly scanner: TreeScanner;
  /** The filesystem URI of a path on this side, as Flink names it. */
  uriOf(path: string): string;
}

export interface BundleOptions {
  /**
   * A long-lived side scanned cycle after cycle (the engine): full rescans every scan.fullRescanEvery
   * scans, and on the source a listed _metadata not known complete is stat'ed afresh. Otherwise a
   * one-shot side (verify, latest): every scan is full, listings are taken as they are.
   */
  live?: boolean;
}

/**
 * The bundle of one side over `storage`. On the target a _metadata that does not parse is never "being
 * written" (it is written atomically there): corrupt at once; on the source after scan.corruptAfter.
 */
export function bundleSide<S extends ReadOnlyStorage>(config: Config, name: SideName, storage: S, logger: Logger, o: BundleOptions = {}): ReplicationSide<S> {
  const cluster = config[name];
  const locator = new ClusterLocator(cluster);
  const uriOf = (path: string) => locator.uriOf(path, cluster);
  const catalog = new MetadataCatalog({
    storage,
    maxBytes: config.scan.maxMetadataSize,
    corruptAfterMs: name === "target" ? 0 : config.scan.corruptAfter,
    dirUri: uriOf,
    logger,
  });
  const roots = config.paths.map((p) => p[name]);
  const scanner = new TreeScanner({
    storage,
    roots,
    listConcurrency: config.scan.listConcurrency,
    fullRescanEvery: o.live ? config.scan.fullRescanEvery : 1,
    ...(o.live && name === "source" ? { refreshMetadata: (dir, listed) => !catalog.isKnownComplete(dir, listed) } : {}),
  });
  return { name, cluster, storage, locator, roots, catalog, scanner, uriOf };
}

export interface Sides {
  source: ReplicationSide<Storage>;
  target: ReplicationSide<Storage>;
  /** Closes both storages. */
  close(): void;
}

/** Both sides of `config`, their storages built by the storage factory (one-shot bundles; see BundleOptions). */
export function openSides(config: Config, logger: Logger, o: StorageOptions = {}): Sides {
  const source = bundleSide(config, "source", createStorage(config.source, logger, o), logger);
  const target = bundleSide(config, "target", createStorage(config.target, logger, o), logger);
  return {
    source,
    target,
    close() {
      source.storage.close();
      target.storage.close();
    },
  };
}
