// The emulated DataNode HTTP endpoint: the second step of OPEN (streamed
// bytes with offset/length), GETFILECHECKSUM, CREATE and APPEND (unsolicited
// 100 Continue, then the namespace check, then the streamed body). DN rules:
// parameter names are case-sensitive, every answer closes the connection; in
// secure mode the user comes from the delegation token the NameNode put in the Location.

import type { IncomingMessage, ServerResponse } from "node:http";
import { once } from "node:events";
import type { ReadStream } from "node:fs";
import { BYTES_PER_CRC, md5Md5Crc32c, type ChecksumValue } from "./checksum.js";
import type { EmulatedCluster } from "./cluster.js";
import { applyFaultPlan, type FaultPlan } from "./faults.js";
import type { RequestHandler } from "./endpoint-server.js";
import { hdfsErrors } from "./errors.js";
import { DEFAULT_FILE_PERMISSION, visibleDataNodeLength, type FileInode } from "./inode.js";
import {
  parseBooleanParam,
  parseLongParam,
  parsePermissionParam,
  sendJson,
  readWebHdfsRequest,
  splitUrl,
  writeWithBackpressure,
} from "./http-wire.js";
import { answerFailure } from "./namenode.js";
import { redecodeLikeHdfs14423, type HdfsPath } from "./paths.js";
import { receiveUpload } from "./upload.js";

interface DataNodeRequest {
  cluster: EmulatedCluster;
  req: IncomingMessage;
  res: ServerResponse;
  params: Map<string, string>;
  path: HdfsPath;
  user: string;
  plan: FaultPlan;
}

const DN_OPS: Record<string, { method: string; run: (r: DataNodeRequest) => Promise<void> }> = {
  OPEN: { method: "GET", run: openFile },
  GETFILECHECKSUM: { method: "GET", run: fileChecksum },
  CREATE: { method: "PUT", run: createFile },
  APPEND: { method: "POST", run: appendFile },
};

export function createDataNodeHandler(cluster: EmulatedCluster): RequestHandler {
  const logger = cluster.settings.logger;
  return (req, res) => {
    handle(cluster, req, res).catch((err: unknown) => answerFailure(res, "datanode", err, logger));
  };
}

async function handle(cluster: EmulatedCluster, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { rawPath, search } = splitUrl(req);
  const request = readWebHdfsRequest(req, res, rawPath, search, false);
  if (request === null) return;
  const { params, path: parsed } = request;
  const path = cluster.settings.doubleDecodeDataNodePaths ? redecodeLikeHdfs14423(parsed) : parsed;
  const op = (params.get("op") ?? "").toUpperCase();
  const spec = DN_OPS[op];
  if (spec === undefined || spec.method !== req.method) throw hdfsErrors.illegalArgument(`Invalid operation ${params.get("op") ?? "null"}`);
  if (!params.get("namenoderpcaddress")) {
    throw hdfsErrors.badParam("namenoderpcaddress", "Namenode RPC address is not specified.");
  }
  cluster.settings.faults.track({ cluster: cluster.name, role: "datanode", op, path: path.text }, req.method ?? "GET", params, res);
  const plan = cluster.settings.faults.take({ cluster: cluster.name, role: "datanode", op, path: path.text, streamsBody: op === "OPEN", userName: params.get("user.name") ?? null });
  if (!(await applyFaultPlan(plan, req))) return;
  const user = cluster.security.dataNodeCaller(params).user;
  await spec.run({ cluster, req, res, params, path, user, plan });
}

async function openFile(r: DataNodeRequest): Promise<void> {
  const file = r.cluster.namespace.fileForDataNode(r.path, r.user);
  const visible = visibleDataNodeLength(file);
  const offset = parseLongParam(r.params, "offset", 0, 0);
  if (offset > visible) throw hdfsErrors.io403(`Cannot seek after EOF: offset=${offset}, length=${visible}, path=${r.path.text}`);
  const wanted = parseLongParam(r.params, "length", Number.MAX_SAFE_INTEGER, 0);
  const contentLength = Math.min(visible - offset, wanted);
  // Nothing to read: no data file is opened (a file without bytes, e.g. generated, may have none).
  const stream = contentLength > 0 ? r.cluster.blocks.reader(file.id, offset, contentLength) : null;
  try {
    if (stream !== null) await once(stream, "ready");
  } catch {
    throw hdfsErrors.fileNotFound(`File does not exist: ${r.path.text}`);
  }
  r.res.writeHead(200, {
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Allow-Origin": "*",
    "Content-Type": "application/octet-stream",
    Connection: "close",
    "Content-Length": contentLength,
  });
  if (stream === null) {
    r.res.end();
    return;
  }
  await sendBody(r, stream);
}

