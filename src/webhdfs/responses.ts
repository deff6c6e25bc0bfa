// Interpretation of one server answer within an operation: turning error statuses
// into WebHdfsError (RemoteException or not), checking a success status and body
// shape, extracting the redirect Location, and converting transport failures.
// Every text that reaches an error goes through secret redaction here.

import type { IncomingMessage } from "node:http";
import { redactSecrets } from "./auth.js";
import { WebHdfsError, type WebHdfsErrorDetails, type WebHdfsStep } from "./errors.js";
import { TransportError, discardBody, readText } from "./transport.js";
import { locationBody, parseJson, parseRemoteException, type ResponseShape } from "./wire.js";

/** Limit for error bodies and for the redirect answer of a NameNode. */
const ERROR_BODY_LIMIT = 64 * 1024;
/** Limit for JSON success bodies (a LISTSTATUS of a very large directory is the biggest). */
export const JSON_BODY_LIMIT = 256 * 1024 * 1024;
const SNIPPET_CHARS = 160;

/** Where in an operation an answer came from: everything an error needs besides the failure itself. */
export interface StepContext {
  cluster: string;
  operation: string;
  path: string;
  destination?: string;
  step: WebHdfsStep;
  namenode: string;
  /** DataNode origin (never its full URL: the query may hold a delegation token). */
  datanode?: string;
  secrets: readonly string[];
}

type FailureFields = Omit<WebHdfsErrorDetails, "cluster" | "operation" | "path" | "destination" | "step" | "namenode" | "datanode">;

/** A WebHdfsError for this step, with secrets removed from every server- or client-provided text. */
export function stepError(ctx: StepContext, fields: FailureFields): WebHdfsError {
  const redact = (text: string): string => redactSecrets(text, ctx.secrets);
  return new WebHdfsError({
    ...fields,
    cluster: ctx.cluster,
    operation: ctx.operation,
    path: ctx.path,
    destination: ctx.destination,
    step: ctx.step,
    namenode: ctx.namenode,
    datanode: ctx.datanode,
    remoteMessage: typeof fields.remoteMessage === "string" ? redact(fields.remoteMessage) : fields.remoteMessage,
    detail: fields.detail === undefined ? undefined : redact(fields.detail),
  });
}

/** Converts what a step threw: TransportError -> WebHdfsError; WebHdfsError and foreign errors pass unchanged. */
export function stepFailure(ctx: StepContext, err: unknown, bodyConsumed = false): unknown {
  if (err instanceof WebHdfsError) return bodyConsumed && err.bodyConsumed !== true ? err.with({ bodyConsumed }) : err;
  if (!(err instanceof TransportError)) return err;
  const failure = err.failure === "too-large" ? "unexpected-response" : err.failure;
  return stepError(ctx, { failure, detail: err.message, code: err.code, bodyConsumed: bodyConsumed || undefined, unsettled: err.unsettled || undefined, cause: err });
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat === "") return "an empty body";
  return flat.length > SNIPPET_CHARS ? `${JSON.stringify(flat.slice(0, SNIPPET_CHARS))}...` : JSON.stringify(flat);
}

function contentType(res: IncomingMessage): string {
  return res.headers["content-type"] ?? "no content type";
}

/** Reads an error answer: a RemoteException becomes a `remote` failure, anything else an `http-status` one. */
export async function errorFromResponse(ctx: StepContext, res: IncomingMessage): Promise<WebHdfsError> {
  const status = res.statusCode ?? 0;
  let text: string;
  try {
    text = await readText(res, ERROR_BODY_LIMIT);
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    return stepError(ctx, { failure: "http-status", status, detail: `error answer unreadable: ${cause}`, cause: err });
  }
  const remote = parseRemoteException(text);
  if (remote !== null) {
    return stepError(ctx, {
      failure: "remote",
      status,
      exception: remote.exception,
      javaClassName: remote.javaClassName,
      remoteMessage: remote.message,
    });
  }
  const hint = status === 404 ? " (no RemoteException: wrong URL prefix or WebHDFS disabled?)" : "";
  return stepError(ctx, {
    failure: "http-status",
    status,
    detail: `HTTP ${status} ${res.statusMessage ?? ""} without a RemoteException body${hint}; got ${contentType(res)}: ${snippet(text)}`,
  });
}

