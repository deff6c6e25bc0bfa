// Typed errors of the WebHDFS client: what failed (cluster, operation, path, step,
// server), how (remote exception, unexpected answer, network, deadline, abort,
// truncated body) and the predicates callers branch on (isNotFound, isStandby...).
// Messages are one line and never contain secrets (callers pass the values to mask).

import { CkptError } from "../util/errors.js";

export type WebHdfsStep = "namenode" | "datanode";

/**
 * How the operation failed:
 * - `remote`: the server answered an error status with a RemoteException JSON body;
 * - `http-status`: an error status without a RemoteException body (e.g. HTML 404, 401 from SPNEGO filter);
 * - `unexpected-response`: a status/body the operation cannot accept (wrong JSON shape, redirect without Location...);
 * - `rejected`: the server answered `{"boolean":false}` where success was required;
 * - `network`: connection refused/reset, DNS failure, socket closed early;
 * - `tls`: the TLS handshake failed: untrusted or expired server certificate, host name not in it, client
 *   certificate refused (a configuration problem: never retried);
 * - `timeout`: the request deadline (or the data-transfer idle timeout) expired;
 * - `aborted`: the caller's AbortSignal fired;
 * - `truncated`: a DataNode body ended before its Content-Length.
 */
export type WebHdfsFailure =
  | "remote"
  | "http-status"
  | "unexpected-response"
  | "rejected"
  | "network"
  | "tls"
  | "timeout"
  | "aborted"
  | "truncated";

export interface WebHdfsErrorDetails {
  cluster: string;
  operation: string;
  path: string;
  /** Second path of two-path operations (RENAME destination). */
  destination?: string;
  step: WebHdfsStep;
  failure: WebHdfsFailure;
  /** NameNode URL the operation went through (also set for DataNode-step failures). */
  namenode?: string;
  /** Origin (scheme://host:port, never the query) of the DataNode for DataNode-step failures. */
  datanode?: string;
  status?: number;
  exception?: string;
  javaClassName?: string;
  remoteMessage?: string | null;
  /** Client-side description: what was expected, the network error code, the deadline... */
  detail?: string;
  /** Network error code (ECONNREFUSED, ECONNRESET...). */
  code?: string;
  /** How many attempts were made before giving up (set by the retry loop). */
  attempts?: number;
  /** True when a non-replayable request body was (partly) consumed: the step must not be retried. */
  bodyConsumed?: boolean;
  /** True when this client cut an upload off before the DataNode answered: the file may still appear. */
  unsettled?: boolean;
  cause?: unknown;
}

const STANDBY = "org.apache.hadoop.ipc.StandbyException";
const RETRIABLE = "org.apache.hadoop.ipc.RetriableException";
const SAFE_MODE = "org.apache.hadoop.hdfs.server.namenode.SafeModeException";
const NOT_FOUND = "java.io.FileNotFoundException";
const ALREADY_EXISTS = "org.apache.hadoop.fs.FileAlreadyExistsException";
const PERMISSION_DENIED = new Set([
  "org.apache.hadoop.security.AccessControlException",
  "org.apache.hadoop.security.authorize.AuthorizationException",
]);

export class WebHdfsError extends CkptError {
  readonly kind = "webhdfs";
  readonly cluster: string;
  readonly operation: string;
  readonly path: string;
  readonly destination?: string;
  readonly step: WebHdfsStep;
  readonly failure: WebHdfsFailure;
  readonly namenode?: string;
  readonly datanode?: string;
  readonly status?: number;
  readonly exception?: string;
  readonly javaClassName?: string;
  readonly remoteMessage?: string | null;
  readonly detail?: string;
  readonly code?: string;
  readonly attempts?: number;
  readonly bodyConsumed?: boolean;
  readonly unsettled?: boolean;

