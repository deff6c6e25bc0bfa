// Test helper: raw node:http requests against the emulator (no product client),
// recording interim 1xx responses, plus two-step WebHDFS helpers (NN then DN).

import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Readable } from "node:stream";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Status codes of interim (1xx) responses received before the final one. */
  interim: number[];
  json<T = Record<string, unknown>>(): T;
}

export interface RawRequest {
  method?: string;
  body?: string | Buffer | Readable;
  headers?: Record<string, string | number>;
}

/** Host, port and the request target exactly as written (node's URL parsing would normalise "/../"). */
function target(url: string): { host: string; port: number; path: string } {
  const m = /^http:\/\/([^/:]+):(\d+)(\/.*)?$/.exec(url);
  if (m === null) throw new Error(`not an http URL with a port: ${url}`);
  return { host: m[1] ?? "", port: Number(m[2]), path: m[3] ?? "/" };
}

export function request(url: string, options: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const interim: number[] = [];
    const req = httpRequest({ ...target(url), method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        const text = body.toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, interim, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on("information", (info) => interim.push(info.statusCode));
    req.on("error", reject);
    const body = options.body;
    if (body instanceof Readable) {
      req.flushHeaders(); // start the request before the first body byte, like an upload that stalls
      body.pipe(req);
    }
    else req.end(body);
  });
}

/** Like request(), but resolves with the bytes received even when the connection is cut mid-body. */
export function requestPartial(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; received: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ ...target(url), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (complete: boolean) => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, received: Buffer.concat(chunks), complete });
      };
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => finish(res.complete));
      res.on("error", () => finish(false));
      res.on("aborted", () => finish(false));
      res.on("close", () => finish(res.complete));
    });
    req.on("error", reject);
    req.end();
  });
}

export type Params = Record<string, string | number | boolean>;

export function url(base: string, path: string, op: string, params: Params = {}): string {
  const q = new URLSearchParams({ op, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `${base}/webhdfs/v1${encoded}?${q.toString()}`;
}

/** Two-step CREATE: NN 307, then the body to the DN Location. Returns the DN response. */
export async function createFile(nn: string, path: string, content: string | Buffer, params: Params = {}): Promise<RawResponse> {
  const step1 = await request(url(nn, path, "CREATE", { "user.name": "alice", ...params }), { method: "PUT" });
  if (step1.status !== 307) throw new Error(`CREATE NN step: ${step1.status} ${step1.text}`);
  return request(String(step1.headers.location), { method: "PUT", body: content });
}

/** Two-step OPEN; returns the DN response. */
export async function openFile(nn: string, path: string, params: Params = {}): Promise<RawResponse> {
  const step1 = await request(url(nn, path, "OPEN", { "user.name": "alice", ...params }));
  if (step1.status !== 307) return step1;
  return request(String(step1.headers.location));
}

export async function dnStep(nn: string, path: string, op: string, params: Params = {}, method = "GET"): Promise<RawResponse> {
  const step1 = await request(url(nn, path, op, { "user.name": "alice", ...params }), { method });
  if (step1.status !== 307) return step1;
  return request(String(step1.headers.location), { method });
}

export function remoteException(res: RawResponse): { exception: string; javaClassName: string; message: string | null } {
  return res.json<{ RemoteException: { exception: string; javaClassName: string; message: string | null } }>().RemoteException;
}