/** Pipes the file bytes to the response, applying a cut-body / delete-during-read fault if one was planned. */
async function sendBody(r: DataNodeRequest, stream: ReadStream): Promise<void> {
  let fault = r.plan.body;
  let sent = 0;
  const socket = r.res.socket;
  r.res.on("close", () => stream.destroy());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (r.res.destroyed) return;
      if (fault === null || sent + chunk.length < fault.afterBytes) {
        await writeWithBackpressure(r.res, chunk);
        sent += chunk.length;
        continue;
      }
      const head = chunk.subarray(0, fault.afterBytes - sent);
      await writeWithBackpressure(r.res, head);
      if (fault.kind === "delete-during-read") {
        r.cluster.namespace.delete(r.path, false, r.cluster.settings.superuser);
      }
      if (fault.kind === "delete-during-read" && fault.cut === false) {
        // The open replica keeps serving: finish the body.
        fault = null;
        await writeWithBackpressure(r.res, chunk.subarray(head.length));
        sent += chunk.length;
        continue;
      }
      // Let the partial body reach the client, then drop the connection mid-body.
      await new Promise<void>((resolve) => r.res.write("", () => resolve()));
      socket?.destroy();
      return;
    }
  } catch (err) {
    if (r.res.destroyed) return; // the client went away; nothing left to answer
    r.cluster.settings.logger.warn({ err, path: r.path.text }, "DataNode read failed mid-body; closing the connection");
    socket?.destroy();
    return;
  }
  r.res.end();
}

async function fileChecksum(r: DataNodeRequest): Promise<void> {
  const file = r.cluster.namespace.fileForDataNode(r.path, r.user);
  if (file.lease !== null) throw hdfsErrors.io403(`Fail to get checksum, since file ${r.path.text} is under construction.`);
  const value = await checksumOf(r.cluster, file);
  sendJson(r.res, "datanode", 200, JSON.stringify({ FileChecksum: value }));
}

async function checksumOf(cluster: EmulatedCluster, file: FileInode): Promise<ChecksumValue> {
  const cached = cluster.checksumCache.get(file.id);
  if (cached !== undefined && cached.length === file.length && cached.modificationTime === file.modificationTime) return cached.value;
  const { length, modificationTime } = file;
  const value = await md5Md5Crc32c(cluster.blocks.reader(file.id, 0, length), length, file.blockSize);
  cluster.checksumCache.set(file.id, { length, modificationTime, value });
  return value;
}

async function createFile(r: DataNodeRequest): Promise<void> {
  r.res.writeContinue(); // unconditionally, like WebHdfsHandler.onCreate
  const s = r.cluster.settings;
  const blockSize = parseLongParam(r.params, "blocksize", s.defaultBlockSize);
  const replication = parseLongParam(r.params, "replication", s.defaultReplication);
  const permission = parsePermissionParam(r.params, DEFAULT_FILE_PERMISSION);
  const overwrite = parseBooleanParam(r.params, "overwrite", false);
  if (blockSize < s.minBlockSize) {
    throw hdfsErrors.io403(
      `Specified block size is less than configured minimum value (dfs.namenode.fs-limits.min-block-size): ${blockSize} < ${s.minBlockSize}`,
    );
  }
  if (blockSize % BYTES_PER_CRC !== 0) {
    throw hdfsErrors.io403(
      `io.bytes.per.checksum(${BYTES_PER_CRC}) and blockSize(${blockSize}) do not match. blockSize should be a multiple of io.bytes.per.checksum`,
    );
  }
  if (replication < 1 || replication > 512) throw hdfsErrors.io403(`Requested replication factor of ${replication} is out of range [1, 512]`);
  r.cluster.checkNotInSafeMode("Cannot create file", r.path.text);
  const holder = r.cluster.newLeaseHolder();
  const file = r.cluster.namespace.startFile(r.path, { overwrite, permission, blockSize, replication, holder }, r.user);
  await r.cluster.trackUpload(receiveInto(r, file, false, 201));
}

async function appendFile(r: DataNodeRequest): Promise<void> {
  r.res.writeContinue();
  r.cluster.checkNotInSafeMode("Cannot append to file", r.path.text);
  const file = r.cluster.namespace.startAppend(r.path, r.cluster.newLeaseHolder(), r.user);
  await r.cluster.trackUpload(receiveInto(r, file, true, 200));
}

async function receiveInto(r: DataNodeRequest, file: FileInode, append: boolean, successStatus: 200 | 201): Promise<void> {
  const outcome = await receiveUpload(r.req, r.cluster.blocks.pathOf(file.id), file, append);
  if (outcome.aborted !== null) {
    // The client is gone; like HdfsWriter.channelInactive, close the file with what arrived (unless configured not to).
    if (r.cluster.settings.closeAbortedUploads && r.cluster.namespace.tree.isLive(file)) {
      r.cluster.namespace.completeFile(file, outcome.length);
    }
    r.res.destroy();
    return;
  }
  r.cluster.namespace.completeFile(file, outcome.length);
  const headers: Record<string, string | number> = { "Content-Length": 0, Connection: "close" };
  if (successStatus === 201) headers.Location = `hdfs://${r.params.get("namenoderpcaddress")}${r.path.text}`;
  r.res.writeHead(successStatus, headers);
  r.res.end();
}
