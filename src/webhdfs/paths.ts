// WebHDFS URLs: validation and percent-encoding of HDFS paths, query building
// (values encoded so a literal `+` survives as %2B), and masking of secret query
// parameters in URLs that end up in logs.

import { HdfsPathError } from "./errors.js";

/** An empty, `.` or `..` segment (a trailing `/` excepted), or a NUL character. */
const BAD_PATH = /\/\/|\/\.\.?(?:\/|$)|\0/;

/** Characters encodeURIComponent leaves as they are (and `/`): a path of only these is its own encoding. */
const PLAIN = /^[A-Za-z0-9\-_.!~*'()/]*$/;

/** Throws HdfsPathError unless `path` is absolute, without empty, `.` or `..` segments (a trailing `/` is allowed). */
export function assertAbsoluteHdfsPath(path: string): void {
  // One test for the common case (checked on every request); the slow path below names the problem.
  if (path.charCodeAt(0) === 0x2f && !BAD_PATH.test(path)) return;
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
  if (PLAIN.test(path)) return path;
  return path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}

/** A query name or value that encodeURIComponent would return unchanged. */
const PLAIN_VALUE = /^[A-Za-z0-9\-_.!~*'()]*$/;

export type QueryValue = string | number | boolean | undefined;

/** `?op=OP&k=v...` with every name and value percent-encoded; undefined values are left out. */
export function buildQuery(op: string, params: Record<string, QueryValue>): string {
  let query = `?op=${encodeURIComponent(op)}`;
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    const text = String(value);
    query += `&${PLAIN_VALUE.test(name) ? name : encodeURIComponent(name)}=${PLAIN_VALUE.test(text) ? text : encodeURIComponent(text)}`;
  }
  return query;
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
