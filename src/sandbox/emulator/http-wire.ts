// Wire helpers shared by the emulated NameNode and DataNode: query parsing
// (first value wins; NN names case-insensitive), typed parameter parsing with
// Hadoop's error texts, and response writers for JSON, errors and empty 200s
// with the headers each role really sends.

import type { IncomingMessage, ServerResponse } from "node:http";
import { hdfsErrors, RemoteHdfsError } from "./errors.js";
import { parseHdfsPath, WEBHDFS_PREFIX, type HdfsPath } from "./paths.js";

export type Role = "namenode" | "datanode";

/** Query parameters, first value wins; names lower-cased when `caseInsensitiveNames`. */
export function parseQuery(search: string, caseInsensitiveNames: boolean): Map<string, string> {
  const params = new Map<string, string>();
  for (const [rawName, value] of new URLSearchParams(search)) {
    const name = caseInsensitiveNames ? rawName.toLowerCase() : rawName;
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

export function parseBooleanParam(params: Map<string, string>, name: string, fallback: boolean): boolean {
  const value = params.get(name);
  if (value === undefined || value === "") return fallback;
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  throw hdfsErrors.badParam(name, `Failed to parse "${value}" to Boolean.`);
}

export function parseLongParam(params: Map<string, string>, name: string, fallback: number, min = -Infinity): number {
  const value = params.get(name);
  if (value === undefined || value === "" || value.toLowerCase() === "null") return fallback;
  if (!/^-?\d+$/.test(value)) throw hdfsErrors.badParam(name, `For input string: "${value}"`);
  const parsed = Number(value);
  if (parsed < min) throw hdfsErrors.badParam(name, `Invalid parameter range: ${name} = ${value} < ${min}`);
  return parsed;
}

/** Octal permission in 0..1777 (leading zeros allowed), or `fallback` when absent. */
export function parsePermissionParam(params: Map<string, string>, fallback: number): number {
  const value = params.get("permission");
  if (value === undefined || value === "" || value.toLowerCase() === "null") return fallback;
  if (!/^[0-7]+$/.test(value)) throw hdfsErrors.badParam("permission", `For input string: "${value}"`);
  const parsed = parseInt(value, 8);
  if (parsed > 0o1777) throw hdfsErrors.badParam("permission", `Invalid parameter range: permission = ${value} > 1777`);
  return parsed;
}

const USER_PATTERN = /^[A-Za-z_][A-Za-z0-9._-]*[$]?$/;

/** Effective simple-auth user: `doas` if given, else `user.name`, else the static web user. */
export function effectiveUser(params: Map<string, string>, staticUser: string): string {
  for (const name of ["user.name", "doas"]) {
    const value = params.get(name);
    if (value !== undefined && value !== "" && !USER_PATTERN.test(value)) {
      throw hdfsErrors.badParam(name, `Invalid value: "${value}" does not belong to the domain ${USER_PATTERN.source}`);
    }
  }
  return params.get("doas") || params.get("user.name") || staticUser;
}

function nameNodeHeaders(contentType: string): Record<string, string> {
  const now = new Date().toUTCString();
  return {
    "Cache-Control": "no-cache",
    Expires: now,
    Date: now,
    Pragma: "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-FRAME-OPTIONS": "SAMEORIGIN",
    "X-XSS-Protection": "1; mode=block",
    "Content-Type": contentType,
  };
}

/** A complete JSON response (NN: application/json; DN: charset + Connection: close). */
export function sendJson(res: ServerResponse, role: Role, status: number, body: string): void {
  const length = Buffer.byteLength(body);
  if (role === "namenode") {
    res.writeHead(status, { ...nameNodeHeaders("application/json"), "Content-Length": length });
  } else {
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": length, Connection: "close" });
  }
  res.end(body);
}

export function sendRemoteError(res: ServerResponse, role: Role, err: RemoteHdfsError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, role, err.status, err.toJson());
}

/** 200 with an empty body (SETPERMISSION, SETTIMES, RENAME with options, ...). */
export function sendEmptyOk(res: ServerResponse): void {
  res.writeHead(200, { ...nameNodeHeaders("application/octet-stream"), "Content-Length": 0 });
  res.end();
}

export function sendRedirect(res: ServerResponse, location: string): void {
  res.writeHead(307, { ...nameNodeHeaders("application/octet-stream"), Location: location, "Content-Length": 0 });
  res.end();
}

/** Headers of a streamed NN response (LISTSTATUS): chunked JSON. */
export function startStreamedJson(res: ServerResponse): void {
  res.writeHead(200, nameNodeHeaders("application/json"));
}

/** Jetty's HTML error page (not a RemoteException): 404 outside the WebHDFS prefix, 401 from the auth filter. */
export function sendJettyError(
  res: ServerResponse,
  status: number,
  reason: string,
  urlPath: string,
  headers: Record<string, string> = {},
): void {
  const escaped = urlPath.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n<title>Error ${status} ${reason}</title>\n</head>\n<body><h2>HTTP ERROR ${status}</h2>\n<p>Problem accessing ${escaped}. Reason:\n<pre>    ${reason}</pre></p>\n</body>\n</html>\n`;
  res.writeHead(status, { ...headers, "Content-Type": "text/html;charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Jetty's bare 400 for a malformed URL (e.g. a raw `%`). */
export function sendBadRequestEmpty(res: ServerResponse): void {
  res.writeHead(400, { "Content-Length": 0, Connection: "close" });
  res.end();
}

/** Splits a request URL into the raw path and the query string. */
export function splitUrl(req: IncomingMessage): { rawPath: string; search: string } {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q < 0 ? { rawPath: url, search: "" } : { rawPath: url.slice(0, q), search: url.slice(q + 1) };
}

/** Query-string value encoding that leaves `:` and `,` readable like Hadoop's Locations do. */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ":").replace(/%2C/gi, ",");
}

/** Writes a chunk and waits for the buffer to drain (or the connection to close) when it is full. */
export function writeWithBackpressure(res: ServerResponse, chunk: string | Buffer): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * The HDFS path and query of a WebHDFS request, or null after answering it as Jetty does: 404 HTML outside
 * /webhdfs/v1, an empty 400 for an undecodable path.
 */
export function readWebHdfsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  rawPath: string,
  search: string,
  caseInsensitiveNames: boolean,
): { path: HdfsPath; params: Map<string, string> } | null {
  if (rawPath !== WEBHDFS_PREFIX && !rawPath.startsWith(`${WEBHDFS_PREFIX}/`)) {
    sendJettyError(res, 404, "Not Found", rawPath);
    return null;
  }
  const path = parseHdfsPath(rawPath.slice(WEBHDFS_PREFIX.length) || "/");
  if (path === null) {
    sendBadRequestEmpty(res);
    return null;
  }
  return { path, params: parseQuery(search, caseInsensitiveNames) };
}
