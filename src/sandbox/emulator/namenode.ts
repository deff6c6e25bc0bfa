// The emulated NameNode HTTP endpoint: URL and op validation with Hadoop's
// error texts, HA state and startup/safe-mode gates, fault injection, and the
// namespace operations of WebHDFS (metadata ops answered here; OPEN, CREATE,
// APPEND and GETFILECHECKSUM redirected to a DataNode).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { EmulatedCluster, NameNodeState } from "./cluster.js";
import { cancelDelegationToken, getDelegationToken, renewDelegationToken } from "./delegation-ops.js";
import { applyFaultPlan } from "./faults.js";
import type { RequestHandler } from "./endpoint-server.js";
import { hdfsErrors, RemoteHdfsError } from "./errors.js";
import { DEFAULT_DIRECTORY_PERMISSION, DEFAULT_FILE_PERMISSION, fileStatusJson, visibleDataNodeLength } from "./inode.js";
import {
  encodeQueryValue,
  parseBooleanParam,
  parseLongParam,
  parsePermissionParam,
  sendEmptyOk,
  sendJson,
  sendRedirect,
  sendRemoteError,
  readWebHdfsRequest,
  splitUrl,
  type Role,
} from "./http-wire.js";
import { sendListStatusBatch, streamListStatus } from "./listing.js";
import { parseAbsolutePath, webhdfsUrlPath, type HdfsPath } from "./paths.js";
import { renameLegacy, renameWithOptions } from "./rename.js";
import type { Logger } from "../../util/log.js";
import type { Caller } from "./security.js";

type Category = "READ" | "WRITE" | "UNCHECKED";

export interface NameNodeRequest {
  cluster: EmulatedCluster;
  req: IncomingMessage;
  res: ServerResponse;
  params: Map<string, string>;
  path: HdfsPath;
  /** Effective user (the caller, or whom it acts for with doas). */
  user: string;
  caller: Caller;
  /** HA state of the NameNode serving the request. */
  state: NameNodeState;
  op: string;
}

interface OpSpec {
  method: "GET" | "PUT" | "POST" | "DELETE";
  category: Category;
  run: (r: NameNodeRequest) => void | Promise<void>;
}

const OPS: Record<string, OpSpec> = {
  GETFILESTATUS: { method: "GET", category: "READ", run: getFileStatus },
  LISTSTATUS: { method: "GET", category: "READ", run: (r) => streamListStatus(r.res, r.cluster.namespace.listTarget(r.path, r.user)) },
  LISTSTATUS_BATCH: { method: "GET", category: "READ", run: listStatusBatch },
  GETCONTENTSUMMARY: { method: "GET", category: "READ", run: getContentSummary },
  GETHOMEDIRECTORY: { method: "GET", category: "UNCHECKED", run: (r) => json(r, { Path: `/user/${r.user}` }) },
  GETDELEGATIONTOKEN: { method: "GET", category: "WRITE", run: getDelegationToken },
  OPEN: { method: "GET", category: "READ", run: open },
  GETFILECHECKSUM: { method: "GET", category: "READ", run: redirectAfterLookup },
  CREATE: { method: "PUT", category: "UNCHECKED", run: create },
  MKDIRS: { method: "PUT", category: "WRITE", run: mkdirs },
  RENAME: { method: "PUT", category: "WRITE", run: rename },
  SETPERMISSION: { method: "PUT", category: "WRITE", run: setPermission },
  SETOWNER: { method: "PUT", category: "WRITE", run: setOwner },
  SETTIMES: { method: "PUT", category: "WRITE", run: setTimes },
  RENEWDELEGATIONTOKEN: { method: "PUT", category: "WRITE", run: renewDelegationToken },
  CANCELDELEGATIONTOKEN: { method: "PUT", category: "WRITE", run: cancelDelegationToken },
  APPEND: { method: "POST", category: "READ", run: redirectAfterLookup },
  DELETE: { method: "DELETE", category: "WRITE", run: remove },
};

/** Safe-mode message verbs per write op ("Cannot create directory /p. ..."). */
const SAFE_MODE_ACTION: Record<string, string> = {
  MKDIRS: "Cannot create directory",
  RENAME: "Cannot rename",
  DELETE: "Cannot delete",
  SETPERMISSION: "Cannot set permission for",
  SETOWNER: "Cannot set owner for",
  SETTIMES: "Cannot set times",
  GETDELEGATIONTOKEN: "Cannot issue delegation token",
  RENEWDELEGATIONTOKEN: "Cannot renew delegation token",
  CANCELDELEGATIONTOKEN: "Cannot cancel delegation token",
};

export function createNameNodeHandler(cluster: EmulatedCluster, index: number): RequestHandler {
  const logger = cluster.settings.logger;
  return (req, res) => {
    handle(cluster, index, req, res).catch((err: unknown) => answerFailure(res, "namenode", err, logger));
  };
}

