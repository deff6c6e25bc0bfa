// WebHdfsClient: the WebHDFS operations one cluster offers (metadata, listing,
// two-step OPEN/CREATE/APPEND/GETFILECHECKSUM, namespace changes), each run as
// NameNode step (+ DataNode step) inside the HA/retry loop, over keep-alive
// agents for NameNodes and non-reused connections for DataNodes (which close
// every connection after one answer); control requests (the lease, token
// renewal) have NameNode connections of their own.

import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import { silentLogger, type Logger } from "../util/log.js";
import { createSimpleAuth, secretValues } from "./auth.js";
import {
  FileTokenAuth, KerberosTokenAuth, TokenFileError, type Negotiator, type TokenAuth, type TokenOps, type TokenStatus,
} from "./delegation.js";
import { KerberosUnavailableError, SpnegoAuth, SpnegoError } from "./spnego.js";
import { WebHdfsError, isCredentialFailure, isNotFound } from "./errors.js";
import { DEFAULT_RETRY_POLICY, NamenodeSelector, withFailover } from "./namenodes.js";
import { assertAbsoluteHdfsPath, maskUrl, webHdfsRequestPath, type QueryValue } from "./paths.js";
import { dataNodeReadStream } from "./read-stream.js";
import {
  expectJson, expectRedirect, expectStatus, expectText, requireStatus, stepError, stepFailure, unexpectedBody,
  type StepContext,
} from "./responses.js";
import { RequestDeadline, sendRequest, UPLOAD_CANCEL_GRACE_MS, type HttpResponse } from "./transport.js";
import type {
  AuthProvider, ClusterConnection, ContentSummary, FileChecksum, FileStatus, RetryPolicy, TlsSettings,
} from "./types.js";
import {
  booleanBody, contentSummaryBody, fileChecksumBody, fileStatusBody, listStatusBatchBody, listStatusBody, longBody, parseJson,
  tokenBody,
} from "./wire.js";

export interface OpOptions {
  signal?: AbortSignal;
  /**
   * Called just before each request of the operation is sent (every attempt, NameNode and DataNode step);
   * what it throws ends the operation unsent. A write fence: the replicator's lease check.
   */
  guard?: () => void;
  /** Deadline of each request: the NameNode step and the DataNode's response headers (not a long body transfer). */
  timeoutMs?: number;
  /**
   * A control request (lease renewal, delegation-token renewal): its NameNode step goes over a
   * connection pool of its own, so it never queues behind copies that hold every data connection.
   */
  control?: boolean;
}

export interface WebHdfsClientOptions {
  logger?: Logger;
  /** Credentials; default: createSimpleAuth(conn). */
  auth?: AuthProvider;
  /** Per NameNode keep-alive socket limit (default 64: the copier runs up to copy.concurrency + copy.smallFiles.concurrency transfers). */
  maxSockets?: number;
  /**
   * Kerberos: the client fetches, renews and replaces its own delegation tokens with SPNEGO
   * (GETDELEGATIONTOKEN / RENEWDELEGATIONTOKEN, CANCELDELEGATIONTOKEN on release()).
   */
  negotiator?: Negotiator;
  /** How often a token file is looked at for changes (default 1000 ms). */
  tokenFileCheckMs?: number;
  /** Clock of the token lifecycle (default Date.now; tests move it). */
  clock?: () => number;
  /** Rewrites the DataNode URL of a redirect (e.g. a container hostname that does not resolve here). */
  rewriteDataNodeUrl?: (url: URL) => URL;
  /**
   * Called each time the client switches to another NameNode of the cluster (the one it talked to
   * answered standby or could not be reached, and another answered): a failover, as this client saw it.
   */
  onFailover?: (e: { cluster: string; from: string; to: string }) => void;
}

export type UploadBody = Readable | Uint8Array | string;

export const DEFAULT_TIMEOUT_MS = 30_000;

type Method = "GET" | "PUT" | "POST" | "DELETE";

