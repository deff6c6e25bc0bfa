// SPNEGO (Kerberos over HTTP `Authorization: Negotiate`) for the NameNode's
// delegation-token operations: the GSSAPI negotiator built on the optional npm
// `kerberos` package (credentials from a keytab, no kinit, or from an existing
// ticket cache), the service principal HTTP@<NameNode host> unless configured,
// the auth provider the client runs those operations with (a 401 Negotiate
// answer re-negotiates once), and SpnegoError, which names principal, NameNode
// and the GSS message.

import { CkptError } from "../util/errors.js";
import type { Negotiator } from "./delegation.js";
import type { AuthProvider } from "./types.js";

/** Negotiation failed: no credentials, unknown principal, wrong keytab, KDC unreachable, refused by the NameNode. */
export class SpnegoError extends CkptError {
  readonly kind = "spnego";
  constructor(
    readonly principal: string,
    readonly namenode: string,
    readonly servicePrincipal: string,
    readonly gssMessage: string,
    options?: { cause?: unknown },
  ) {
    super(`SPNEGO as ${principal} to ${namenode} (service ${servicePrincipal}) failed: ${gssMessage}`, options);
  }
}

/** The optional `kerberos` package is not installed (or did not build): Kerberos settings cannot be used. */
export class KerberosUnavailableError extends CkptError {
  readonly kind = "kerberos-unavailable";
}

export interface KerberosSettings {
  /** The daemon's principal, e.g. replicator@EXAMPLE.COM (renewer of its tokens). */
  principal: string;
  /** Keytab to take the principal's keys from; absent: the ticket cache (KRB5CCNAME or the default). */
  keytab?: string;
  /** Service principal of the NameNodes' HTTP endpoint, `HTTP@host` form; default HTTP@<NameNode URL host>. */
  servicePrincipal?: string;
}

/** HTTP@<host of the NameNode URL> (GSS host-based service name), or the configured one. */
export function servicePrincipalFor(namenode: string, configured?: string): string {
  if (configured !== undefined) return configured;
  return `HTTP@${new URL(namenode).hostname.replace(/^\[|\]$/g, "")}`;
}

/** What this module uses of the `kerberos` package (mongodb-js/kerberos). */
interface KerberosModule {
  GSS_MECH_OID_SPNEGO: number;
  initializeClient(service: string, options: { principal?: string; mechOID?: number }): Promise<{ step(challenge: string): Promise<string> }>;
}

let kerberosModule: Promise<KerberosModule> | undefined;

async function loadKerberos(): Promise<KerberosModule> {
  kerberosModule ??= import("kerberos" as string).then(
    (m: { default?: KerberosModule } & KerberosModule) => m.default ?? m,
    (err: unknown) => {
      kerberosModule = undefined;
      throw new KerberosUnavailableError(
        "Kerberos is configured but the optional 'kerberos' package is not installed or did not build " +
          "(install libkrb5-dev and a C++ compiler, then npm rebuild kerberos; see the README's secure setup)",
        { cause: err },
      );
    },
  );
  return kerberosModule;
}

/** Whether the optional `kerberos` package can be loaded here. */
export async function kerberosAvailable(): Promise<boolean> {
  try {
    await loadKerberos();
    return true;
  } catch {
    return false;
  }
}

/**
 * A Negotiator over GSSAPI. MIT Kerberos reads the client keytab from KRB5_CLIENT_KTNAME (keytab
 * initiation, no kinit); the process environment is set once, so every side of one daemon uses one
 * keytab (a keytab may hold several principals).
 */
export class GssNegotiator implements Negotiator {
  readonly principal: string;
  readonly #settings: KerberosSettings;

  constructor(settings: KerberosSettings, env: NodeJS.ProcessEnv = process.env) {
    this.principal = settings.principal;
    this.#settings = settings;
    if (settings.keytab !== undefined) {
      env.KRB5_CLIENT_KTNAME = settings.keytab;
      // A private cache: tickets got from the keytab never mix with a user's kinit cache.
      env.KRB5CCNAME ??= `MEMORY:ckpt-replicator-${process.pid}`;
    }
  }

  async authorization(namenode: string): Promise<string> {
    const service = servicePrincipalFor(namenode, this.#settings.servicePrincipal);
    const kerberos = await loadKerberos();
    try {
      const client = await kerberos.initializeClient(service, { principal: this.principal, mechOID: kerberos.GSS_MECH_OID_SPNEGO });
      const token = await client.step("");
      return `Negotiate ${token}`;
    } catch (err) {
      throw new SpnegoError(this.principal, namenode, service, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }
}

/**
 * Credentials of the token operations: `Authorization: Negotiate` for the NameNode asked, `doas` when
 * the token is fetched for a proxy user. A 401 answer (the NameNode refused the ticket) renegotiates once.
 */
export class SpnegoAuth implements AuthProvider {
  readonly secretParams: readonly string[] = [];
  readonly #negotiator: Negotiator;
  readonly #params: Record<string, string>;

  constructor(negotiator: Negotiator, doAs?: string) {
    this.#negotiator = negotiator;
    this.#params = doAs === undefined || doAs === "" ? {} : { doas: doAs };
  }

  queryParams(): Record<string, string> {
    return { ...this.#params };
  }

  async headers(namenode: string): Promise<Record<string, string>> {
    return { authorization: await this.#negotiator.authorization(namenode) };
  }

  async recover(err: unknown): Promise<boolean> {
    if ((err as { status?: unknown }).status !== 401) return false;
    this.#negotiator.reset?.();
    return true;
  }

  toJSON(): Record<string, string> {
    return { principal: this.#negotiator.principal, ...this.#params };
  }
}
