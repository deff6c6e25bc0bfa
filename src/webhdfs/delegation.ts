// The delegation token of one cluster, for its whole life: fetched with
// GETDELEGATIONTOKEN after SPNEGO (renewer = the daemon's principal), renewed
// before its renew deadline, replaced before its max lifetime or at once when
// the NameNode refuses it, cancelled on a clean stop; or read from a file and
// re-read when the file changes (Kubernetes Secret rotation). Counts renewals,
// re-fetches and failures for the metrics. Token values never leave this module
// except as the `delegation` parameter (masked in logs and errors).

import { readFile, stat } from "node:fs/promises";
import type { Logger } from "../util/log.js";
import { isPermissionDenied, isTokenRejected } from "./errors.js";
import { decodeToken, TokenFormatError } from "./token-codec.js";
import type { AuthProvider } from "./types.js";

/** Produces the `Authorization: Negotiate ...` value for a NameNode (SPNEGO; see spnego.ts). */
export interface Negotiator {
  /** The client principal (user@REALM): the renewer of the tokens it fetches. */
  readonly principal: string;
  authorization(namenode: string): Promise<string>;
  /** Forget any cached context, so the next authorization() negotiates anew. */
  reset?(): void;
}

/** The NameNode's token operations, run by the client with SPNEGO credentials. */
export interface TokenOps {
  /** GETDELEGATIONTOKEN; null when the cluster has security off ({"Token":null}). */
  fetch(renewer: string, signal?: AbortSignal): Promise<string | null>;
  /** RENEWDELEGATIONTOKEN: the new expiry (ms since the epoch). */
  renew(token: string, signal?: AbortSignal): Promise<number>;
  cancel(token: string): Promise<void>;
}

export type TokenSourceKind = "kerberos" | "file";

/** What the metrics and /status may know of a token (never its value). */
export interface TokenStatus {
  source: TokenSourceKind;
  /** When the current token stops being accepted unless renewed (ms), when known. */
  expiresAt: number | null;
  /** The current token's max date (no renewal goes past it), when it could be read from the token. */
  maxDate: number | null;
  renewals: number;
  refetches: number;
  /** Renewals, fetches or file reads that failed. */
  failures: number;
}

/**
 * The `event` field of the warning logged when the NameNode refuses a token (cancelled, master key expired)
 * and a new one is fetched: a recovery, whether an operation or the scheduled renewal met it.
 */
export const TOKEN_REFUSED_EVENT = "delegation-token-refused";

/** Fraction of the time from a renewal to the expiry after which the token is renewed again. */
const RENEW_AT = 0.75;
/** A renewal that failed for a transient reason is tried again after this long at the earliest. */
const RENEW_RETRY_MS = 5_000;
/** How many replaced token values are still masked in messages. */
const REMEMBERED_SECRETS = 8;

interface Current {
  token: string;
  /** Expiry and max date on the NameNode's clock (as it answers them). */
  expiresAt: number | null;
  maxDate: number | null;
  /**
   * The NameNode's clock minus ours, estimated from a fetched token's issue date when it arrives
   * (0 for a token read from a file: its issue date says nothing about now). Every comparison of
   * our time with the token's dates goes through it, so a skewed host clock neither renews too late
   * nor takes every new token for expired (re-fetching in a loop).
   */
  clockOffsetMs: number;
  /** When to renew (or re-fetch, near the max date). */
  dueAt: number;
}

abstract class TokenAuthBase implements AuthProvider {
  readonly secretParams: readonly string[] = ["delegation", "token"];
  protected current: Current | null = null;
  protected readonly remembered: string[] = [];
  protected readonly counts = { renewals: 0, refetches: 0, failures: 0 };

  constructor(
    protected readonly doAs: string | undefined,
    protected readonly logger: Logger,
    protected readonly now: () => number,
  ) {}

