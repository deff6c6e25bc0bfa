// The NameNode's delegation-token operations: GETDELEGATIONTOKEN (needs a
// SPNEGO caller in secure mode; {"Token":null} with security off, as a NameNode
// without a running secret manager answers), RENEWDELEGATIONTOKEN (SPNEGO
// caller, the token's renewer) and CANCELDELEGATIONTOKEN (owner or renewer).

import { hdfsErrors } from "./errors.js";
import { sendEmptyOk, sendJson } from "./http-wire.js";
import type { NameNodeRequest } from "./namenode.js";

export function getDelegationToken(r: NameNodeRequest): void {
  if (r.params.get("delegation")) throw hdfsErrors.illegalArgument("delegation parameter is not null.");
  if (!r.cluster.security.enabled) {
    sendJson(r.res, "namenode", 200, JSON.stringify({ Token: null }));
    return;
  }
  requireKerberos(r, "issued");
  const token = r.cluster.security.mint({
    owner: r.caller.user,
    renewer: r.params.get("renewer") || r.caller.user,
    kind: r.params.get("kind") || undefined,
    service: r.params.get("service") || r.cluster.tokenService,
  });
  sendJson(r.res, "namenode", 200, JSON.stringify({ Token: { urlString: token.urlString } }));
}

export function renewDelegationToken(r: NameNodeRequest): void {
  const token = requiredToken(r);
  if (r.cluster.security.enabled) requireKerberos(r, "renewed");
  const expiry = r.cluster.security.tokens.renew(token, r.caller.user);
  sendJson(r.res, "namenode", 200, JSON.stringify({ long: expiry }));
}

export function cancelDelegationToken(r: NameNodeRequest): void {
  r.cluster.security.tokens.cancel(requiredToken(r), r.caller.user);
  sendEmptyOk(r.res);
}

function requiredToken(r: NameNodeRequest): string {
  const token = r.params.get("token");
  if (token === undefined || token === "") throw hdfsErrors.requiredParam("token", r.op);
  return token;
}

/** FSNamesystem.isAllowedDelegationTokenOp: issuing and renewing need Kerberos (SPNEGO), not a token. */
function requireKerberos(r: NameNodeRequest, action: "issued" | "renewed"): void {
  if (r.caller.method !== "spnego") {
    throw hdfsErrors.io403(`Delegation Token can be ${action} only with kerberos or web authentication`);
  }
}
