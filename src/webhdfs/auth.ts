// Credentials for WebHDFS requests. `createSimpleAuth` covers security-off clusters
// (user.name, doas) and static delegation tokens; header-based schemes (SPNEGO)
// plug in through AuthProvider.headers(). Also the redaction of secret values
// from any text (error messages, logged URLs).

import type { AuthProvider, ClusterConnection } from "./types.js";

const MASK = "***";

class SimpleAuth implements AuthProvider {
  readonly secretParams: readonly string[] = ["delegation"];
  readonly #params: Readonly<Record<string, string>>;

  constructor(conn: Pick<ClusterConnection, "user" | "doAs" | "delegationToken">) {
    const params: Record<string, string> = {};
    // With a token the NameNode takes the user from the token; user.name would be redundant.
    if (conn.delegationToken !== undefined && conn.delegationToken !== "") {
      params.delegation = conn.delegationToken;
    } else if (conn.user !== undefined && conn.user !== "") {
      params["user.name"] = conn.user;
    }
    if (conn.doAs !== undefined && conn.doAs !== "") params.doas = conn.doAs;
    this.#params = params;
  }

  queryParams(): Record<string, string> {
    return { ...this.#params };
  }

  headers(): Record<string, string> {
    return {};
  }

  toJSON(): Record<string, string> {
    return redactParams(this.#params, this.secretParams);
  }

  toString(): string {
    return `SimpleAuth(${JSON.stringify(this.toJSON())})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** user.name / doas / delegation from the cluster connection. The token never shows in JSON or inspect output. */
export function createSimpleAuth(conn: Pick<ClusterConnection, "user" | "doAs" | "delegationToken">): AuthProvider {
  return new SimpleAuth(conn);
}

function redactParams(params: Readonly<Record<string, string>>, secretParams: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) out[name] = secretParams.includes(name) ? MASK : value;
  return out;
}

/** The secret values an auth provider sends (delegation token...), in raw and percent-encoded form. */
export function secretValues(auth: AuthProvider): string[] {
  const params = auth.queryParams();
  const raw = auth.secrets?.() ?? [];
  for (const name of auth.secretParams) {
    const value = params[name];
    if (value !== undefined && value !== "") raw.push(value);
  }
  return [...new Set(raw.filter((v) => v !== "").flatMap((v) => [v, encodeURIComponent(v)]))];
}

/** `text` with every occurrence of the given secret values replaced by `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join(MASK);
  }
  return out;
}
