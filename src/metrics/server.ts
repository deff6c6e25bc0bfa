// The daemon's HTTP endpoint: /metrics (Prometheus), /healthz (process alive),
// /readyz (lease held and the last scan succeeded recently), /status (JSON of
// every job's status). Bound to the configured metrics.listen address.

import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { EngineStatus } from "../replication/index.js";

export interface StatusServerOptions {
  listen: string;
  registry: Registry;
  status: () => EngineStatus;
  ready: () => { ok: boolean; reason: string };
}

export async function startStatusServer(o: StatusServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const sep = o.listen.lastIndexOf(":");
  const host = o.listen.slice(0, sep).replace(/^\[|\]$/g, "") || "0.0.0.0";
  const port = Number(o.listen.slice(sep + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "method not allowed\n");
    if (path === "/metrics") {
      o.registry.metrics().then(
        (text) => send(200, o.registry.contentType, text),
        (err: unknown) => send(500, "text/plain", `metrics failed: ${String(err)}\n`),
      );
      return;
    }
    if (path === "/healthz") return send(200, "text/plain", "ok\n");
    if (path === "/readyz") {
      const r = o.ready();
      return send(r.ok ? 200 : 503, "text/plain", `${r.reason}\n`);
    }
    if (path === "/status") return send(200, "application/json", `${JSON.stringify(o.status(), null, 2)}\n`);
    send(404, "text/plain", "not found: try /metrics, /healthz, /readyz or /status\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const url = typeof addr === "object" && addr ? `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}` : `http://${o.listen}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
