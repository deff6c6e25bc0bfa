// Secure mode of one emulated cluster: who a NameNode or DataNode request is
// from. Security off trusts user.name/doas. Security on plays the Hadoop auth
// filter (401 + WWW-Authenticate: Negotiate without credentials; a test-only
// "Authorization: Negotiate <anything>" counts as SPNEGO for the configured
// user) and JspHelper.getUGI (delegation= is verified and names the user).

import type { IncomingMessage, ServerResponse } from "node:http";
import { hdfsErrors, RemoteHdfsError } from "./errors.js";
import { effectiveUser, sendJettyError } from "./http-wire.js";
import { DelegationTokenManager, type IssuedToken, type TokenLifetimes, type TokenRequest } from "./tokens.js";

export interface SecuritySettings extends TokenLifetimes {
  /** The cluster starts in secure mode. */
  enabled: boolean;
  /** User that an `Authorization: Negotiate <anything>` header authenticates as (stands in for a Kerberos principal). */
  spnegoUser: string;
  /** Clock of the token secret manager (default Date.now). */
  clock?: () => number;
}

/** How a request was authenticated, and as whom. */
export type Caller =
  | { method: "simple"; user: string }
  | { method: "spnego"; user: string }
  | { method: "token"; user: string; token: string };

export class ClusterSecurity {
  enabled: boolean;
  readonly tokens: DelegationTokenManager;

  constructor(
    private readonly settings: SecuritySettings,
    private readonly staticUser: string,
    now?: () => number,
  ) {
    this.enabled = settings.enabled;
    this.tokens = new DelegationTokenManager(settings, now ?? settings.clock);
  }

  get spnegoUser(): string {
    return this.settings.spnegoUser;
  }

  mint(request: TokenRequest): IssuedToken {
    return this.tokens.issue(request);
  }

  /**
   * The caller of a NameNode request, or null after answering 401 like the auth filter (secure mode, neither a
   * delegation token nor SPNEGO). `standby`: a standby cannot verify tokens and answers StandbyException.
   */
  nameNodeCaller(req: IncomingMessage, res: ServerResponse, params: Map<string, string>, rawPath: string, standby: boolean): Caller | null {
    if (!this.enabled) return { method: "simple", user: effectiveUser(params, this.staticUser) };
    const token = params.get("delegation");
    if (token !== undefined && token !== "") {
      if (standby) throw hdfsErrors.standby("READ", "standby");
      return this.tokenCaller(token, params);
    }
    if (negotiated(req)) return { method: "spnego", user: actingUser(this.settings.spnegoUser, params) };
    sendJettyError(res, 401, "Authentication required", rawPath, { "WWW-Authenticate": "Negotiate" });
    return null;
  }

  /** The caller of a DataNode request: in secure mode only a valid delegation token (DataNodes never do SPNEGO). */
  dataNodeCaller(params: Map<string, string>): Caller {
    if (!this.enabled) return { method: "simple", user: effectiveUser(params, this.staticUser) };
    const token = params.get("delegation");
    if (token === undefined || token === "") {
      throw hdfsErrors.noUserInformation("java.io.IOException", "no delegation token in a DataNode request of a secure cluster");
    }
    return this.tokenCaller(token, params);
  }

  private tokenCaller(token: string, params: Map<string, string>): Caller {
    let owner: string;
    try {
      owner = this.tokens.verify(token).owner;
    } catch (err) {
      if (err instanceof RemoteHdfsError) throw hdfsErrors.noUserInformation(err.javaClassName, err.remoteMessage ?? "");
      throw err;
    }
    return { method: "token", user: actingUser(owner, params), token };
  }
}

/** The authenticated user, or the `doas` user it acts for; a `user.name` naming someone else is refused (getUGI). */
function actingUser(authenticated: string, params: Map<string, string>): string {
  const named = params.get("user.name");
  if (named !== undefined && named !== "" && named !== authenticated) {
    throw hdfsErrors.noUserInformation("java.io.IOException", `Usernames not matched: name=${named} != expected=${authenticated}`);
  }
  return effectiveUser(params, authenticated);
}

/** `Authorization: Negotiate <something>`: the emulator's stand-in for a successful SPNEGO exchange. */
function negotiated(req: IncomingMessage): boolean {
  return /^Negotiate\s+\S/i.test(req.headers.authorization ?? "");
}
