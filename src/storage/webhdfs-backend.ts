// The WebHDFS backend's definition: the side settings an HDFS cluster needs
// (NameNode URLs, the filesystem URI Flink spells and its aliases, user, doAs,
// delegation token, Kerberos, TLS), how they are checked and resolved (PEM
// files and keytabs read at load), when two sides are one cluster, how Flink
// spells its paths, the NameNode probe and the Storage (storage/webhdfs.ts).

import { lookup } from "node:dns/promises";
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { z } from "zod";
import { errorMessage } from "../util/errors.js";
import { readSecret, secretSource } from "../util/settings.js";
import type { KerberosSettings } from "../webhdfs/spnego.js";
import type { TlsSettings } from "../webhdfs/types.js";
import { defineBackend, settingsOf, type ClusterSide } from "./backend.js";
import { createWebHdfsClient, probeNameNodes, WebHdfsStorage } from "./webhdfs.js";

export const WEBHDFS_KIND = "webhdfs";

/** A WebHDFS side's resolved settings (secrets included; never logged). */
export interface WebHdfsSideSettings {
  namenodes: string[];
  user: string | undefined;
  doAs: string | undefined;
  /** Resolved secret. */
  delegationToken: string | undefined;
  /** delegationToken.file: the client re-reads it when it changes. */
  delegationTokenFile?: string | undefined;
  /** SPNEGO credentials: the client fetches and renews its own delegation tokens. */
  kerberos?: (KerberosSettings & { renewer?: string | undefined }) | undefined;
  /** PEM contents read from the configured files (undefined: no tls key). */
  tls?: TlsSettings | undefined;
}

/** The WebHDFS settings of a side served by this backend. */
export function webhdfsSettings(side: ClusterSide): WebHdfsSideSettings {
  return settingsOf<WebHdfsSideSettings>(side, WEBHDFS_KIND);
}

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL of a NameNode's HTTP port" });

const filesystemUri = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:\/\/[^/]*\/?$/i, "must be a filesystem URI such as hdfs://ns1 or hdfs://namenode:8020 (no path)")
  .transform((v) => v.replace(/\/$/, ""));

const userName = z.string().regex(/^[A-Za-z_][A-Za-z0-9._-]*[$]?$/, "is not a valid HDFS user name");

/** TLS for https:// NameNodes and DataNodes: PEM files (read at load), and the name certificates are checked against. */
const tlsSettings = z
  .strictObject({
    /** CA bundle (PEM) that signs the cluster's certificates; replaces the system trust store for this side. */
    ca: z.string().min(1).optional(),
    /** Client certificate (PEM) and its unencrypted private key (PEM), for servers that require one. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** Host name the server certificates must name (and SNI), instead of the URL's host. */
    serverName: z.string().regex(/^[A-Za-z0-9.-]+$/, "must be a host name").optional(),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), "give both cert and key, or neither");

const principal = z.string().regex(/^[^@\s]+@[^@\s]+$/, "must be a Kerberos principal name@REALM (or HTTP@host for a service)");

/** SPNEGO with the daemon's own Kerberos identity; delegation tokens are then fetched, renewed and replaced. */
const kerberosSettings = z.strictObject({
  /** The daemon's principal, e.g. replicator/host.example.com@EXAMPLE.COM. */
  principal,
  /** Keytab holding the principal's keys (no kinit); absent: the ticket cache (KRB5CCNAME). */
  keytab: z.string().min(1).optional(),
  /** The NameNodes' HTTP service in GSS form HTTP@host; default HTTP@<host of each NameNode URL>. */
  servicePrincipal: principal.optional(),
  /** Renewer named in GETDELEGATIONTOKEN; default the principal. */
  renewer: z.string().min(1).optional(),
});

const settings = {
  /** NameNode HTTP URLs (HA: list all of them). */
  namenodes: z.array(httpUrl).min(1, "list at least one NameNode URL").optional(),
  /** The filesystem URI Flink writes in its paths for this cluster, e.g. hdfs://ns1. */
  uri: filesystemUri.optional(),
  /** Other spellings of the same cluster in Flink paths, e.g. hdfs://nn1.example.com:8020. */
  aliases: z.array(filesystemUri).optional(),
  user: userName.optional(),
  doAs: userName.optional(),
  delegationToken: secretSource.optional(),
  kerberos: kerberosSettings.optional(),
  tls: tlsSettings.optional(),
};

