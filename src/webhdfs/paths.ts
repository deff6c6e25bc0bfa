// WebHDFS URLs: validation and percent-encoding of HDFS paths, query building
// (values encoded so a literal `+` survives as %2B), and masking of secret query
// parameters in URLs that end up in logs.

import { HdfsPathError } from "./errors.js";

/** Throws HdfsPathError unless `path` is absolute, without empty, `.` or `..` segments (a trailing `/` is allowed). */
export function assertAbsoluteHdfsPath(path: string): void {
  if (!path.startsWith("/")) throw new HdfsPathError(path, "must be absolute (start with /)");
  if (path.includes("\0")) throw new HdfsPathError(path, "contains a NUL character");
  const segments = path.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  for (const segment of segments) {
    if (segment === "") throw new HdfsPathError(path, "contains an empty segment (//)");
    if (segment === "." || segment === "..") throw new HdfsPathError(path, `contains a "${segment}" segment`);
  }
}

/** Percent-encodes every segment of an absolute HDFS path (space, `+`, `%`, `:`, `?`, `#`, non-ASCII...). */
export function encodeHdfsPath(path: string): string {
  assertAbsoluteHdfsPath(path);
  return encodeSegments(path);
}

function encodeSegments(path: string): string {
  return path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}

export type QueryValue = string | number | boolean | undefined;

/** `?op=OP&k=v...` with every name and value percent-encoded; undefined values are left out. */
export function buildQuery(op: string, params: Record<string, QueryValue>): string {
  const parts = [`op=${encodeURIComponent(op)}`];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return `?${parts.join("&")}`;
}

/**
 * Path and query of an operation on a NameNode whose base URL is `base` (already parsed: the client keeps one
 * per NameNode): `<base path>/webhdfs/v1<encoded path>?op=...`. `path` must have passed assertAbsoluteHdfsPath.
 */
export function webHdfsRequestPath(base: URL, path: string, op: string, params: Record<string, QueryValue>): string {
  return `${base.pathname.replace(/\/+$/, "")}/webhdfs/v1${encodeSegments(path)}${buildQuery(op, params)}`;
}

/** Copy of `url` as text with the values of the named query parameters replaced by `***`. */
export function maskUrl(url: URL, secretParams: readonly string[]): string {
  const secrets = new Set(secretParams.map((name) => name.toLowerCase()));
  const query = url.search
    .replace(/^\?/, "")
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const name = part.split("=", 1)[0] ?? "";
      return secrets.has(decodeURIComponentSafe(name).toLowerCase()) ? `${name}=***` : part;
    });
  return `${url.origin}${url.pathname}${query.length > 0 ? `?${query.join("&")}` : ""}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
