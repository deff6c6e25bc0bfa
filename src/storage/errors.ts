// The port's error: every adapter turns its backend's failures into a
// StorageError whose `reason` says what happened in the engine's terms, so
// nothing above src/storage/ knows a Java exception class, an HTTP status or an
// errno, and no decision is taken on a message's text. The backend's own typed
// error stays reachable as `cause` (for logs and diagnostics).

import { CkptError } from "../util/errors.js";

/**
 * Why a storage operation failed:
 * - `not-found`: the path (or a parent directory) does not exist;
 * - `exists`: a create without overwrite, or a rename without overwrite, found the path taken;
 * - `conflict`: a conditional write found the file changed since the version it was given;
 * - `denied`: permissions, authentication or authorization refused it;
 * - `unreachable`: the service could not be reached (network, deadline) after the adapter's own retries;
 * - `transient`: the service answered "not now" (overloaded, starting, safe mode, 5xx, cut transfer);
 * - `aborted`: the caller's AbortSignal fired;
 * - `unsupported`: the backend does not offer the operation;
 * - `fatal`: the request was refused as invalid; sending it again cannot help;
 * - `failed`: a failure the adapter cannot classify; a later attempt may or may not succeed.
 */
export type StorageReason =
  | "not-found"
  | "exists"
  | "conflict"
  | "denied"
  | "unreachable"
  | "transient"
  | "aborted"
  | "unsupported"
  | "fatal"
  | "failed";

export interface StorageErrorDetails {
  reason: StorageReason;
  /** Label of the storage ("hdfs2", "target"...). */
  storage: string;
  operation: string;
  path: string;
  /** The one-line message; the adapter's backend error usually says it best. */
  message: string;
  /** What the operator may check (set by the adapter, which knows its backend), e.g. a wrong address. */
  hint?: string;
  /**
   * A write the adapter cut off before the service had answered it (an abort past its grace, a timeout):
   * the file it was writing may still appear afterwards, so a removal right away is not final.
   */
  unsettled?: boolean;
  cause?: unknown;
}

export class StorageError extends CkptError {
  readonly kind = "storage";
  readonly reason: StorageReason;
  readonly storage: string;
  readonly operation: string;
  readonly path: string;
  readonly hint?: string;
  readonly unsettled?: true;

  constructor(d: StorageErrorDetails) {
    super(d.message, d.cause === undefined ? undefined : { cause: d.cause });
    this.reason = d.reason;
    this.storage = d.storage;
    this.operation = d.operation;
    this.path = d.path;
    if (d.hint !== undefined) this.hint = d.hint;
    if (d.unsettled === true) this.unsettled = true;
  }
}

/** True for a write cut off before the storage answered it: what it wrote may still appear later. */
export function isUnsettledWrite(err: unknown): boolean {
  return err instanceof StorageError && err.unsettled === true;
}

/** The reason of a storage failure, or null for anything that is not a StorageError. */
export function storageReason(err: unknown): StorageReason | null {
  return err instanceof StorageError ? err.reason : null;
}

/** True for "this path does not exist" from any Storage implementation. */
export function isMissing(err: unknown): boolean {
  return storageReason(err) === "not-found";
}

/** True for "the path already exists" (create without overwrite, rename onto an existing name). */
export function isAlreadyExists(err: unknown): boolean {
  return storageReason(err) === "exists";
}

/** Waiting may mend it: the service is unreachable or answered "not now" (busy, starting, safe mode). */
export function isTransient(err: unknown): boolean {
  const reason = storageReason(err);
  return reason === "unreachable" || reason === "transient";
}

/**
 * A copy attempted again may succeed: not for a refusal (denied, invalid, unsupported, a lost condition)
 * nor an abort. Errors that are not the storage's (a verification, a broken stream) are worth a retry.
 */
export function isWorthRetrying(err: unknown): boolean {
  const reason = storageReason(err);
  if (reason === null) return true;
  return reason !== "denied" && reason !== "aborted" && reason !== "fatal" && reason !== "unsupported" && reason !== "conflict";
}