  abstract readonly source: TokenSourceKind;
  abstract prepare(signal?: AbortSignal): Promise<void>;
  abstract recover(err: unknown, sent: Record<string, string>, signal?: AbortSignal): Promise<boolean>;

  queryParams(): Record<string, string> {
    return this.current === null ? this.fallbackParams() : { delegation: this.current.token };
  }

  /** Parameters when there is no token (security off on the cluster). */
  protected fallbackParams(): Record<string, string> {
    return this.doAs === undefined ? {} : { doas: this.doAs };
  }

  headers(): Record<string, string> {
    return {};
  }

  secrets(): string[] {
    return [...this.remembered];
  }

  status(): TokenStatus {
    return { source: this.source, expiresAt: this.current?.expiresAt ?? null, maxDate: this.current?.maxDate ?? null, ...this.counts };
  }

  /** Makes `token` the current one; `fetchedNow` says it was issued just now (its issue date then gives the clock offset). */
  protected install(token: string, expiresAt: number | null, fetchedNow = false): void {
    this.remembered.push(token);
    if (this.remembered.length > REMEMBERED_SECRETS) this.remembered.shift();
    const dates = tokenDates(token);
    const now = this.now();
    const clockOffsetMs = fetchedNow && dates !== null ? dates.issueDate - now : 0;
    const current: Current = { token, expiresAt, maxDate: dates?.maxDate ?? null, clockOffsetMs, dueAt: 0 };
    current.dueAt = this.dueAfter(current, now, expiresAt);
    this.current = current;
  }

  /** When (our clock) token `c`, renewed or fetched at `from` (our clock) with this expiry, is renewed or replaced next. */
  protected dueAfter(c: Current, from: number, expiresAt: number | null): number {
    const end = expiresAt ?? c.maxDate;
    if (end === null) return Number.POSITIVE_INFINITY;
    const endHere = end - c.clockOffsetMs;
    return from + Math.max(0, endHere - from) * RENEW_AT;
  }

  toJSON(): Record<string, unknown> {
    return { source: this.source, delegation: this.current === null ? null : "***", ...(this.doAs ? { doas: this.doAs } : {}) };
  }