/** Renders any failure: RemoteHdfsError as itself, anything else as the servlet's 500. */
export function answerFailure(res: ServerResponse, role: Role, err: unknown, logger: Logger): void {
  if (err instanceof RemoteHdfsError) {
    sendRemoteError(res, role, err);
    return;
  }
  logger.error({ err, role }, "emulator bug while serving a request");
  sendRemoteError(res, role, new RemoteHdfsError(500, "java.lang.RuntimeException", String(err)));
}

async function handle(cluster: EmulatedCluster, index: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { rawPath, search } = splitUrl(req);
  if (rawPath === "/isActive") {
    const active = cluster.states[index] === "active";
    const body = active ? "I am Active!" : "I am not Active!";
    res.writeHead(active ? 200 : 405, { "Content-Type": "text/plain;charset=utf-8", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const request = readWebHdfsRequest(req, res, rawPath, search, true);
  if (request === null) return;
  const { params, path } = request;
  const opParam = params.get("op");
  if (opParam === undefined || opParam === "") throw hdfsErrors.unsupported("op=NULL is not supported");
  const op = opParam.toUpperCase();
  const spec = OPS[op];
  if (spec === undefined || spec.method !== req.method) throw invalidOp(op, req.method ?? "GET");

  cluster.settings.faults.track({ cluster: cluster.name, role: "namenode", op, path: path.text }, req.method ?? "GET", params, res);
  const plan = cluster.settings.faults.take({ cluster: cluster.name, role: "namenode", op, path: path.text, streamsBody: false, userName: params.get("user.name") ?? null });
  if (!(await applyFaultPlan(plan, req))) return;
  const state = cluster.states[index] ?? "standby";
  const caller = cluster.security.nameNodeCaller(req, res, params, rawPath, state === "standby");
  if (caller === null) return; // answered 401, as the auth filter in front of the servlet does
  if (req.headers.expect?.toLowerCase() === "100-continue") res.writeContinue();

  if (cluster.startupMode) throw hdfsErrors.retriable("Namenode is in startup mode");
  if (state === "standby" && spec.category !== "UNCHECKED") throw hdfsErrors.standby(spec.category, "standby");
  if (state === "observer" && spec.category === "WRITE") throw hdfsErrors.standby("WRITE", "observer");
  const action = SAFE_MODE_ACTION[op];
  if (action !== undefined) cluster.checkNotInSafeMode(action, path.text);
  await spec.run({ cluster, req, res, params, path, user: caller.user, caller, state, op });
}

function invalidOp(op: string, method: string): RemoteHdfsError {
  if (method === "GET") return hdfsErrors.badParam("op", `No enum constant org.apache.hadoop.hdfs.web.resources.GetOpParam.Op.${op}`);
  return hdfsErrors.badParam("op", `${op} is not a valid ${method} operation.`);
}

function json(r: NameNodeRequest, value: unknown): void {
  sendJson(r.res, "namenode", 200, JSON.stringify(value));
}

function getFileStatus(r: NameNodeRequest): void {
  const inode = r.cluster.namespace.stat(r.path, r.user);
  sendJson(r.res, "namenode", 200, `{"FileStatus":${fileStatusJson(inode, "")}}`);
}

function listStatusBatch(r: NameNodeRequest): void {
  const target = r.cluster.namespace.listTarget(r.path, r.user);
  sendListStatusBatch(r.res, target, r.params.get("startafter") ?? "", r.cluster.settings.listBatchSize);
}

function getContentSummary(r: NameNodeRequest): void {
  const c = r.cluster.namespace.contentSummary(r.path, r.user);
  json(r, {
    ContentSummary: {
      directoryCount: c.directoryCount,
      fileCount: c.fileCount,
      length: c.length,
      quota: -1,
      spaceConsumed: c.spaceConsumed,
      spaceQuota: -1,
      typeQuota: {},
    },
  });
}

function open(r: NameNodeRequest): void {
  const inode = r.cluster.namespace.lookupForRedirect(r.path, r.user);
  const offset = parseLongParam(r.params, "offset", 0);
  const length = inode.type === "FILE" ? visibleDataNodeLength(inode) : 0;
  if (length > 0 && (offset < 0 || offset >= length)) {
    throw hdfsErrors.io403(`Offset=${offset} out of the range [0, ${length}); OPEN, path=${r.path.text}`);
  }
  redirect(r, { offset: String(offset), length: r.params.get("length"), buffersize: r.params.get("buffersize") });
}

function redirectAfterLookup(r: NameNodeRequest): void {
  r.cluster.namespace.lookupForRedirect(r.path, r.user);
  redirect(r, { buffersize: r.params.get("buffersize") });
}

function create(r: NameNodeRequest): void {
  // The NN step never looks at the namespace (existence is checked by the DN step), so it works on a standby.
  parsePermissionParam(r.params, DEFAULT_FILE_PERMISSION);
  parseBooleanParam(r.params, "overwrite", false);
  redirect(r, {
    blocksize: r.params.get("blocksize"),
    buffersize: r.params.get("buffersize"),
    createflag: r.params.get("createflag") ?? "",
    createparent: String(parseBooleanParam(r.params, "createparent", true)),
    overwrite: String(parseBooleanParam(r.params, "overwrite", false)),
    permission: r.params.get("permission"),
    replication: r.params.get("replication"),
  });
}

/** 307 (or 200 {"Location"} with noredirect=true) to a DataNode, Location built like NamenodeWebHdfsMethods does. */
function redirect(r: NameNodeRequest, rest: Record<string, string | undefined>): void {
  const query = [`op=${r.op}`, ...redirectAuth(r)];
  const dn = r.cluster.pickDataNode();
  query.push(`namenoderpcaddress=${encodeQueryValue(r.cluster.nameserviceId)}`);
  for (const name of Object.keys(rest).sort()) {
    const value = rest[name];
    if (value !== undefined) query.push(`${name}=${encodeQueryValue(value)}`);
  }
  const port = dn.hostPort.slice(dn.hostPort.lastIndexOf(":") + 1);
  const location = `${dn.scheme}://${r.cluster.settings.advertisedHost}:${port}${webhdfsUrlPath(r.path)}?${query.join("&")}`;
  if (parseBooleanParam(r.params, "noredirect", false)) json(r, { Location: location });
  else sendRedirect(r.res, location);
}

/**
 * The auth part of a redirect Location: security off, `doas` and `user.name` as sent; secure, `delegation=` with
 * the caller's token, or a token minted for a SPNEGO caller (a write: refused by a standby or observer).
 */
function redirectAuth(r: NameNodeRequest): string[] {
  if (r.caller.method === "simple") {
    const auth: string[] = [];
    for (const name of ["doas", "user.name"]) {
      const value = r.params.get(name);
      if (value !== undefined && value !== "") auth.push(`${name}=${encodeQueryValue(value)}`);
    }
    return auth;
  }
  if (r.caller.method === "token") return [`delegation=${r.caller.token}`];
  if (r.state !== "active") throw hdfsErrors.standby("WRITE", r.state);
  const minted = r.cluster.security.mint({ owner: r.caller.user, renewer: r.caller.user, service: r.cluster.tokenService });
  return [`delegation=${minted.urlString}`];
}

function mkdirs(r: NameNodeRequest): void {
  r.cluster.namespace.mkdirs(r.path, parsePermissionParam(r.params, DEFAULT_DIRECTORY_PERMISSION), r.user);
  json(r, { boolean: true });
}

function rename(r: NameNodeRequest): void {
  const destination = r.params.get("destination");
  if (destination === undefined || destination === "") throw hdfsErrors.requiredParam("destination", "RENAME");
  const dst = parseAbsolutePath(destination, "destination");
  const options = r.params.get("renameoptions");
  const tree = r.cluster.namespace.tree;
  if (options === undefined) {
    json(r, { boolean: renameLegacy(tree, r.path, dst, r.user, Date.now()) });
    return;
  }
  const flags = options.split(",").map((o) => o.trim().toUpperCase()).filter((o) => o !== "");
  for (const flag of flags) {
    if (flag !== "NONE" && flag !== "OVERWRITE" && flag !== "TO_TRASH") {
      throw hdfsErrors.badParam("renameoptions", `No enum constant org.apache.hadoop.fs.Options.Rename.${flag}`);
    }
  }
  renameWithOptions(tree, r.path, dst, flags.includes("OVERWRITE"), r.user, Date.now());
  sendEmptyOk(r.res);
}

function setPermission(r: NameNodeRequest): void {
  r.cluster.namespace.setPermission(r.path, parsePermissionParam(r.params, DEFAULT_DIRECTORY_PERMISSION), r.user);
  sendEmptyOk(r.res);
}

function setOwner(r: NameNodeRequest): void {
  const owner = r.params.get("owner") || undefined;
  const group = r.params.get("group") || undefined;
  if (owner === undefined && group === undefined) throw hdfsErrors.illegalArgument("Both owner and group are empty.");
  r.cluster.namespace.setOwner(r.path, owner, group, r.user);
  sendEmptyOk(r.res);
}

function setTimes(r: NameNodeRequest): void {
  const mtime = parseLongParam(r.params, "modificationtime", -1, -1);
  const atime = parseLongParam(r.params, "accesstime", -1, -1);
  r.cluster.namespace.setTimes(r.path, mtime, atime, r.user);
  sendEmptyOk(r.res);
}

function remove(r: NameNodeRequest): void {
  json(r, { boolean: r.cluster.namespace.delete(r.path, parseBooleanParam(r.params, "recursive", false), r.user) });
}
