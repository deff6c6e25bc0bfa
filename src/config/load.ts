// Loading a configuration file: YAML text -> schema validation -> cross-field
// checks -> the normalized Config (secrets resolved, rewrite map derived).
// Every failure is a ConfigError naming the file, the key and the problem.

import { lookup } from "node:dns/promises";
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { CkptError, errorMessage } from "../util/errors.js";
import type { KerberosSettings } from "../webhdfs/spnego.js";
import type { TlsSettings } from "../webhdfs/types.js";
import { configSchema, s3Settings, type ParsedConfig, type SideConfig } from "./schema.js";

export class ConfigError extends CkptError {
  readonly kind = "config";
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration ${file}: ${problems.join("; ")}`);
  }
}

/** A resolved S3 side: the bucket its s3:// roots name, and how to reach it. */
export interface S3Side {
  bucket: string;
  endpoint: string | undefined;
  region: string;
  pathStyle: boolean;
  /** Resolved secrets; never logged. Absent: the AWS SDK's credential chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  conditionalWrites: boolean;
  partSize: number;
  uploadConcurrency: number;
}

export interface ClusterSide {
  /** "webhdfs" when namenodes are configured, "local" for file:/// roots, "s3" for s3://bucket/prefix roots. */
  kind: "webhdfs" | "local" | "s3";
  /** Set for an s3 side. */
  s3?: S3Side;
  name: string;
  namenodes: string[];
  /** Filesystem URI Flink uses for this cluster (e.g. hdfs://ns1; file:// for local). */
  uri: string | undefined;
  aliases: string[];
  user: string | undefined;
  doAs: string | undefined;
  /** Resolved secret; never logged. */
  delegationToken: string | undefined;
  /** delegationToken.file: the client re-reads it when it changes. */
  delegationTokenFile?: string | undefined;
  /** SPNEGO credentials: the client fetches and renews its own delegation tokens. */
  kerberos?: KerberosSettings & { renewer?: string | undefined } | undefined;
  requestTimeoutMs: number;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** PEM contents read from the configured files (undefined: no tls key). */
  tls?: TlsSettings | undefined;
}

export interface RootPair {
  /** Absolute path on the source (for a local side: a filesystem path, file:// stripped). */
  source: string;
  target: string;
}

export interface PrefixRewrite {
  from: string;
  to: string;
}

export type Config = Omit<ParsedConfig, "source" | "target" | "paths" | "rewrite"> & {
  source: ClusterSide;
  target: ClusterSide;
  paths: RootPair[];
  /** Prefix map applied to absolute paths inside published _metadata (empty: no rewrite needed). */
  rewrite: PrefixRewrite[];
  /** Where the config came from (for messages and reload). */
  file: string;
};

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  return parseConfigText(text, file, env);
}

export async function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}`));
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, ["the file must hold a YAML mapping with at least source, target and paths"]);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return normalize(result.data, file, env);
}

function formatIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      // e.g. metrics: false | {listen}: report the branch that got furthest, not "Invalid input".
      const branches = issue.errors.filter((b) => !b.every((i) => (i.code === "invalid_type" || i.code === "invalid_value") && i.path.length === 0));
      if (branches.length === 1) return formatIssues(branches[0] as z.core.$ZodIssue[], [...prefix, ...issue.path]);
    }
    const path = [...prefix, ...issue.path];
    const key = path.length > 0 ? path.map(String).join(".") : "(top level)";
    if (issue.code === "unrecognized_keys") {
      return [`${key === "(top level)" ? "" : `${key}: `}unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`];
    }
    return [`${key}: ${issue.message}`];
  });
}