export const webhdfsBackend = defineBackend({
  kind: WEBHDFS_KIND,
  label: "HDFS over WebHDFS",
  settings,
  scheme: "hdfs",
  rootForm: "/path (with namenodes)",
  localFiles: false,
  // A side with a root that is a plain path (other roots, or missing namenodes, are then reported).
  claims: (_raw, roots) => roots.some((r) => r.startsWith("/")),
  rootPath: (root) => root,
  async resolve({ key, raw, roots, env, problems }) {
    const other = roots.find((r) => !r.startsWith("/"));
    if (raw.namenodes === undefined) problems.push(`${key}.namenodes: missing (required unless every paths[].${key} is a file:/// root)`);
    else if (other?.startsWith("file://")) {
      problems.push(`paths[].${key}: ${other} is a file:// root but ${key}.namenodes is set (use HDFS paths, or drop namenodes for a local side)`);
    } else if (other !== undefined) problems.push(`paths[].${key}: ${other} is not an HDFS path (/...) of the cluster ${key}.namenodes name`);
    const delegationToken = raw.delegationToken === undefined ? undefined : await readSecret(`${key}.delegationToken`, raw.delegationToken, env, problems);
    const tls = raw.tls === undefined ? undefined : await readTls(key, raw.tls, problems);
    const kerberos = raw.kerberos === undefined ? undefined : await kerberosOf(key, raw, problems);
    if (raw.tls !== undefined && !(raw.namenodes ?? []).some((u) => u.startsWith("https:"))) {
      problems.push(`${key}.tls: set, but no ${key}.namenodes URL is https://`);
    }
    const resolved: WebHdfsSideSettings = {
      namenodes: raw.namenodes ?? [],
      user: raw.user,
      doAs: raw.doAs,
      delegationToken,
      tls,
      ...(raw.delegationToken?.file !== undefined ? { delegationTokenFile: raw.delegationToken.file } : {}),
      ...(kerberos !== undefined ? { kerberos } : {}),
    };
    return { uri: raw.uri, aliases: raw.aliases ?? [], settings: resolved };
  },
  /**
   * A NameNode in common (host names resolved, so two spellings of one host match). Equal URIs alone prove
   * nothing: a DR setup may give both clusters the same logical nameservice, each side's client config
   * mapping it to its own NameNodes.
   */
  async sameFilesystem(a, b) {
    const [an, bn] = await Promise.all([nameNodeAddresses(webhdfsSettings(a).namenodes), nameNodeAddresses(webhdfsSettings(b).namenodes)]);
    return [...bn].some((n) => an.has(n));
  },
  create: (side, logger, o) => new WebHdfsStorage(createWebHdfsClient(side, logger, {}, o)),
  probe: (side) => probeNameNodes(side),
  checkTogether(sides, problems) {
    const keytabs = new Set(sides.map((s) => webhdfsSettings(s).kerberos?.keytab).filter((k) => k !== undefined));
    if (keytabs.size > 1) {
      problems.push("target.kerberos.keytab: differs from source.kerberos.keytab; one process reads one client keytab (put both principals in one keytab)");
    }
  },
});

type RawWebHdfs = { kerberos?: z.output<typeof kerberosSettings> | undefined; delegationToken?: unknown; user?: string | undefined };

async function kerberosOf(key: string, raw: RawWebHdfs, problems: string[]): Promise<WebHdfsSideSettings["kerberos"]> {
  const k = raw.kerberos as z.output<typeof kerberosSettings>;
  if (raw.delegationToken !== undefined) problems.push(`${key}.kerberos: give kerberos or delegationToken, not both (with kerberos the replicator fetches its own tokens)`);
  if (raw.user !== undefined) problems.push(`${key}.user: not used with kerberos (the principal is the user; use doAs to act for another user)`);
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
async function readTls(key: string, tls: z.output<typeof tlsSettings>, problems: string[]): Promise<TlsSettings | undefined> {
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

/** A WebHDFS side named on a command line rather than in a configuration file (inspect, simulate-job). */
export function webhdfsSide(o: { name: string; namenodes: string[]; user?: string | undefined; uri?: string }): ClusterSide {
  const settings: WebHdfsSideSettings = { namenodes: o.namenodes, user: o.user, doAs: undefined, delegationToken: undefined };
  return {
    kind: WEBHDFS_KIND,
    backend: webhdfsBackend,
    name: o.name,
    uri: o.uri,
    aliases: [],
    requestTimeoutMs: 30_000,
    retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5000 },
    settings,
  };
}
