// HDFS path handling for the emulator: turning the URL path after /webhdfs/v1
// into validated path components (single percent-decoding, `+` kept literal),
// and building the URL-encoded form used in redirect Locations.

import { hdfsErrors } from "./errors.js";

export const WEBHDFS_PREFIX = "/webhdfs/v1";

/** A validated absolute HDFS path: `text` is normalised ("/" or "/a/b"), `components` excludes the root. */
export interface HdfsPath {
  readonly text: string;
  readonly components: readonly string[];
}

/** Components HDFS refuses (DFSUtil.isValidName): ".", "..", anything with ':' or '/'. */
function isValidComponent(name: string): boolean {
  return name !== "." && name !== ".." && !name.includes(":") && !name.includes("/");
}

/**
 * Parses the raw (still percent-encoded) path that follows the WebHDFS prefix.
 * Returns null when the percent-encoding itself is malformed (Jetty's bare 400).
 */
export function parseHdfsPath(rawSuffix: string): HdfsPath | null {
  const rawParts = rawSuffix.split("/");
  const components: string[] = [];
  for (let i = 1; i < rawParts.length; i++) {
    let part: string;
    try {
      part = decodeURIComponent(rawParts[i] ?? "");
    } catch {
      return null;
    }
    components.push(part);
  }
  // A trailing slash ("/a/b/") names the same path; the root is "/" with no components.
  if (components.length > 0 && components[components.length - 1] === "") components.pop();
  const text = "/" + components.join("/");
  if (components.some((c) => c === "" || !isValidComponent(c))) throw hdfsErrors.invalidPath(text);
  return { text, components };
}

/** Parses an absolute HDFS path given as a query value (e.g. RENAME's destination, already decoded). */
export function parseAbsolutePath(value: string, paramName: string): HdfsPath {
  if (!value.startsWith("/")) throw hdfsErrors.badParam(paramName, `Invalid path "${value}"`);
  const components = value.split("/").slice(1);
  if (components.length > 0 && components[components.length - 1] === "") components.pop();
  const text = "/" + components.join("/");
  if (components.some((c) => c === "" || !isValidComponent(c))) throw hdfsErrors.invalidPath(text);
  return { text, components };
}

/**
 * The buggy second decoding some Hadoop 3.x DataNodes apply to an already decoded path (HDFS-14423):
 * java.net.URLDecoder semantics, so `+` becomes a space and `%xx` is decoded again.
 */
export function redecodeLikeHdfs14423(path: HdfsPath): HdfsPath {
  const components = path.components.map((c) => {
    try {
      return decodeURIComponent(c.replace(/\+/g, " "));
    } catch {
      throw hdfsErrors.illegalArgument(`URLDecoder: Illegal hex characters in escape (%) pattern in ${c}`);
    }
  });
  return { text: "/" + components.join("/"), components };
}

/** URL path (prefix included) for an HDFS path, each component percent-encoded. */
export function webhdfsUrlPath(path: HdfsPath): string {
  return WEBHDFS_PREFIX + (path.components.length === 0 ? "/" : "/" + path.components.map(encodeURIComponent).join("/"));
}

export function parentOf(path: HdfsPath): HdfsPath {
  const components = path.components.slice(0, -1);
  return { text: "/" + components.join("/"), components };
}

export function childOf(path: HdfsPath, name: string): HdfsPath {
  const components = [...path.components, name];
  return { text: "/" + components.join("/"), components };
}