async function normalize(parsed: ParsedConfig, file: string, env: NodeJS.ProcessEnv): Promise<Config> {
  const problems: string[] = [];
  const source = await normalizeSide("source", parsed.source, parsed.paths.map((p) => p.source), env, problems);
  const target = await normalizeSide("target", parsed.target, parsed.paths.map((p) => p.target), env, problems);
  const keytabs = new Set([source.kerberos?.keytab, target.kerberos?.keytab].filter((k) => k !== undefined));
  if (keytabs.size > 1) {
    problems.push("target.kerberos.keytab: differs from source.kerberos.keytab; one process reads one client keytab (put both principals in one keytab)");
  }
  const paths = parsed.paths.map((p) => ({ source: stripFileScheme(p.source), target: stripFileScheme(p.target) }));
  checkRootsDisjoint("paths[].source", paths.map((p) => p.source), problems);
  checkRootsDisjoint("paths[].target", paths.map((p) => p.target), problems);
  await checkTargetApartFromSource(source, target, paths, parsed.lease.path, problems);
  let rewrite: PrefixRewrite[] = [];
  if (parsed.rewrite !== undefined) {
    rewrite = parsed.rewrite;
    const froms = new Set<string>();
    for (const r of rewrite) {
      if (froms.has(r.from)) problems.push(`rewrite: ${r.from} is listed twice`);
      froms.add(r.from);
    }
  }
  else if (problems.length === 0) rewrite = deriveRewrite(source, target, paths, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const { source: _s, target: _t, paths: _p, rewrite: _r, ...rest } = parsed;
  return { ...rest, source, target, paths, rewrite, file };
}

async function normalizeSide(
  key: "source" | "target",
  side: SideConfig,
  roots: string[],
  env: NodeJS.ProcessEnv,
  problems: string[],
): Promise<ClusterSide> {
  const local = roots.filter((r) => r.startsWith("file://"));
  const buckets = roots.filter((r) => S3_ROOT.test(r));
  const kind = buckets.length > 0 ? "s3" : side.namenodes !== undefined ? "webhdfs" : "local";
  let s3: S3Side | undefined;
  if (kind === "s3") s3 = await normalizeS3(key, side, roots, env, problems);
  else if (side.s3 !== undefined) problems.push(`${key}.s3: set, but no paths[].${key} is an s3://bucket/prefix root`);
  if (kind === "webhdfs" && local.length > 0) {
    problems.push(`paths[].${key}: ${local[0]} is a file:// root but ${key}.namenodes is set (use HDFS paths, or drop namenodes for a local side)`);
  }
  if (kind === "local" && local.length !== roots.length) {
    problems.push(`${key}.namenodes: missing (required unless every paths[].${key} is a file:/// root)`);
  }
  let delegationToken: string | undefined;
  if (side.delegationToken !== undefined) {
    delegationToken = await readToken(`${key}.delegationToken`, side.delegationToken, env, problems);
  }
  const tls = side.tls === undefined ? undefined : await readTls(key, side.tls, problems);
  const kerberos = side.kerberos === undefined ? undefined : await kerberosOf(key, side, problems);
  if (tls !== undefined && !(side.namenodes ?? []).some((u) => u.startsWith("https:"))) {
    problems.push(`${key}.tls: set, but no ${key}.namenodes URL is https://`);
  }
  return {
    kind,
    ...(s3 ? { s3 } : {}),
    name: side.name ?? (key === "source" ? "source" : "target"),
    namenodes: side.namenodes ?? [],
    uri: kind === "local" ? "file://" : kind === "s3" ? `${side.s3?.scheme ?? "s3"}://${s3?.bucket ?? ""}` : side.uri,
    aliases: side.aliases,
    user: side.user,
    doAs: side.doAs,
    delegationToken,
    requestTimeoutMs: side.requestTimeout,
    retry: { maxAttempts: side.retry.attempts, baseDelayMs: side.retry.baseDelay, maxDelayMs: side.retry.maxDelay },
    tls,
    ...(side.delegationToken?.file !== undefined ? { delegationTokenFile: side.delegationToken.file } : {}),
    ...(kerberos !== undefined ? { kerberos } : {}),
  };
}

async function kerberosOf(key: string, side: SideConfig, problems: string[]): Promise<ClusterSide["kerberos"]> {
  const k = side.kerberos as NonNullable<SideConfig["kerberos"]>;
  if (side.delegationToken !== undefined) problems.push(`${key}.kerberos: give kerberos or delegationToken, not both (with kerberos the replicator fetches its own tokens)`);
  if (side.user !== undefined) problems.push(`${key}.user: not used with kerberos (the principal is the user; use doAs to act for another user)`);
  if (k.keytab !== undefined) {
    try {
      await access(k.keytab, constants.R_OK);
    } catch (err) {
      problems.push(`${key}.kerberos.keytab: cannot read ${k.keytab} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return {
    principal: k.principal,
    ...(k.keytab !== undefined ? { keytab: k.keytab } : {}),
    ...(k.servicePrincipal !== undefined ? { servicePrincipal: k.servicePrincipal } : {}),
    ...(k.renewer !== undefined ? { renewer: k.renewer } : {}),
  };
}

/** Reads the PEM files of `<key>.tls` and checks that OpenSSL accepts them (and that the key fits the certificate). */
async function readTls(key: string, tls: NonNullable<SideConfig["tls"]>, problems: string[]): Promise<TlsSettings | undefined> {
  const out: TlsSettings = {};
  let readable = true;
  for (const name of ["ca", "cert", "key"] as const) {
    const file = tls[name];
    if (file === undefined) continue;
    try {
      out[name] = await readFile(file, "utf8");
    } catch (err) {
      problems.push(`${key}.tls.${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      readable = false;
    }
  }
  if (tls.serverName !== undefined) out.serverName = tls.serverName;
  if (!readable) return undefined;
  for (const name of ["ca", "cert", "key"] as const) {
    const value = out[name];
    if (value === undefined) continue;
    const problem = name === "key" ? privateKeyProblem(value) : certificatesProblem(value);
    if (problem !== null) {
      problems.push(`${key}.tls.${name}: ${tls[name]} is not a usable PEM ${name === "key" ? "private key" : "certificate"} (${problem})`);
      return undefined;
    }
  }
  if (out.cert !== undefined && out.key !== undefined) {
    try {
      createSecureContext({ cert: out.cert, key: out.key });
    } catch (err) {
      problems.push(`${key}.tls.key: ${tls.key} does not belong to the certificate ${tls.cert} (${errorMessage(err)})`);
      return undefined;
    }
  }
  return out;
}

async function readToken(
  key: string,
  source: { file?: string | undefined; env?: string | undefined },
  env: NodeJS.ProcessEnv,
  problems: string[],
): Promise<string | undefined> {
  if (source.env !== undefined) {
    const value = env[source.env]?.trim();
    if (!value) problems.push(`${key}.env: environment variable ${source.env} is not set or empty`);
    return value || undefined;
  }
  try {
    const value = (await readFile(source.file ?? "", "utf8")).trim();
    if (!value) problems.push(`${key}.file: ${source.file} is empty`);
    return value || undefined;
  } catch (err) {
    problems.push(`${key}.file: cannot read ${source.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}

/** Why `pem` is not one or more PEM certificates, or null when every block parses. */
function certificatesProblem(pem: string): string | null {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "no -----BEGIN CERTIFICATE----- block";
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return errorMessage(err);
    }
  }
  return null;
}

function privateKeyProblem(pem: string): string | null {
  try {
    createPrivateKey(pem);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

const S3_ROOT = /^s3a?:\/\/([^/]+)(\/.*)?$/;

/** A root as a path of its side's storage: file:///p -> /p, s3://bucket/p -> /p (the bucket is the side's). */
function stripFileScheme(root: string): string {
  const s3 = S3_ROOT.exec(root);
  if (s3) return s3[2] === undefined || s3[2] === "/" ? "/" : s3[2].replace(/\/+$/, "");
  return root.startsWith("file://") ? root.slice("file://".length) : root;
}

async function normalizeS3(key: "source" | "target", side: SideConfig, roots: string[], env: NodeJS.ProcessEnv, problems: string[]): Promise<S3Side | undefined> {
  if (key === "source") problems.push("paths[].source: an s3:// root is not supported as a source (Flink's checkpoints are read from HDFS or a local tree)");
  if (side.namenodes !== undefined) problems.push(`${key}.namenodes: set, but paths[].${key} are s3:// roots`);
  const buckets = new Set(roots.map((r) => S3_ROOT.exec(r)?.[1] ?? `(not s3: ${r})`));
  if (buckets.size > 1) problems.push(`paths[].${key}: every root of an S3 side must be in one bucket, found ${[...buckets].join(", ")}`);
  const cfg = side.s3 ?? s3Settings.parse({});
  if (cfg.partSize < 5 * 1024 * 1024) problems.push(`${key}.s3.partSize: at least 5MiB (the S3 minimum for a multipart part)`);
  let credentials: S3Side["credentials"];
  if ((cfg.accessKeyId === undefined) !== (cfg.secretAccessKey === undefined)) {
    problems.push(`${key}.s3: give both accessKeyId and secretAccessKey, or neither (the AWS SDK's credential chain then applies)`);
  } else if (cfg.accessKeyId !== undefined && cfg.secretAccessKey !== undefined) {
    const accessKeyId = await readToken(`${key}.s3.accessKeyId`, cfg.accessKeyId, env, problems);
    const secretAccessKey = await readToken(`${key}.s3.secretAccessKey`, cfg.secretAccessKey, env, problems);
    if (accessKeyId !== undefined && secretAccessKey !== undefined) credentials = { accessKeyId, secretAccessKey };
  }
  return {
    bucket: [...buckets][0] ?? "",
    endpoint: cfg.endpoint,
    region: cfg.region,
    pathStyle: cfg.pathStyle,
    credentials,
    conditionalWrites: cfg.conditionalWrites,
    partSize: cfg.partSize,
    uploadConcurrency: cfg.uploadConcurrency,
  };
}

function checkRootsDisjoint(key: string, roots: string[], problems: string[]): void {
  for (let i = 0; i < roots.length; i++) {
    for (let j = 0; j < roots.length; j++) {
      const a = roots[i] as string;
      const b = roots[j] as string;
      if (i !== j && (a === b || b.startsWith(a === "/" ? "/" : `${a}/`)) && i < j) {
        problems.push(`${key}: roots ${a} and ${b} overlap; list each tree once`);
      }
    }
  }
}

/**
 * True when the two sides are one filesystem: both local, or a NameNode in common (host names resolved,
 * so two spellings of one host match). Equal URIs alone prove nothing: a DR setup may give both clusters
 * the same logical nameservice, each side's client config mapping it to its own NameNodes.
 */
export async function sameCluster(a: ClusterSide, b: ClusterSide): Promise<boolean> {
  if (a.kind !== b.kind) return false;
  if (a.kind === "local") return true;
  if (a.kind === "s3") return a.s3?.bucket === b.s3?.bucket && a.s3?.endpoint === b.s3?.endpoint;
  const [an, bn] = await Promise.all([nameNodeAddresses(a.namenodes), nameNodeAddresses(b.namenodes)]);
  return [...bn].some((n) => an.has(n));
}

async function nameNodeAddresses(urls: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  await Promise.all(
    urls.map(async (url) => {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        out.add(url.toLowerCase());
        return;
      }
      const port = u.port || (u.protocol === "https:" ? "443" : "80");
      const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
      out.add(`${host}:${port}`);
      try {
        const addresses = await withTimeout(lookup(host, { all: true }), 2000);
        for (const a of addresses) out.add(`${a.address === "::1" ? "127.0.0.1" : a.address}:${port}`);
      } catch {
        // unresolvable now: compared by name only
      }
    }),
  );
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timeout")), ms).unref())]);
}

function nested(a: string, b: string): boolean {
  const under = (x: string, y: string) => x === y || y === "/" || x.startsWith(`${y}/`);
  return under(a, b) || under(b, a);
}

/**
 * The replicator writes and deletes under its target roots: on the source's own cluster a target root
 * equal to, inside, or containing a source root would delete Flink's checkpoints. Refused outright.
 */
async function checkTargetApartFromSource(source: ClusterSide, target: ClusterSide, paths: RootPair[], leasePath: string | undefined, problems: string[]): Promise<void> {
  if (!(await sameCluster(source, target))) return;
  paths.forEach((pair, i) => {
    for (const s of paths) {
      if (nested(pair.target, s.source)) {
        problems.push(
          `paths[${i}].target: ${pair.target} ${pair.target === s.source ? "is" : "overlaps"} the source root ${s.source} on the same cluster; the replicator deletes under its target roots, so it must be a separate tree`,
        );
      }
    }
  });
  if (leasePath !== undefined) {
    for (const s of paths) {
      if (nested(leasePath, s.source)) problems.push(`lease.path: ${leasePath} is under the source root ${s.source} on the same cluster; the source is never written`);
    }
  }
}

/**
 * All the ways Flink may spell an absolute path under `root` on this side: the configured URI and
 * aliases (hdfs://ns1/root), the authority-less forms Flink's Path produces (hdfs:/root, hdfs:///root)
 * and, for a local side, file:/root and file:///root.
 */
export function pathSpellings(side: ClusterSide, root: string): string[] {
  const schemes = new Set<string>([side.kind === "local" ? "file" : "hdfs"]);
  const spellings = new Set<string>();
  for (const uri of [side.uri, ...side.aliases]) {
    if (uri === undefined) continue;
    const scheme = uri.slice(0, uri.indexOf(":"));
    schemes.add(scheme);
    if (uri !== `${scheme}://`) spellings.add(`${uri}${root}`);
  }
  spellings.add(root); // scheme-less absolute paths resolve against the default filesystem
  for (const scheme of schemes) {
    spellings.add(`${scheme}:${root}`);
    spellings.add(`${scheme}://${root}`);
  }
  return [...spellings];
}

function deriveRewrite(source: ClusterSide, target: ClusterSide, paths: RootPair[], problems: string[]): PrefixRewrite[] {
  const sameCluster = source.uri === target.uri;
  const map: PrefixRewrite[] = [];
  for (const pair of paths) {
    if (sameCluster && pair.source === pair.target) continue;
    if (target.uri === undefined) {
      problems.push(
        `target.uri: required to rewrite absolute paths in _metadata from ${pair.source} to ${pair.target} (e.g. hdfs://ns2), or give an explicit rewrite map`,
      );
      return [];
    }
    const to = target.kind === "local" ? `file:${pair.target}` : `${target.uri}${pair.target}`;
    for (const from of pathSpellings(source, pair.source)) map.push({ from, to });
  }
  return map;
}
