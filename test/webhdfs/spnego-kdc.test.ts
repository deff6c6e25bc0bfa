// GssNegotiator (the npm `kerberos` addon over MIT GSSAPI) against a real MIT KDC
// on loopback: a ticket from a keytab, no kinit, that an HTTP/localhost acceptor
// accepts as the configured principal; an unknown principal and a keytab without
// the principal's keys each a SpnegoError naming principal, NameNode and the GSS message.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { GssNegotiator, SpnegoError, kerberosAvailable } from "../../src/webhdfs/index.js";
import { missingKdcTools, REALM, startMitKdc, type MitKdc } from "../helpers/mit-kdc.js";

const NAMENODE = "http://localhost:9870";
let kdc: MitKdc | undefined;
let clientKeytab = "";
let serviceKeytab = "";
let otherKeytab = "";
let cache = 0;

interface KerberosServer {
  step(challenge: string): Promise<string>;
  username: string;
}
interface KerberosModule {
  initializeServer(service: string): Promise<KerberosServer>;
}

beforeAll(async () => {
  const missing = missingKdcTools();
  const addon = await kerberosAvailable();
  if (missing.length > 0 || !addon) {
    const reason = `SKIPPED: SPNEGO against a real KDC: ${missing.length > 0 ? `${missing.join(", ")} missing` : "the kerberos addon is not built"} (run .ci/install-kerberos)`;
    if (process.env.CI === "true") throw new Error(reason);
    process.stderr.write(`${reason}\n`);
    return;
  }
  kdc = await startMitKdc();
  Object.assign(process.env, kdc.env);
  clientKeytab = await kdc.addPrincipal("replicator");
  serviceKeytab = await kdc.addPrincipal("HTTP/localhost");
  otherKeytab = await kdc.addPrincipal("someone-else");
});
beforeEach((ctx) => {
  if (kdc === undefined) ctx.skip("no KDC here");
  // A fresh ticket cache per test: a ticket got in one test must not serve another.
  process.env.KRB5CCNAME = `FILE:${join((kdc as MitKdc).dir, `ccache-${++cache}`)}`;
});
afterAll(async () => {
  await kdc?.stop();
});

async function accept(authorization: string): Promise<string> {
  process.env.KRB5_KTNAME = serviceKeytab;
  const kerberos = ((await import("kerberos" as string)) as { default: KerberosModule }).default;
  const server = await kerberos.initializeServer("HTTP@localhost");
  await server.step(authorization.replace(/^Negotiate /, ""));
  return server.username;
}

async function spnegoFailure(n: GssNegotiator): Promise<SpnegoError> {
  const err = await n.authorization(NAMENODE).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SpnegoError);
  return err as SpnegoError;
}

describe("SPNEGO from a keytab against an MIT KDC", () => {
  it("gets a ticket for HTTP@<NameNode host> from the keytab (no kinit) that the service accepts as the principal", async () => {
    const n = new GssNegotiator({ principal: `replicator@${REALM}`, keytab: clientKeytab });
    const authorization = await n.authorization(NAMENODE);
    expect(authorization).toMatch(/^Negotiate [A-Za-z0-9+/=]{100,}$/);
    expect(await accept(authorization)).toBe(`replicator@${REALM}`);
  });

  it("an unknown principal is a SpnegoError naming principal, NameNode and the GSS message", async () => {
    const err = await spnegoFailure(new GssNegotiator({ principal: `nobody@${REALM}`, keytab: clientKeytab }));
    expect(err.principal).toBe(`nobody@${REALM}`);
    expect(err.namenode).toBe(NAMENODE);
    expect(err.servicePrincipal).toBe("HTTP@localhost");
    expect(err.message).toContain(`nobody@${REALM}`);
    expect(err.message).toContain(NAMENODE);
    expect(err.gssMessage.length).toBeGreaterThan(0);
  });

  it("a keytab without the principal's keys (the wrong keytab) is a SpnegoError too", async () => {
    const err = await spnegoFailure(new GssNegotiator({ principal: `replicator@${REALM}`, keytab: otherKeytab }));
    expect(err.message).toContain(`replicator@${REALM}`);
    expect(err.gssMessage.length).toBeGreaterThan(0);
  });

  it("a service principal unknown to the KDC is a SpnegoError naming it", async () => {
    const err = await spnegoFailure(new GssNegotiator({ principal: `replicator@${REALM}`, keytab: clientKeytab, servicePrincipal: "HTTP@nn.unknown.test" }));
    expect(err.servicePrincipal).toBe("HTTP@nn.unknown.test");
    expect(err.message).toContain("HTTP@nn.unknown.test");
  });
});
