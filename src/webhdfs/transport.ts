// One HTTP exchange over node:http/https (not fetch: the DataNode's unsolicited
// `100 Continue` breaks undici): request deadline and AbortSignal, optional
// streamed body with backpressure, socket idle timeout for long transfers, and
// bounded reading of small response bodies. An upload cancelled (or whose body
// failed) after it went out ends its body and waits, briefly, for the server's
// answer: only then is
// the server known to be done with the file (a DataNode creates it when the
// request arrives, which can be after the caller has already removed it).
// Failures become TransportError (TLS handshake and certificate failures told
// apart by their error code).

import http from "node:http";
import https from "node:https";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Readable } from "node:stream";

export type TransportFailure = "network" | "tls" | "timeout" | "aborted" | "too-large";

/**
 * OpenSSL's certificate verification results as Node reports them in `err.code` (X509_V_ERR_* names
 * without the prefix); with the ERR_TLS_ and ERR_SSL_ families (host name mismatch, handshake alerts
 * such as an unknown client CA, plain HTTP answering a TLS hello) they are TLS failures, not network ones.
 */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_CRL", "UNABLE_TO_DECRYPT_CERT_SIGNATURE", "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", "CERT_SIGNATURE_FAILURE", "CRL_SIGNATURE_FAILURE", "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED", "CRL_NOT_YET_VALID", "CRL_HAS_EXPIRED", "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD", "ERROR_IN_CRL_LAST_UPDATE_FIELD", "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_CHAIN_TOO_LONG", "CERT_REVOKED", "INVALID_CA", "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE", "CERT_UNTRUSTED", "CERT_REJECTED", "HOSTNAME_MISMATCH",
]);

/** The error code names a TLS failure (certificate verification, host name check, handshake). */
export function isTlsErrorCode(code: string | undefined): boolean {
  if (code === undefined) return false;
  return CERTIFICATE_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_");
}

/** A failure of the exchange itself (no usable HTTP answer). The client adds the operation context. */
export class TransportError extends Error {
  /**
   * True when this client cut an upload off before the server answered it (an abort past the grace, an
   * idle timeout): the server may still create or complete the file after the caller saw this error.
   */
  readonly unsettled: boolean;