/** Reads a JSON success body of the given shape (status 200 unless told otherwise). */
export async function expectJson<T>(ctx: StepContext, res: IncomingMessage, shape: ResponseShape<T>): Promise<T> {
  const status = res.statusCode ?? 0;
  if (status !== 200) throw await unexpectedStatus(ctx, res, `200 with ${shape.description}`);
  const text = await readText(res, JSON_BODY_LIMIT);
  const value = shape.parse(parseJson(text));
  if (value === undefined) throw unexpectedBody(ctx, status, shape.description, text);
  return value;
}

/** Throws the typed error unless the status is one of `statuses`; the body is left to the caller. */
export async function requireStatus(ctx: StepContext, res: IncomingMessage, statuses: readonly number[]): Promise<void> {
  const status = res.statusCode ?? 0;
  if (!statuses.includes(status)) throw await unexpectedStatus(ctx, res, statuses.join(" or "));
}

/** Accepts one of the given success statuses and discards the body (kept small by the server). */
export async function expectStatus(ctx: StepContext, res: IncomingMessage, statuses: readonly number[]): Promise<void> {
  await requireStatus(ctx, res, statuses);
  discardBody(res);
}

/** Reads a small success body as text after checking its status (for answers with several valid shapes). */
export async function expectText(ctx: StepContext, res: IncomingMessage, statuses: readonly number[]): Promise<string> {
  await requireStatus(ctx, res, statuses);
  return readText(res, ERROR_BODY_LIMIT);
}

/** Error for an answer whose status was fine but whose body is not what the operation accepts. */
export function unexpectedBody(ctx: StepContext, status: number, expected: string, text: string): WebHdfsError {
  return stepError(ctx, { failure: "unexpected-response", status, detail: `expected ${expected}, got ${snippet(text)}` });
}

/** The DataNode URL of a redirect op: a 3xx Location, or a `{"Location":...}` body (noredirect servers). */
export async function expectRedirect(ctx: StepContext, res: IncomingMessage, base: string): Promise<URL> {
  const status = res.statusCode ?? 0;
  let location: string | undefined;
  if (status >= 300 && status < 400) {
    location = res.headers.location;
    discardBody(res);
    if (location === undefined || location === "") {
      throw stepError(ctx, { failure: "unexpected-response", status, detail: "redirect without a Location header" });
    }
  } else if (status === 200) {
    const text = await readText(res, ERROR_BODY_LIMIT);
    location = locationBody.parse(parseJson(text));
    if (location === undefined) {
      throw stepError(ctx, {
        failure: "unexpected-response",
        status,
        detail: `expected a 307 redirect to a DataNode, got 200 with ${snippet(text)}`,
      });
    }
  } else {
    throw await unexpectedStatus(ctx, res, "a 307 redirect to a DataNode");
  }
  try {
    return new URL(location, base);
  } catch {
    throw stepError(ctx, { failure: "unexpected-response", status, detail: `redirect Location is not a URL: ${snippet(location)}` });
  }
}

/** An error status becomes its typed error; an unexpected success/other status says what was expected. */
async function unexpectedStatus(ctx: StepContext, res: IncomingMessage, expected: string): Promise<WebHdfsError> {
  const status = res.statusCode ?? 0;
  if (status >= 400) return errorFromResponse(ctx, res);
  let text = "";
  try {
    text = await readText(res, ERROR_BODY_LIMIT);
  } catch {
    // the status alone says enough
  }
  return stepError(ctx, { failure: "unexpected-response", status, detail: `expected ${expected}, got HTTP ${status}: ${snippet(text)}` });
}
