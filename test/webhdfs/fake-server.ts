// Tiny purpose-built HTTP servers for client tests: each test scripts exactly what a
// NameNode or DataNode answers, and every request is recorded (method, raw URL,
// decoded path, query) so tests can count requests and check the wire encoding.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export interface RecordedRequest {
  method: string;
  /** Raw request target as sent on the wire (path + query, still percent-encoded). */
  rawUrl: string;
  /** The part after /webhdfs/v1, percent-decoded once (as a NameNode decodes a path). */
  hdfsPath: string;
  /** Query parameters form-decoded (`+` becomes a space), as a NameNode decodes them. */
  query: URLSearchParams;
  op: string;
  /** Client port of the TCP connection (equal ports = a reused keep-alive connection). */
  remotePort: number;
  headers: http.IncomingHttpHeaders;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, request: RecordedRequest) => void;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests with the given op (upper case). */
  count(op?: string): number;
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const rawUrl = req.url ?? "/";
    const [rawPath = "", rawQuery = ""] = rawUrl.split("?", 2);
    const query = new URLSearchParams(rawQuery);
    const recorded: RecordedRequest = {
      method: req.method ?? "",
      rawUrl,
      hdfsPath: decodeURIComponent(rawPath.replace(/^\/webhdfs\/v1/, "")),
      query,
      op: (query.get("op") ?? "").toUpperCase(),
      remotePort: req.socket.remotePort ?? 0,
      headers: req.headers,
    };
    requests.push(recorded);
    current(req, res, recorded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (op) => requests.filter((r) => op === undefined || r.op === op).length,
    setHandler: (h) => {
      current = h;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

export function sendRemoteException(
  res: http.ServerResponse,
  status: number,
  javaClassName: string,
  message: string | null,
  extraHeaders: Record<string, string> = {},
): void {
  const exception = javaClassName.slice(javaClassName.lastIndexOf(".") + 1);
  sendJson(res, status, { RemoteException: { exception, javaClassName, message } }, extraHeaders);
}

export const STANDBY = "org.apache.hadoop.ipc.StandbyException";
export const RETRIABLE = "org.apache.hadoop.ipc.RetriableException";
export const NOT_FOUND = "java.io.FileNotFoundException";
export const ALREADY_EXISTS = "org.apache.hadoop.fs.FileAlreadyExistsException";

export function sendStandby(res: http.ServerResponse): void {
  sendRemoteException(res, 403, STANDBY, "Operation category READ is not supported in state standby");
}

export function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(307, { location, "content-type": "application/octet-stream", "content-length": 0 });
  res.end();
}

export function sendEmpty(res: http.ServerResponse, status = 200): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

export function fileStatus(pathSuffix: string, type: "FILE" | "DIRECTORY" = "FILE", length = 0): Record<string, unknown> {
  return {
    accessTime: 0, blockSize: type === "FILE" ? 134217728 : 0, childrenNum: 0, fileId: 16386, group: "supergroup",
    length, modificationTime: 1700000000000, owner: "flink", pathSuffix, permission: type === "FILE" ? "644" : "755",
    replication: type === "FILE" ? 3 : 0, storagePolicy: 0, type,
  };
}

/** A debug-level pino logger whose lines are collected in `lines`. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

/** A fast retry policy for tests. */
export const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