  constructor(
    readonly failure: TransportFailure,
    message: string,
    readonly code?: string,
    options?: { cause?: unknown; unsettled?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TransportError";
    this.unsettled = options?.unsettled ?? false;
  }
}

/** How long a cancelled upload waits for the server's answer to its cut-short body before cutting the connection. */
export const UPLOAD_CANCEL_GRACE_MS = 2000;

/** What can cut a request short: `reason` once it did; `onAbort` runs a callback then (detach when done). */
export interface Cancellation {
  readonly reason: TransportError | undefined;
  /** Runs `fn` once with the reason when the request is to be aborted; returns the function that detaches it. */
  onAbort(fn: (reason: TransportError) => void): () => void;
}

/**
 * Deadline of one request plus the caller's AbortSignal. Neither an AbortController nor a listener on the
 * caller's signal per request (both cost more CPU than the rest of a small NameNode call): the deadlines
 * that follow one caller's signal share a single listener on it, and a request registers a plain callback.
 */
export class RequestDeadline implements Cancellation {
  /** The deadlines following each caller's signal, behind the one listener each signal gets. */
  static readonly #following = new WeakMap<AbortSignal, Set<RequestDeadline>>();
  readonly #userSignal: AbortSignal | undefined;
  #reason: TransportError | undefined;
  #callbacks: Set<(reason: TransportError) => void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, userSignal?: AbortSignal) {
    if (userSignal?.aborted) {
      this.#reason = new TransportError("aborted", "aborted by the caller");
      return;
    }
    if (userSignal !== undefined) {
      this.#userSignal = userSignal;
      let following = RequestDeadline.#following.get(userSignal);
      if (following === undefined) {
        const set = new Set<RequestDeadline>();
        following = set;
        RequestDeadline.#following.set(userSignal, set);
        userSignal.addEventListener("abort", () => {
          for (const d of set) d.#abort(new TransportError("aborted", "aborted by the caller"));
          set.clear();
        }, { once: true });
      }
      following.add(this);
    }
    this.#timer = setTimeout(
      () => this.#abort(new TransportError("timeout", `no answer within the ${timeoutMs} ms deadline`)),
      timeoutMs,
    );
  }

  get reason(): TransportError | undefined {
    return this.#reason;
  }

  onAbort(fn: (reason: TransportError) => void): () => void {
    if (this.#reason !== undefined) {
      fn(this.#reason);
      return () => {};
    }
    (this.#callbacks ??= new Set()).add(fn);
    return () => this.#callbacks?.delete(fn);
  }

  /** Stop the deadline clock (e.g. once a long body transfer starts); the caller's signal stays followed. */
  stopClock(): void {
    clearTimeout(this.#timer);
  }

  /** Release the timer and stop following the caller's signal. */
  dispose(): void {
    this.stopClock();
    if (this.#userSignal !== undefined) RequestDeadline.#following.get(this.#userSignal)?.delete(this);
  }

  #abort(reason: TransportError): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.dispose();
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    for (const fn of callbacks ?? []) fn(reason);
  }
}

export interface HttpRequestSpec {
  method: string;
  url: URL;
  /** Path and query sent instead of `url`'s (then only its protocol, host, port and credentials are used). */
  path?: string;
  agent: http.Agent;
  headers?: Record<string, string>;
  /** A buffer is sent with Content-Length; a stream chunked, respecting backpressure. */
  body?: Uint8Array | Readable;
  /**
   * Its abort destroys the request (and the response, if it is still being read). An upload (`body` set)
   * that already went out instead ends its body and waits up to `cancelGraceMs` for the server's answer,
   * then rejects with the abort's reason either way (never as a success); past the grace it is cut off
   * and the rejection is `unsettled`.
   */
  cancel: Cancellation;
  /**
   * See `cancel`; a streamed body that fails after the upload went out is stopped the same way (rejecting
   * with the body's error). 0 (the default) cuts an upload off at once, as any other request.
   */
  cancelGraceMs?: number;
  /** Socket inactivity limit while sending/receiving; for long transfers that the deadline does not cover. */
  idleTimeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** What broke the exchange after the response was delivered (deadline/abort/idle timeout/reset), if anything. */
  lateFailure(): TransportError | undefined;
}

/**
 * Sends one request and resolves with the final response (interim 1xx answers are skipped).
 * If the server answers while a streamed body is still being sent (an early error from a DataNode),
 * the body stream is unpiped and destroyed and the response is delivered.
 * Rejects with TransportError, or with the body stream's own error if the source failed.
 */
export function sendRequest(spec: HttpRequestSpec): Promise<HttpResponse> {
  const { url, cancel, body } = spec;
  if (cancel.reason !== undefined) return Promise.reject(cancel.reason);
  return new Promise<HttpResponse>((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    let settled = false;
    let sourceError: unknown;
    let lateFailure: TransportError | undefined;
    const req =
      spec.path === undefined
        ? transport.request(url, { method: spec.method, agent: spec.agent, headers: spec.headers })
        : transport.request({ ...originOptions(url), path: spec.path, method: spec.method, agent: spec.agent, headers: spec.headers });
    // Set once an upload that went out is being stopped (cancelled, or its body failed): the server's
    // answer then only ends the wait, and the exchange rejects with this reason.
    let stopping: { reason: unknown } | undefined;
    const grace = body === undefined ? 0 : (spec.cancelGraceMs ?? 0);
    /**
     * Ends the exchange with `reason`. Nothing went out (headers are rendered with the first write), the
     * answer is being read, or no grace: cut it off. Otherwise the server has (or is about to have) the
     * request: end the body where it is and wait up to the grace for the answer; past it, cut it off with
     * `cut()` (unsettled: the server may still create the file).
     */
    const stopUpload = (reason: unknown, cut: () => TransportError): void => {
      if (settled || grace <= 0 || !req.headersSent) {
        req.destroy(reason instanceof Error ? reason : toTransportError(reason));
        return;
      }
      if (stopping !== undefined) return;
      stopping = { reason };
      if (isStream(body)) body.unpipe(req);
      const timer = setTimeout(() => req.destroy(cut()), grace);
      req.once("close", () => clearTimeout(timer));
      if (!req.writableEnded) req.end();
    };
    const unanswered = (what: string, cause: unknown, failure: TransportFailure, code?: string) =>
      new TransportError(failure, `${what}; the server had not answered the cut-short upload within ${grace} ms`, code, { cause, unsettled: true });
    req.once(
      "close",
      cancel.onAbort((reason) => stopUpload(reason, () => unanswered(reason.message, reason, reason.failure, reason.code))),
    );
    if (spec.idleTimeoutMs !== undefined) {
      const idleMs = spec.idleTimeoutMs;
      req.setTimeout(idleMs, () => {
        const unsettled = body !== undefined && req.headersSent && !settled;
        req.destroy(new TransportError("timeout", `socket idle for ${idleMs} ms`, undefined, { unsettled }));
      });
    }
    req.on("error", (err) => {
      if (settled) {
        lateFailure ??= toTransportError(err);
        return;
      }
      settled = true;
      // A cut-short upload the server closed or reset is over on its side too: it ends as the stop it was
      // (the abort, or the body's failure); one cut off past the grace ends as that (unsettled).
      const own = err instanceof TransportError && err.unsettled;
      reject(own ? err : stopping !== undefined ? stopping.reason : (sourceError ?? toTransportError(err)));
    });
    req.on("response", (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      if (stopping !== undefined) {
        // The server is done with the cut-short upload; whatever it answered, the upload did not finish.
        res.resume();
        reject(stopping.reason);
        return;
      }
      if (isStream(body) && !body.readableEnded) {
        body.unpipe(req);
        body.destroy();
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, lateFailure: () => lateFailure });
    });

    if (body === undefined) {
      req.end();
    } else if (isStream(body)) {
      if (body.errored || body.destroyed) {
        // The body failed (or was destroyed) before this request could consume it: its error has been
        // emitted already and would never reach the listener below.
        settled = true;
        const reason = body.errored ?? new TransportError("network", "the request body stream was destroyed before it was sent");
        req.destroy();
        reject(reason);
        return;
      }
      // A body that fails mid-upload (the source read broke, the file vanished) is stopped as a cancel is:
      // a connection cut right after the request went out can reach the DataNode after the caller removed
      // the temporary, which the DataNode would then create.
      const onSourceError = (err: Error): void => {
        sourceError = err;
        stopUpload(err, () => unanswered(`the request body failed: ${err.message}`, err, "network"));
      };
      body.once("error", onSourceError);
      req.once("close", () => {
        body.off("error", onSourceError);
        body.unpipe(req);
      });
      body.pipe(req);
    } else {
      req.setHeader("content-length", body.byteLength);
      req.end(body);
    }
  });
}

/** The request options of `url`'s origin, as node:http derives them from a URL (an IPv6 host without its brackets). */
function originOptions(url: URL): http.RequestOptions {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const o: http.RequestOptions = { protocol: url.protocol, hostname: host };
  if (url.port !== "") o.port = Number(url.port);
  if (url.username !== "" || url.password !== "") o.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return o;
}

function isStream(body: HttpRequestSpec["body"]): body is Readable {
  return body !== undefined && !(body instanceof Uint8Array);
}

/** Any error of node:http/net/tls as a TransportError ("tls" by its code, else "network", unless it already is one). */
export function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (isTlsErrorCode(code)) return new TransportError("tls", tlsExplanation(code as string, message), code, { cause: err });
  return new TransportError("network", message, code, { cause: err });
}

function tlsExplanation(code: string, message: string): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH") {
    return `TLS: the server certificate does not name this host (${message}); connect by a name it lists, or set tls.serverName to one`;
  }
  if (CERTIFICATE_CODES.has(code)) {
    return `TLS: the server certificate is not trusted (${message}); set tls.ca to the CA bundle that signed it`;
  }
  return `TLS handshake failed (${message}); check that the URL's port serves https and, if the server asks for a client certificate, tls.cert/tls.key`;
}

/** Reads a (small) response body as UTF-8 text; more than `maxBytes` is an error, as is an early close. */
export function readText(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new TransportError("too-large", `response body larger than ${maxBytes} bytes`));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.once("error", (err) => reject(toTransportError(err)));
    res.once("close", () => {
      if (!res.complete) reject(new TransportError("network", "connection closed before the response body was complete"));
    });
  });
}

/** Reads and discards a response body so that a keep-alive socket can be reused; errors are ignored. */
export function discardBody(res: IncomingMessage): void {
  res.on("error", () => {});
  res.resume();
}
