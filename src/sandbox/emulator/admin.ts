// The sandbox's admin HTTP API (documented in docs/sandbox.md): endpoints,
// failover, NameNode states, safe/startup/secure mode, delegation tokens,
// cluster reachability and fault rules, as small JSON requests for demos, soak
// runs and other processes.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../util/log.js";
import { errorMessage } from "../../util/errors.js";
import { EndpointServer } from "./endpoint-server.js";
import { SandboxError } from "./errors.js";
import type { FaultRule, UnreachableMode } from "./faults.js";
import type { NameNodeState } from "./cluster.js";
import type { Sandbox } from "./sandbox.js";

const MAX_BODY = 64 * 1024;

class AdminRequestError extends SandboxError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startAdminServer(sandbox: () => Sandbox, logger: Logger): Promise<EndpointServer> {
  const server = new EndpointServer("admin", (req, res) => {
    route(sandbox(), req, res).catch((err: unknown) => {
      const status = err instanceof AdminRequestError ? err.status : err instanceof SandboxError ? 400 : 500;
      if (status === 500) logger.error({ err }, "admin request failed");
      reply(res, status, { error: errorMessage(err) });
    });
  }, logger);
  await server.listen();
  return server;
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AdminRequestError(413, "request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch {
    throw new AdminRequestError(400, "body must be a JSON object");
  }
}

function booleanField(body: Record<string, unknown>, name: string): boolean {
  const value = body[name];
  if (typeof value !== "boolean") throw new AdminRequestError(400, `field "${name}" must be true or false`);
  return value;
}

function optionalDuration(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (!(typeof value === "number" && value >= 0)) throw new AdminRequestError(400, `field "${name}" must be a number >= 0`);
  return value;
}

function userField(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== "string" || value === "") throw new AdminRequestError(400, `field "${name}" must be a non-empty user name`);
  return value;
}

async function route(sandbox: Sandbox, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
  const method = req.method ?? "GET";
  const [first, name, action, index, sub] = parts;

  if (method === "GET" && path === "/endpoints") return reply(res, 200, sandbox.endpoints);
  if (first === "faults") {
    if (method === "GET" && name === undefined) return reply(res, 200, { faults: sandbox.faults.list() });
    if (method === "POST" && name === undefined) {
      const id = sandbox.faults.add((await readJson(req)) as unknown as FaultRule);
      return reply(res, 201, { id });
    }
    if (method === "DELETE" && name === undefined) {
      sandbox.faults.clear();
      return reply(res, 200, { cleared: true });
    }
    if (method === "DELETE" && name !== undefined) {
      if (!sandbox.faults.remove(name)) throw new AdminRequestError(404, `no fault with id "${name}"`);
      return reply(res, 200, { removed: name });
    }
  }
  if (first === "clusters" && name !== undefined) {
    if (sandbox.endpoints.clusters[name] === undefined) throw new AdminRequestError(404, `unknown cluster "${name}"`);
    if (method === "POST" && action === "failover" && index === undefined) {
      sandbox.failover(name);
      return reply(res, 200, { cluster: name, failedOver: true });
    }
    if (method === "PUT" && (action === "safemode" || action === "startup")) {
      const on = booleanField(await readJson(req), "on");
      if (action === "safemode") sandbox.setSafeMode(name, on);
      else sandbox.setStartupMode(name, on);
      return reply(res, 200, { cluster: name, [action]: on });
    }
    if (method === "PUT" && action === "security" && index === undefined) {
      const enabled = booleanField(await readJson(req), "enabled");
      sandbox.setSecure(name, enabled);
      return reply(res, 200, { cluster: name, secure: enabled });
    }
    if (method === "POST" && action === "tokens" && index === undefined) {
      const body = await readJson(req);
      const token = sandbox.mintDelegationToken(name, {
        user: userField(body, "user", true) as string,
        renewer: userField(body, "renewer", false),
        expiresInMs: optionalDuration(body, "expiresInMs"),
      });
      return reply(res, 201, token);
    }
    if (method === "PUT" && action === "namenodes" && index !== undefined && sub === "state") {
      const state = (await readJson(req)).state;
      if (state !== "active" && state !== "standby" && state !== "observer") {
        throw new AdminRequestError(400, `field "state" must be active, standby or observer`);
      }
      sandbox.setNameNodeState(name, Number(index), state as NameNodeState);
      return reply(res, 200, { cluster: name, namenode: Number(index), state });
    }
    if (method === "POST" && action === "unreachable") {
      const body = await readJson(req);
      const mode = body.mode ?? "refuse";
      if (mode !== "refuse" && mode !== "reset") throw new AdminRequestError(400, `field "mode" must be refuse or reset`);
      const duration = optionalDuration(body, "durationMs");
      await sandbox.faults.makeUnreachable(name, mode as UnreachableMode, duration);
      return reply(res, 200, { cluster: name, unreachable: mode, durationMs: duration ?? null });
    }
    if (method === "POST" && action === "generate" && index === undefined) {
      const body = await readJson(req);
      const count = (field: string) => {
        const v = body[field];
        if (!(typeof v === "number" && Number.isInteger(v) && v >= 0)) throw new AdminRequestError(400, `field "${field}" must be an integer >= 0`);
        return v;
      };
      const root = body.root;
      if (typeof root !== "string" || !root.startsWith("/")) throw new AdminRequestError(400, 'field "root" must be an absolute path');
      return reply(res, 200, sandbox.generateTree(name, { root, jobs: count("jobs"), filesPerJob: count("filesPerJob"), fileSize: count("fileSize") }));
    }
    if (method === "POST" && action === "reachable") {
      await sandbox.faults.makeReachable(name);
      return reply(res, 200, { cluster: name, unreachable: false });
    }
  }
  throw new AdminRequestError(404, `no admin route ${method} ${path}`);
}
