// The daemon's HTTP endpoint: /metrics (Prometheus), /healthz (process alive),
// /readyz (lease held and the last scan succeeded recently), /status (JSON of
// every job's DR state, times as ISO-8601 and seconds) and / (the same as a
// self-contained HTML page). Bound to the configured metrics.listen address.

import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { EngineStatus } from "../replication/index.js";
import { renderStatusPage } from "./page.js";
import { buildReport, type StatusReport } from "./report.js";

export interface StatusServerOptions {
  listen: string;
  registry: Registry;
  status: () => EngineStatus;
  /** What /status and / show; default: built from status() alone. */
  report?: () => StatusReport;
  ready: () => { ok: boolean; reason: string };
}

export async function startStatusServer(o: StatusServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const sep = o.listen.lastIndexOf(":");
  const host = o.listen.slice(0, sep).replace(/^\[|\]$/g, "") || "0.0.0.0";
  const port = Number(o.listen.slice(sep + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
      res.end(body);
    };
    const report = () => (o.report ? o.report() : buildReport({ status: o.status() }));
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
    try {
      if (path === "/status") return send(200, "application/json", `${JSON.stringify(report(), null, 2)}\n`);
      if (path === "/") {
        // No script, no external asset: the page works offline and a value can never run as code.
        return send(200, "text/html; charset=utf-8", renderStatusPage(report()), {
          "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
          "x-content-type-options": "nosniff",
        });
      }
    } catch (err) {
      return send(500, "text/plain", `status failed: ${String(err)}\n`);
    }
    send(404, "text/plain", "not found: try /, /metrics, /healthz, /readyz or /status\n");
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
