// The backend port's registration side: what one storage backend declares about
// itself so that loading the configuration, spelling Flink's paths, probing a
// side and building its Storage need no per-backend branch anywhere else. A
// backend is one module exporting a BackendDefinition (its settings keys and
// their schema, which roots it serves, how it resolves and checks its settings,
// how Flink spells its paths, and its Storage factory); backends.ts lists them.

import type { z } from "zod";
import type { Logger } from "../util/log.js";
import type { StorageError } from "./errors.js";
import type { Storage } from "./types.js";

/** One configured side (source or target), resolved: what every layer above may read of it. */
export interface ClusterSide {
  /** The kind of the backend that serves this side ("webhdfs", "local", "s3"...). */
  kind: string;
  /** The backend that serves this side (its Storage factory, path spelling, probe). */
  backend: BackendDefinition;
  /** Label in logs and metrics. */
  name: string;
  /** Filesystem URI Flink uses for this side's paths (hdfs://ns1, file://, s3://bucket); undefined when not configured. */
  uri: string | undefined;
  /** Other spellings of the same filesystem in Flink's paths (hdfs://nn1.example.com:8020). */
  aliases: string[];
  requestTimeoutMs: number;
  /** Retries of one request on transient failures. */
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** The backend's own resolved settings (what its resolve() returned; secrets included, never logged). */
  settings: unknown;
}

/** The keys every side has, whatever its backend (config/schema.ts). */
export interface CommonSideSettings {
  name?: string | undefined;
  requestTimeout: number;
  retry: { attempts: number; baseDelay: number; maxDelay: number };
}

export interface ResolveContext<Raw> {
  /** The side's key in the file, for problems ("target.s3.partSize: ..."). */
  key: "source" | "target";
  /** The side's settings as the schema parsed them: the common keys and this backend's own. */
  raw: Raw & CommonSideSettings;
  /** The side's configured roots (paths[].<key>), as written. */
  roots: string[];
  env: NodeJS.ProcessEnv;
  /** Where problems go; each names its key. A resolve that records one may return anything. */
  problems: string[];
}

export interface ResolvedSettings<S> {
  uri: string | undefined;
  aliases: string[];
  settings: S;
}

/** One server endpoint of a side and whether it answers (check-config). */
export interface EndpointProbe {
  url: string;
  state: "active" | "standby" | "unreachable" | "error";
  error?: StorageError;
}

export interface StorageOptions {
  /** The side's client switched to another server of the same cluster (HA failover). */
  onFailover?: (e: { cluster: string; from: string; to: string }) => void;
}

export interface BackendDefinition<Shape extends z.ZodRawShape = z.ZodRawShape, S = unknown> {
  readonly kind: string;
  /** How check-config names a side of this backend ("local filesystem", "S3-compatible object store"). */
  readonly label: string;
  /** The keys this backend adds to a side, with their schema (validated with the rest of the file). */
  readonly settings: Shape;
  /** The form of the roots it serves, for messages ("s3://bucket/prefix", "file:///path"). */
  readonly rootForm: string;
  /** The scheme of this side's paths in Flink when its URI names none (hdfs, file, s3). */
  readonly scheme: string;
  /** This backend's files are on this host's filesystem: the daemon watches such a source between scans. */
  readonly localFiles: boolean;
  /** Whether this backend serves a side with these settings and roots (backends are asked in order; the first that claims serves). */
  claims(raw: Readonly<Record<string, unknown>>, roots: readonly string[]): boolean;
  /** A configured root as a path of this backend's storage (file:///p -> /p, s3://bucket/p -> /p). */
  rootPath(root: string): string;
  /** Checks and resolves the side's settings (reads secrets and certificates); problems name their keys. */
  resolve(ctx: ResolveContext<z.output<z.ZodObject<Shape>>>): Promise<ResolvedSettings<S>>;
  /** Whether two sides of this backend are one filesystem (a target must then stay apart from the source). */
  sameFilesystem(a: ClusterSide, b: ClusterSide): Promise<boolean>;
  /** The side's Storage. */
  create(side: ClusterSide, logger: Logger, o: StorageOptions): Storage;
  /** Asks each server endpoint of the side, once, whether it answers (check-config); absent: nothing to ask. */
  probe?(side: ClusterSide): Promise<EndpointProbe[]>;
  /** Checks that concern every side of this backend at once (e.g. one Kerberos keytab per process). */
  checkTogether?(sides: ClusterSide[], problems: string[]): void;
}

/** Declares a backend with its settings typed; the registry (factory.ts) holds it as a plain BackendDefinition. */
export function defineBackend<Shape extends z.ZodRawShape, S>(b: BackendDefinition<Shape, S>): BackendDefinition {
  return b as unknown as BackendDefinition;
}

/** A path of a side as a URI Flink opens (hdfs://ns1/p, file:///p, s3://bucket/p): the side's URI, or its backend's bare scheme. */
export function flinkUri(side: ClusterSide, path: string): string {
  return `${side.uri ?? `${side.backend.scheme}://`}${path}`;
}

/** A side's resolved settings, read by the backend that made them (it alone knows their type). */
export function settingsOf<S>(side: ClusterSide, kind: string): S {
  if (side.kind !== kind) throw new Error(`${side.name}: a ${side.kind} side, not a ${kind} one`);
  return side.settings as S;
}
