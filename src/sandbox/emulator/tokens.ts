// One cluster's delegation-token secret manager: mints tokens (HMAC-SHA1
// passwords under a per-sandbox master key), checks them, renews and cancels
// them with the rules and InvalidToken/AccessControlException texts of
// Hadoop's AbstractDelegationTokenSecretManager. Tokens live in memory only.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { hdfsErrors } from "./errors.js";
import {
  decodeToken,
  describeIdentifier,
  encodeIdentifier,
  encodeToken,
  TokenFormatError,
  type DecodedToken,
  type DelegationTokenIdentifier,
} from "../../webhdfs/token-codec.js";

export interface TokenLifetimes {
  /** dfs.namenode.delegation.token.renew-interval: validity after issue and after each renewal. */
  renewIntervalMs: number;
  /** dfs.namenode.delegation.token.max-lifetime: no renewal goes past issueDate + this. */
  maxLifetimeMs: number;
}

export interface TokenRequest {
  owner: string;
  renewer: string;
  /** Token kind (default "WEBHDFS delegation", what a NameNode hands out over http). */
  kind?: string;
  service: string;
  /** Validity of this token instead of the renew interval (tests and demos: an already or soon expired token). */
  expiresInMs?: number;
}

export interface IssuedToken {
  urlString: string;
  /** When the token stops being accepted unless renewed (ms since the epoch). */
  expiresAt: number;
}

export const WEBHDFS_TOKEN_KIND = "WEBHDFS delegation";
const MASTER_KEY_ID = 1;

export class DelegationTokenManager {
  private readonly masterKey = randomBytes(32);
  /** Live tokens by sequence number: current expiry and max date. Cancelled tokens are removed. */
  private readonly live = new Map<number, { renewDate: number; maxDate: number }>();
  private sequence = 0;

  constructor(
    private readonly lifetimes: TokenLifetimes,
    private readonly now: () => number = Date.now,
  ) {}

  issue(request: TokenRequest): IssuedToken {
    this.forgetPastMaxDate();
    const issueDate = this.now();
    const identifier: DelegationTokenIdentifier = {
      owner: request.owner,
      // AbstractDelegationTokenIdentifier stores the renewer's short name (HadoopKerberosName): a principal
      // replicator/host@REALM renews as "replicator".
      renewer: shortName(request.renewer),
      realUser: "",
      issueDate,
      maxDate: issueDate + this.lifetimes.maxLifetimeMs,
      sequenceNumber: ++this.sequence,
      masterKeyId: MASTER_KEY_ID,
    };
    const identifierBytes = encodeIdentifier(identifier);
    const expiresAt = Math.min(identifier.maxDate, issueDate + (request.expiresInMs ?? this.lifetimes.renewIntervalMs));
    this.live.set(identifier.sequenceNumber, { renewDate: expiresAt, maxDate: identifier.maxDate });
    const urlString = encodeToken({
      identifierBytes,
      password: this.password(identifierBytes),
      kind: request.kind ?? WEBHDFS_TOKEN_KIND,
      service: request.service,
    });
    return { urlString, expiresAt };
  }

  /** The identifier of a genuine, live, unexpired token (checkToken + verifyToken); else an InvalidToken error. */
  verify(urlString: string): DelegationTokenIdentifier {
    const token = this.decode(urlString);
    const id = token.identifier;
    const renewDate = this.live.get(id.sequenceNumber)?.renewDate;
    // Hadoop 3.4's text (AbstractDelegationTokenSecretManager.checkToken), as the secure interop scenario saw it.
    if (renewDate === undefined) throw hdfsErrors.invalidToken(`Token for real user: ${id.realUser}, can't be found in cache`);
    const now = this.now();
    if (renewDate < now) {
      throw hdfsErrors.invalidToken(
        `token (${describeIdentifier(id)}) is expired, current time: ${formatTime(now)} expected renewal time: ${formatTime(renewDate)}`,
      );
    }
    this.checkPassword(token);
    return id;
  }

  /** Extends a token's life by the renew interval (capped at its max date); only its renewer may. Returns the new expiry. */
  renew(urlString: string, caller: string): number {
    const token = this.decode(urlString);
    const id = token.identifier;
    const now = this.now();
    if (id.maxDate < now) {
      throw hdfsErrors.invalidToken(
        `${caller} tried to renew an expired token (${describeIdentifier(id)}) max expiration date: ${formatTime(id.maxDate)} currentTime: ${formatTime(now)}`,
      );
    }
    if (id.renewer === "") throw hdfsErrors.accessDenied(`${caller} tried to renew a token (${describeIdentifier(id)}) without a renewer`);
    if (id.renewer !== caller) {
      throw hdfsErrors.accessDenied(`${caller} tries to renew a token (${describeIdentifier(id)}) with non-matching renewer ${id.renewer}`);
    }
    this.checkPassword(token);
    if (!this.live.has(id.sequenceNumber)) {
      throw hdfsErrors.invalidToken(`Renewal request for unknown token (${describeIdentifier(id)})`);
    }
    const renewDate = Math.min(id.maxDate, now + this.lifetimes.renewIntervalMs);
    this.live.set(id.sequenceNumber, { renewDate, maxDate: id.maxDate });
    return renewDate;
  }

  /** Forgets every live token (an administrator revoking them all); returns how many there were. */
  cancelAll(): number {
    const count = this.live.size;
    this.live.clear();
    return count;
  }

  /** Forgets a token for good; its owner or renewer may. */
  cancel(urlString: string, caller: string): void {
    const id = this.decode(urlString).identifier;
    if (!this.live.has(id.sequenceNumber)) throw hdfsErrors.invalidToken(`Token not found (${describeIdentifier(id)})`);
    if (caller !== id.owner && caller !== id.renewer) {
      throw hdfsErrors.accessDenied(`${caller} is not authorized to cancel the token (${describeIdentifier(id)})`);
    }
    this.live.delete(id.sequenceNumber);
  }

  private decode(urlString: string): DecodedToken {
    try {
      return decodeToken(urlString);
    } catch (err) {
      if (err instanceof TokenFormatError) throw hdfsErrors.invalidToken(`malformed delegation token: ${err.message}`);
      throw err;
    }
  }

  private checkPassword(token: DecodedToken): void {
    const expected = this.password(token.identifierBytes);
    const matches = token.password.length === expected.length && timingSafeEqual(token.password, expected);
    if (!matches || token.identifier.masterKeyId !== MASTER_KEY_ID) {
      throw hdfsErrors.invalidToken(`token (${describeIdentifier(token.identifier)}) is invalid, password doesn't match`);
    }
  }

  private password(identifierBytes: Buffer): Buffer {
    return createHmac("sha1", this.masterKey).update(identifierBytes).digest();
  }

  /** Bounds memory: a token past its max date can never be used or renewed again. */
  private forgetPastMaxDate(): void {
    const now = this.now();
    for (const [sequence, { maxDate }] of this.live) {
      if (maxDate < now) this.live.delete(sequence);
    }
  }
}

function shortName(principal: string): string {
  return principal.split(/[/@]/)[0] ?? principal;
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