  constructor(details: WebHdfsErrorDetails) {
    super(formatMessage(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.cluster = details.cluster;
    this.operation = details.operation;
    this.path = details.path;
    this.step = details.step;
    this.failure = details.failure;
    assignDefined(this, details);
  }

  /** A copy with more context (attempt count, body consumption) and the same everything else. */
  with(extra: Partial<Pick<WebHdfsErrorDetails, "attempts" | "bodyConsumed" | "namenode">>): WebHdfsError {
    return new WebHdfsError({ ...this.details(), ...extra });
  }

  details(): WebHdfsErrorDetails {
    const { cluster, operation, path, destination, step, failure, namenode, datanode, status } = this;
    const { exception, javaClassName, remoteMessage, detail, code, attempts, bodyConsumed, unsettled } = this;
    return {
      cluster, operation, path, destination, step, failure, namenode, datanode, status,
      exception, javaClassName, remoteMessage, detail, code, attempts, bodyConsumed, unsettled, cause: this.cause,
    };
  }
}

function assignDefined(target: WebHdfsError, details: WebHdfsErrorDetails): void {
  const optional = [
    "destination", "namenode", "datanode", "status", "exception", "javaClassName",
    "remoteMessage", "detail", "code", "attempts", "bodyConsumed", "unsettled",
  ] as const;
  for (const key of optional) {
    if (details[key] !== undefined) Object.assign(target, { [key]: details[key] });
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

function formatMessage(d: WebHdfsErrorDetails): string {
  const subject = d.destination === undefined ? d.path : `${d.path} -> ${d.destination}`;
  const server = d.step === "datanode" ? (d.datanode ?? "?") : (d.namenode ?? "?");
  const tag = [d.status, d.exception ?? d.code ?? d.failure].filter((x) => x !== undefined).join(" ");
  let text: string;
  if (d.failure === "remote") {
    text = d.remoteMessage === null || d.remoteMessage === undefined ? "(no message)" : d.remoteMessage;
  } else {
    text = d.detail ?? d.failure;
  }
  const attempts = d.attempts !== undefined && d.attempts > 1 ? ` [after ${d.attempts} attempts]` : "";
  return oneLine(`${d.cluster}: ${d.operation} ${subject} failed at ${d.step} ${server} (${tag}): ${text}${attempts}`);
}

function remoteClass(e: unknown): string | undefined {
  return e instanceof WebHdfsError ? e.javaClassName : undefined;
}

/** The path (or file) does not exist: a FileNotFoundException from NameNode or DataNode (not a bare 404). */
export function isNotFound(e: unknown): boolean {
  return remoteClass(e) === NOT_FOUND;
}

/** The NameNode answered as a standby (or observer, for writes). */
export function isStandby(e: unknown): boolean {
  return remoteClass(e) === STANDBY;
}

/**
 * Trying the same operation again later may succeed: RetriableException (startup, HA safe mode),
 * SafeModeException, 5xx, network failures, deadlines and truncated transfers. Not: aborts, remote
 * errors such as FileNotFound/AccessControl, unexpected answers.
 */
export function isRetriable(e: unknown): boolean {
  if (!(e instanceof WebHdfsError)) return false;
  if (e.javaClassName === RETRIABLE || e.javaClassName === SAFE_MODE) return true;
  if (e.status !== undefined && e.status >= 500) return true;
  return e.failure === "network" || e.failure === "timeout" || e.failure === "truncated";
}

/** The target exists (CREATE without overwrite, RENAME NONE onto an existing path, MKDIRS on a file). */
export function isAlreadyExists(e: unknown): boolean {
  return remoteClass(e) === ALREADY_EXISTS;
}

/** Access denied by HDFS permissions, proxy-user rules, or authentication (401). */
export function isPermissionDenied(e: unknown): boolean {
  if (!(e instanceof WebHdfsError)) return false;
  if (e.javaClassName !== undefined && PERMISSION_DENIED.has(e.javaClassName)) return true;
  return e.status === 401;
}

const SECURITY_EXCEPTION = "java.lang.SecurityException";
const INVALID_TOKEN = "org.apache.hadoop.security.token.SecretManager$InvalidToken";

/**
 * The server refused the client's credentials or the connection's security rather than the request:
 * a TLS failure, a 401 from the authentication filter (SPNEGO), or a delegation token the NameNode does
 * not accept (403 SecurityException from the servlets' user lookup, or InvalidToken from the token ops).
 */
export function isCredentialFailure(e: unknown): boolean {
  if (!(e instanceof WebHdfsError)) return false;
  if (e.failure === "tls" || e.status === 401) return true;
  return e.javaClassName === SECURITY_EXCEPTION || e.javaClassName === INVALID_TOKEN;
}

/**
 * A request authenticated by a delegation token was refused because of the token (expired, cancelled,
 * unknown to this NameNode, bad password): 403 with javaClassName SecurityException (getUGI failed on the
 * token; the only credential such a request carries) or SecretManager$InvalidToken. Never by message text.
 */
export function isTokenRejected(e: unknown): boolean {
  if (!(e instanceof WebHdfsError)) return false;
  return e.status === 403 && (e.javaClassName === SECURITY_EXCEPTION || e.javaClassName === INVALID_TOKEN);
}

/** A path argument the client refuses before talking to any server (relative, `.`/`..`, empty segments). */
export class HdfsPathError extends CkptError {
  readonly kind = "hdfs-path";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`invalid HDFS path ${JSON.stringify(path)}: ${reason}`);
  }
}