  toString(): string {
    return `DelegationTokenAuth(${JSON.stringify(this.toJSON())})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** The token's issue and max dates from its identifier, or null for a token this client cannot decode. */
function tokenDates(token: string): { issueDate: number; maxDate: number } | null {
  try {
    const id = decodeToken(token).identifier;
    return { issueDate: id.issueDate, maxDate: id.maxDate };
  } catch (err) {
    if (err instanceof TokenFormatError) return null;
    throw err;
  }
}

export interface KerberosTokenOptions {
  negotiator: Negotiator;
  ops: TokenOps;
  /** The renewer named in GETDELEGATIONTOKEN (default: the negotiator's principal). */
  renewer?: string;
  doAs?: string;
  logger: Logger;
  now?: () => number;
}

/**
 * Tokens fetched by this process with its Kerberos identity. One fetch/renewal runs at a time; the
 * operations waiting for it share its outcome.
 */
export class KerberosTokenAuth extends TokenAuthBase {
  readonly source = "kerberos" as const;
  readonly #o: KerberosTokenOptions;
  /** The cluster answered {"Token":null}: security is off there; requests go without a token. */
  #securityOff = false;
  #inFlight: Promise<void> | null = null;
  /** Replaced tokens, cancelled one generation later (requests may still be using them) and at release(). */
  #retired: string[] = [];

  constructor(o: KerberosTokenOptions) {
    super(o.doAs, o.logger, o.now ?? Date.now);
    this.#o = o;
  }

  get renewer(): string {
    return this.#o.renewer ?? this.#o.negotiator.principal;
  }

  async prepare(signal?: AbortSignal): Promise<void> {
    if (this.#securityOff) return;
    const c = this.current;
    if (c !== null && this.now() < c.dueAt) return;
    await this.#once(() => (this.current === null ? this.#fetch(signal) : this.#renewOrReplace(signal)));
  }

  async recover(err: unknown, sent: Record<string, string>, signal?: AbortSignal): Promise<boolean> {
    if (!isTokenRejected(err) || sent.delegation === undefined) return false;
    // Another operation may have replaced the refused token already.
    if (this.current !== null && this.current.token !== sent.delegation) return true;
    this.logger.warn({ event: TOKEN_REFUSED_EVENT, err: (err as Error).message }, "the NameNode refused the delegation token; fetching a new one");
    await this.#once(async () => {
      if (this.current !== null && this.current.token !== sent.delegation) return;
      this.current = null; // a refused token is not cancelled: the NameNode has forgotten it already
      await this.#fetch(signal, true);
    });
    return true;
  }

  /** Cancels the current and the retired tokens (clean stop); failures are logged, not thrown. */
  async release(): Promise<void> {
    await this.#inFlight?.catch(() => {});
    const tokens = [...this.#retired, ...(this.current ? [this.current.token] : [])];
    this.#retired = [];
    this.current = null;
    await Promise.all(tokens.map((t) => this.#cancel(t)));
  }

  #once(work: () => Promise<void>): Promise<void> {
    this.#inFlight ??= work().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #fetch(signal: AbortSignal | undefined, replacing = false): Promise<void> {
    let token: string | null;
    try {
      token = await this.#o.ops.fetch(this.renewer, signal);
    } catch (err) {
      this.counts.failures++;
      throw err;
    }
    if (token === null) {
      this.#securityOff = true;
      this.logger.info("the cluster hands out no delegation tokens (security off); requests go without one");
      return;
    }
    if (replacing) this.counts.refetches++;
    // The renewal right after the fetch tells the token's expiry (the answer of RENEWDELEGATIONTOKEN).
    this.install(token, null, true);
    await this.#renew(token, signal);
    const c = this.current as Current | null;
    this.logger.info(
      { expiresAt: c?.expiresAt ? new Date(c.expiresAt).toISOString() : null, maxDate: c?.maxDate ? new Date(c.maxDate).toISOString() : null },
      replacing ? "fetched a new delegation token" : "fetched a delegation token",
    );
  }

  async #renewOrReplace(signal: AbortSignal | undefined): Promise<void> {
    const c = this.current as Current;
    const now = this.now() + c.clockOffsetMs; // on the NameNode's clock, like the token's dates
    // A renewal cannot extend past the max date: near it, a new token replaces this one.
    if (c.maxDate !== null && Math.max(now, c.expiresAt ?? now) >= c.maxDate) {
      this.#retire(c.token);
      this.current = null;
      await this.#fetch(signal, true);
      return;
    }
    const renewed = await this.#renew(c.token, signal);
    if (renewed) this.counts.renewals++;
  }

  /** True when renewed; a refused token is replaced at once; a transient failure keeps it and tries again later. */
  async #renew(token: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      const expiresAt = await this.#o.ops.renew(token, signal);
      const c = this.current;
      if (c !== null && c.token === token) {
        c.expiresAt = expiresAt;
        c.dueAt = this.dueAfter(c, this.now(), expiresAt);
      }
      return true;
    } catch (err) {
      if (isTokenRejected(err)) {
        // The NameNode no longer knows the token (cancelled, or its master key expired): replaced at once and
        // counted as a re-fetch, as when an operation meets it first (recover()); a failed fetch counts itself.
        this.logger.warn({ event: TOKEN_REFUSED_EVENT, err: (err as Error).message }, "delegation token renewal refused; fetching a new token");
        this.current = null;
        await this.#fetch(signal, true);
        return false;
      }
      this.counts.failures++;
      const c = this.current;
      if (isPermissionDenied(err)) {
        // Not the token's renewer (a renewer setting that names someone else): renewing cannot work; the
        // token is used until a refusal or its max date brings a new one.
        this.logger.warn({ err: (err as Error).message, renewer: this.renewer }, "not allowed to renew the delegation token; it is replaced when it runs out");
        if (c !== null && c.token === token) c.dueAt = this.dueAfter(c, this.now(), null);
        return false;
      }
      this.logger.warn({ err: (err as Error).message }, "delegation token renewal failed; keeping the token and trying again");
      if (c !== null && c.token === token) c.dueAt = this.now() + RENEW_RETRY_MS;
      return false;
    }
  }

  #retire(token: string): void {
    const older = this.#retired.splice(0);
    this.#retired.push(token);
    for (const t of older) void this.#cancel(t);
  }

  async #cancel(token: string): Promise<void> {
    try {
      await this.#o.ops.cancel(token);
    } catch (err) {
      if (!isTokenRejected(err)) this.logger.warn({ err: (err as Error).message }, "cancelling a delegation token failed");
    }
  }
}

export interface FileTokenOptions {
  path: string;
  doAs?: string;
  logger: Logger;
  /** Look at the file at most this often (default 1000 ms; 0: before every operation). */
  checkIntervalMs?: number;
  now?: () => number;
}

/**
 * A token another party keeps current in a file (e.g. a mounted Kubernetes Secret): read before the first
 * operation, re-read when the file changes (checked at most every checkIntervalMs) and at once when the
 * NameNode refuses the token. This process neither renews nor cancels it (it is not its renewer).
 */
export class FileTokenAuth extends TokenAuthBase {
  readonly source = "file" as const;
  readonly #o: FileTokenOptions;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #version = "";

  constructor(o: FileTokenOptions) {
    super(o.doAs, o.logger, o.now ?? Date.now);
    this.#o = o;
  }

  /** A token from a file is used with doas like a static one (the NameNode checks the proxy-user rules). */
  override queryParams(): Record<string, string> {
    return this.current === null ? this.fallbackParams() : { delegation: this.current.token, ...this.fallbackParams() };
  }

  async prepare(): Promise<void> {
    if (this.current !== null && this.now() - this.#checkedAt < (this.#o.checkIntervalMs ?? 1000)) return;
    await this.#reread();
  }

  async recover(err: unknown, sent: Record<string, string>): Promise<boolean> {
    if (!isTokenRejected(err)) return false;
    await this.#reread();
    return this.current !== null && this.current.token !== sent.delegation;
  }

  /** Reads the file again when its identity, size or modification time changed. */
  async #reread(): Promise<void> {
    this.#checkedAt = this.now();
    let version: string;
    let text: string;
    try {
      const s = await stat(this.#o.path);
      version = `${s.ino}:${s.size}:${s.mtimeMs}`;
      if (version === this.#version && this.current !== null) return;
      text = (await readFile(this.#o.path, "utf8")).trim();
    } catch (err) {
      this.counts.failures++;
      if (this.current !== null) {
        this.logger.warn({ file: this.#o.path, code: (err as NodeJS.ErrnoException).code }, "cannot re-read the delegation token file; keeping the token read before");
        return;
      }
      throw new TokenFileError(this.#o.path, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    if (text === "") {
      this.counts.failures++;
      if (this.current === null) throw new TokenFileError(this.#o.path, "it is empty");
      return;
    }
    this.#version = version;
    if (this.current?.token === text) return;
    const first = this.current === null;
    this.install(text, null);
    if (!first) {
      this.counts.refetches++;
      this.logger.info({ file: this.#o.path }, "the delegation token file changed; using the new token");
    }
  }
}

/** The delegation token file cannot be used. Names the file, never its content. */
export class TokenFileError extends Error {
  readonly kind = "token-file";
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`delegation token file ${file}: ${reason}`, options);
    this.name = "TokenFileError";
  }
}

export type TokenAuth = KerberosTokenAuth | FileTokenAuth;
