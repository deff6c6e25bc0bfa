// One HTTP endpoint of the sandbox (a NameNode, DataNode or the admin API) on
// 127.0.0.1: listens on an ephemeral port, keeps that port across an
// "unreachable" period, tracks its sockets so stop() and connection resets
// are immediate, and routes `Expect: 100-continue` requests to the same handler.
// With TLS settings it serves https (a cluster with dfs.http.policy=HTTPS_ONLY).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { once } from "node:events";
import type { Logger } from "../../util/log.js";
import type { UnreachableMode } from "./faults.js";

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The server certificate (PEM) and its key; `ca` given: client certificates signed by it are required. */
export interface EndpointTls {
  cert: string;
  key: string;
  ca?: string;
}

export class EndpointServer {
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private unreachable: UnreachableMode | null = null;
  private listening = false;

  constructor(
    private readonly name: string,
    private readonly handler: RequestHandler,
    private readonly logger: Logger,
    private readonly tls?: EndpointTls,
  ) {
    this.server = this.createHttpServer();
  }

  get scheme(): "http" | "https" {
    return this.tls === undefined ? "http" : "https";
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server.listen(this.port, "127.0.0.1");
    await once(this.server, "listening");
    const address = this.server.address();
    if (address !== null && typeof address === "object") this.port = address.port;
    this.listening = true;
    this.logger.debug({ endpoint: this.name, url: this.url }, "listening");
  }

  /** "refuse": stop listening (connection refused); "reset": accept and reset; null: back to normal. */
  async setUnreachable(mode: UnreachableMode | null): Promise<void> {
    this.unreachable = mode;
    if (mode !== null) this.dropConnections();
    if (mode === "refuse" && this.listening) await this.closeListener();
    if (mode !== "refuse" && !this.listening) {
      this.server = this.createHttpServer();
      await this.listen();
    }
  }

  async close(): Promise<void> {
    if (this.listening) await this.closeListener();
    this.dropConnections();
  }

  private createHttpServer(): Server {
    const tls = this.tls;
    const server =
      tls === undefined
        ? createServer({ keepAliveTimeout: 5000 }, this.handler)
        : createHttpsServer(
            { keepAliveTimeout: 5000, cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) },
            this.handler,
          );
    server.on("checkContinue", this.handler);
    // Plain TCP connections (before any TLS handshake), so that a reset or stop drops them at once.
    server.on("connection", (socket: Socket) => {
      if (this.unreachable === "reset") {
        socket.resetAndDestroy();
        return;
      }
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("clientError", (err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    return server;
  }

  private async closeListener(): Promise<void> {
    this.listening = false;
    const closed = once(this.server, "close");
    this.server.close();
    this.dropConnections();
    await closed;
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }
}