interface Call {
  method: Method;
  op: string;
  path: string;
  destination?: string;
  params?: Record<string, QueryValue>;
  /** Credentials of this call instead of the client's (the delegation-token operations use SPNEGO). */
  auth?: AuthProvider;
}

/** Call parameters that carry a secret (the token of RENEW/CANCELDELEGATIONTOKEN): masked in logged URLs. */
const SECRET_CALL_PARAMS = ["token"];

/** One attempt's view: the NameNode answer and the means to continue to the DataNode. */
interface Attempt {
  namenode: string;
  res: HttpResponse;
  ctx: StepContext;
  deadline: RequestDeadline;
  /** The request deadline, reused as the socket idle limit of DataNode transfers. */
  timeoutMs: number;
  /** Keep the deadline (and its abort wiring) alive after the attempt returns; the callee releases it. */
  keepDeadline(): void;
  guard?: (() => void) | undefined;
}

export class WebHdfsClient {
  readonly name: string;
  readonly #selector: NamenodeSelector;
  readonly #auth: AuthProvider;
  readonly #tokens: TokenAuth | null;
  readonly #logger: Logger;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #nnAgents: { http: http.Agent; https: https.Agent };
  readonly #dnAgents: { http: http.Agent; https: https.Agent };
  readonly #controlAgents: { http: http.Agent; https: https.Agent };
  readonly #rewrite: (url: URL) => URL;
  readonly #baseUrls = new Map<string, URL>();
  #batchListingUnsupported = false;
  #credentialProblem: string | null = null;

  constructor(conn: ClusterConnection, options: WebHdfsClientOptions = {}) {
    this.name = conn.name;
    this.#logger = (options.logger ?? silentLogger).child({ cluster: conn.name });
    this.#selector = new NamenodeSelector(conn.namenodes, (from, to) => {
      this.#logger.info({ from, to }, "NameNode failover: now talking to another NameNode");
      options.onFailover?.({ cluster: conn.name, from, to });
    });
    const doAs = conn.doAs === undefined || conn.doAs === "" ? {} : { doAs: conn.doAs };
    if (options.auth === undefined && options.negotiator !== undefined) {
      this.#tokens = new KerberosTokenAuth({
        negotiator: options.negotiator, ops: this.#tokenOps(new SpnegoAuth(options.negotiator), new SpnegoAuth(options.negotiator, conn.doAs)),
        logger: this.#logger, ...doAs, ...(conn.tokenRenewer ? { renewer: conn.tokenRenewer } : {}),
        ...(options.clock ? { now: options.clock } : {}),
      });
    } else if (options.auth === undefined && conn.delegationTokenFile !== undefined) {
      this.#tokens = new FileTokenAuth({
        path: conn.delegationTokenFile, logger: this.#logger, ...doAs, ...(options.clock ? { now: options.clock } : {}),
        ...(options.tokenFileCheckMs !== undefined ? { checkIntervalMs: options.tokenFileCheckMs } : {}),
      });
    } else {
      this.#tokens = null;
    }
    this.#auth = options.auth ?? this.#tokens ?? createSimpleAuth(conn);
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...conn.retry };
    this.#timeoutMs = conn.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxSockets = options.maxSockets ?? 64;
    const tls = tlsAgentOptions(conn.tls);
    this.#nnAgents = {
      http: new http.Agent({ keepAlive: true, maxSockets }),
      https: new https.Agent({ ...tls, keepAlive: true, maxSockets }),
    };
    // Control requests are few and one at a time (a lease renewal, a token renewal): a small pool that
    // data transfers never take, so a renewal is sent at once however many copies are in flight.
    this.#controlAgents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 4 }),
      https: new https.Agent({ ...tls, keepAlive: true, maxSockets: 4 }),
    };
    // DataNodes answer every request with `Connection: close` (Hadoop's WebHdfsHandler): nothing to reuse.
    this.#dnAgents = {
      http: new http.Agent({ keepAlive: false }),
      https: new https.Agent({ ...tls, keepAlive: false }),
    };
    this.#rewrite = options.rewriteDataNodeUrl ?? ((url) => url);
  }

  /**
   * Why the cluster refused this client's credentials or TLS in the last operation that got that far
   * (the error message: no secret in it), or null once an operation succeeded. For readiness probes.
   */
  credentialProblem(): string | null {
    return this.#credentialProblem;
  }

  /** The delegation token's state (expiry, renewals, re-fetches, failures) when this client manages one. */
  tokenStatus(): TokenStatus | null {
    return this.#tokens?.status() ?? null;
  }

  /** Cancels the delegation tokens this client fetched (a clean stop); the client stays usable. */
  async release(): Promise<void> {
    if (this.#tokens instanceof KerberosTokenAuth) await this.#tokens.release();
  }

  /** The NameNode URL currently believed active. */
  activeNamenode(): string {
    return this.#selector.active();
  }

  async getFileStatus(path: string, o?: OpOptions): Promise<FileStatus> {
    return this.#run({ method: "GET", op: "GETFILESTATUS", path }, o, (a) => expectJson(a.ctx, a.res.body, fileStatusBody));
  }

  /** GETFILESTATUS, with null when the path does not exist. */
  async stat(path: string, o?: OpOptions): Promise<FileStatus | null> {
    try {
      return await this.getFileStatus(path, o);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async listStatus(path: string, o?: OpOptions): Promise<FileStatus[]> {
    return this.#run({ method: "GET", op: "LISTSTATUS", path }, o, (a) => expectJson(a.ctx, a.res.body, listStatusBody));
  }

  /** LISTSTATUS_BATCH pages; one LISTSTATUS page when the server does not know the op (remembered). */
  async *listStatusBatches(path: string, o?: OpOptions): AsyncIterable<FileStatus[]> {
    let startAfter: string | undefined;
    while (!this.#batchListingUnsupported) {
      const call: Call = { method: "GET", op: "LISTSTATUS_BATCH", path, params: { startafter: startAfter } };
      let page;
      try {
        page = await this.#run(call, o, (a) => expectJson(a.ctx, a.res.body, listStatusBatchBody));
      } catch (err) {
        if (startAfter !== undefined || !rejectsBatchListing(err)) throw err;
        this.#logger.info({ path }, "LISTSTATUS_BATCH not supported by the server; using LISTSTATUS");
        this.#batchListingUnsupported = true;
        break;
      }
      yield page.entries;
      const last = page.entries.at(-1);
      if (page.remainingEntries <= 0 || last === undefined || last.pathSuffix === "") return;
      startAfter = last.pathSuffix;
    }
    yield await this.listStatus(path, o);
  }

  async getContentSummary(path: string, o?: OpOptions): Promise<ContentSummary> {
    const call: Call = { method: "GET", op: "GETCONTENTSUMMARY", path };
    return this.#run(call, o, (a) => expectJson(a.ctx, a.res.body, contentSummaryBody));
  }

  async getFileChecksum(path: string, o?: OpOptions): Promise<FileChecksum> {
    return this.#run({ method: "GET", op: "GETFILECHECKSUM", path }, o, (a) =>
      this.#dataNodeStep(a, "GET", undefined, (res, ctx) => expectJson(ctx, res.body, fileChecksumBody)),
    );
  }

  /**
   * Resolves once the DataNode answered 200 with the body stream. The stream errors with a WebHdfsError
   * (failure "truncated") if the body ends before Content-Length or the connection breaks, passed through
   * `mapStreamError` when given.
   */
  async open(path: string, o?: OpOptions & { offset?: number; length?: number; mapStreamError?: (err: WebHdfsError) => Error }): Promise<Readable> {
    const call: Call = { method: "GET", op: "OPEN", path, params: { offset: o?.offset, length: o?.length } };
    return this.#run(call, o, (a) =>
      this.#dataNodeStep(a, "GET", undefined, async (res, ctx) => {
        await requireStatus(ctx, res.body, [200]);
        a.deadline.stopClock();
        a.keepDeadline();
        return dataNodeReadStream(ctx, res, () => a.deadline.dispose(), o?.mapStreamError);
      }),
    );
  }

  /**
   * Two-step CREATE streaming `body` to the DataNode. A DataNode error that arrives during the upload
   * rejects with its typed error and destroys the source stream. Retried only while the body can be
   * replayed (a buffer or string, or a stream nothing was read from yet).
   */
  async create(
    path: string,
    body: UploadBody,
    o?: OpOptions & { overwrite?: boolean; blockSize?: number; replication?: number; permission?: string },
  ): Promise<void> {
    const params = {
      overwrite: o?.overwrite ?? false,
      blocksize: o?.blockSize,
      replication: o?.replication,
      permission: o?.permission,
    };
    await this.#upload({ method: "PUT", op: "CREATE", path, params }, body, [201, 200], o);
  }

  async append(path: string, body: UploadBody, o?: OpOptions): Promise<void> {
    await this.#upload({ method: "POST", op: "APPEND", path }, body, [200], o);
  }

  /** MKDIRS; anything but `{"boolean":true}` is an error. */
  async mkdirs(path: string, o?: OpOptions & { permission?: string }): Promise<void> {
    const call: Call = { method: "PUT", op: "MKDIRS", path, params: { permission: o?.permission } };
    await this.#run(call, o, async (a) => {
      if (!(await expectJson(a.ctx, a.res.body, booleanBody))) throw rejected(a.ctx, 'MKDIRS answered {"boolean":false}');
    });
  }

  /**
   * RENAME with renameoptions=OVERWRITE|NONE, so failures are HTTP errors. Success is 200 with an empty
   * body; `{"boolean":false}` (a server ignoring renameoptions) is an error, never success.
   */
  async rename(src: string, dst: string, o?: OpOptions & { overwrite?: boolean }): Promise<void> {
    assertAbsoluteHdfsPath(dst);
    const renameoptions = o?.overwrite === true ? "OVERWRITE" : "NONE";
    const call: Call = { method: "PUT", op: "RENAME", path: src, destination: dst, params: { destination: dst, renameoptions } };
    await this.#run(call, o, async (a) => {
      const text = await expectText(a.ctx, a.res.body, [200]);
      if (text.trim() === "") return;
      const answer = booleanBody.parse(parseJson(text));
      if (answer === false) throw rejected(a.ctx, 'RENAME answered {"boolean":false} (server ignored renameoptions?)');
      if (answer === undefined) throw unexpectedBody(a.ctx, 200, "an empty body", text);
      this.#logger.warn({ src, dst }, 'RENAME answered {"boolean":true}: server ignores renameoptions (legacy rename)');
    });
  }

  /** DELETE with skiptrash=true. Resolves false when the path did not exist. */
  async delete(path: string, o?: OpOptions & { recursive?: boolean }): Promise<boolean> {
    const call: Call = { method: "DELETE", op: "DELETE", path, params: { recursive: o?.recursive ?? false, skiptrash: true } };
    return this.#run(call, o, (a) => expectJson(a.ctx, a.res.body, booleanBody));
  }

  async setTimes(path: string, o: OpOptions & { modificationTime?: number; accessTime?: number }): Promise<void> {
    const params = { modificationtime: o.modificationTime ?? -1, accesstime: o.accessTime ?? -1 };
    await this.#run({ method: "PUT", op: "SETTIMES", path, params }, o, (a) => expectStatus(a.ctx, a.res.body, [200]));
  }

  /** Destroys the connection pools; in-flight requests fail. */
  close(): void {
    for (const agents of [this.#nnAgents, this.#controlAgents, this.#dnAgents]) {
      for (const agent of [agents.http, agents.https]) agent.destroy();
    }
  }

  /** GET/RENEW/CANCELDELEGATIONTOKEN with SPNEGO credentials (`fetchAuth` adds doas for a proxy user). */
  #tokenOps(auth: SpnegoAuth, fetchAuth: SpnegoAuth): TokenOps {
    return {
      fetch: (renewer, signal) =>
        this.#run({ method: "GET", op: "GETDELEGATIONTOKEN", path: "/", params: { renewer }, auth: fetchAuth }, { signal, control: true }, async (a) => {
          const text = await expectText(a.ctx, a.res.body, [200]);
          const token = tokenBody.parse(parseJson(text));
          // No snippet of the body in this error: it may hold a token.
          if (token === undefined) throw stepError(a.ctx, { failure: "unexpected-response", status: 200, detail: 'expected {"Token":{"urlString":...}} or {"Token":null}' });
          return token;
        }),
      renew: (token, signal) =>
        this.#run({ method: "PUT", op: "RENEWDELEGATIONTOKEN", path: "/", params: { token }, auth }, { signal, control: true }, (a) => expectJson(a.ctx, a.res.body, longBody)),
      cancel: (token) =>
        this.#run({ method: "PUT", op: "CANCELDELEGATIONTOKEN", path: "/", params: { token }, auth }, undefined, (a) => expectStatus(a.ctx, a.res.body, [200])),
    };
  }

  async #upload(call: Call, body: UploadBody, okStatuses: readonly number[], o: OpOptions | undefined): Promise<void> {
    const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    try {
      await this.#run(call, o, (a) =>
        this.#dataNodeStep(a, call.method, payload, (res, ctx) => expectStatus(ctx, res.body, okStatuses)),
      );
    } catch (err) {
      if (payload instanceof Readable && !payload.destroyed) payload.destroy();
      throw err;
    }
  }

  /** Runs one operation: NameNode request inside the failover/retry loop, then `handle` on the answer. */
  async #run<T>(call: Call, o: OpOptions | undefined, handle: (attempt: Attempt) => Promise<T>): Promise<T> {
    assertAbsoluteHdfsPath(call.path);
    const timeoutMs = o?.timeoutMs ?? this.#timeoutMs;
    const callSecrets = SECRET_CALL_PARAMS.flatMap((name) => {
      const value = call.params?.[name];
      return typeof value === "string" && value !== "" ? [value, encodeURIComponent(value)] : [];
    });
    // Computed per attempt: the credentials may be renewed between attempts.
    const context = (namenode: string): StepContext => ({
      cluster: this.name, operation: call.op, path: call.path, destination: call.destination,
      step: "namenode", namenode, secrets: [...secretValues(call.auth ?? this.#auth), ...callSecrets],
    });
    const retry = {
      selector: this.#selector,
      policy: this.#policy,
      logger: this.#logger,
      signal: o?.signal,
      describe: `${call.op} ${call.path}`,
      abortError: () => stepError(context(this.#selector.active()), { failure: "aborted", detail: "aborted by the caller" }),
    };
    let sent: Record<string, string> = {};
    const once = () =>
      withFailover(retry, async (namenode) => {
        o?.guard?.();
        const ctx = context(namenode);
        const deadline = new RequestDeadline(timeoutMs, o?.signal);
        let keep = false;
        try {
          const auth = call.auth ?? this.#auth;
          sent = auth.queryParams();
          const base = this.#baseUrl(namenode);
          const path = webHdfsRequestPath(base, call.path, call.op, { ...sent, ...call.params });
          if (this.#logger.isLevelEnabled("debug")) this.#logger.debug({ method: call.method, url: maskUrl(new URL(path, base), [...auth.secretParams, ...SECRET_CALL_PARAMS]) }, "webhdfs request");
          // Simple auth's headers are there at once: no await (one microtask turn less per request).
          const authHeaders = auth.headers(namenode);
          const headers = { ...(authHeaders instanceof Promise ? await authHeaders : authHeaders) };
          const pool = o?.control ? this.#controlAgents : this.#nnAgents;
          const agent = base.protocol === "https:" ? pool.https : pool.http;
          const res = await sendRequest({ method: call.method, url: base, path, agent, headers, cancel: deadline });
          return await handle({ namenode, res, ctx, deadline, timeoutMs, keepDeadline: () => (keep = true), guard: o?.guard });
        } catch (err) {
          throw stepFailure(ctx, err);
        } finally {
          if (!keep) deadline.dispose();
        }
      });
    const auth = call.auth ?? this.#auth;
    try {
      await auth.prepare?.(o?.signal);
      let result: T;
      try {
        result = await once();
      } catch (err) {
        // Credentials the server refused (an expired or cancelled token...): renewed ones get one more try.
        if (auth.recover === undefined || !isCredentialFailure(err) || !(await auth.recover(err, sent, o?.signal))) throw err;
        result = await once();
      }
      this.#credentialProblem = null;
      return result;
    } catch (err) {
      if (isCredentialFailure(err) || err instanceof SpnegoError || err instanceof TokenFileError || err instanceof KerberosUnavailableError) {
        this.#credentialProblem = errorText(err);
      }
      throw err;
    }
  }

  /** The parsed base URL of a NameNode (parsed once: every request of the client goes to one of a few). */
  #baseUrl(namenode: string): URL {
    let url = this.#baseUrls.get(namenode);
    if (url === undefined) {
      url = new URL(namenode);
      this.#baseUrls.set(namenode, url);
    }
    return url;
  }

  /** Follows the NameNode's redirect to the DataNode and runs `accept` on the DataNode's answer. */
  async #dataNodeStep<T>(
    a: Attempt,
    method: Method,
    body: Uint8Array | Readable | undefined,
    accept: (res: HttpResponse, ctx: StepContext) => Promise<T>,
  ): Promise<T> {
    const url = this.#rewrite(await expectRedirect(a.ctx, a.res.body, a.namenode));
    const ctx: StepContext = { ...a.ctx, step: "datanode", datanode: url.origin };
    if (this.#logger.isLevelEnabled("debug")) this.#logger.debug({ method, url: maskUrl(url, this.#auth.secretParams) }, "webhdfs datanode request");
    // An upload may take long: from here on only the socket idle timeout applies.
    if (body !== undefined) a.deadline.stopClock();
    const agent = url.protocol === "https:" ? this.#dnAgents.https : this.#dnAgents.http;
    const headers = body === undefined ? undefined : { "content-type": "application/octet-stream" };
    if (body !== undefined) a.guard?.(); // an upload's DataNode step is the write itself
    try {
      // A cancelled upload lets the DataNode answer first: it creates the file when the request arrives, so
      // a caller that removes the temporary after an abort removes it only once it can no longer appear.
      const grace = body === undefined ? {} : { cancelGraceMs: UPLOAD_CANCEL_GRACE_MS };
      const res = await sendRequest({ method, url, agent, headers, body, cancel: a.deadline, idleTimeoutMs: a.timeoutMs, ...grace });
      return await accept(res, ctx);
    } catch (err) {
      const consumed = body instanceof Readable && (body.readableDidRead || body.destroyed);
      throw stepFailure(ctx, err, consumed);
    }
  }
}

/** Agent options for the TLS settings; certificates are always verified (there is no switch to turn that off). */
function tlsAgentOptions(tls: TlsSettings | undefined): https.AgentOptions {
  if (tls === undefined) return {};
  const out: https.AgentOptions = {};
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  if (tls.serverName !== undefined) out.servername = tls.serverName;
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function rejected(ctx: StepContext, detail: string): WebHdfsError {
  return stepError(ctx, { failure: "rejected", status: 200, detail });
}

/**
 * A 400 from a server that does not know LISTSTATUS_BATCH (older NameNodes answer IllegalArgumentException
 * for an unknown op). Decided on the exception class alone: the first page's only parameters are the op and
 * a path the client already checked, so a 400 there means the op; a wrong guess costs one LISTSTATUS.
 */
function rejectsBatchListing(err: unknown): boolean {
  if (!(err instanceof WebHdfsError) || err.status !== 400) return false;
  return err.exception === "UnsupportedOperationException" || err.exception === "IllegalArgumentException" || err.failure === "http-status";
}
