// A throwaway certificate authority for TLS tests, made with Debian's openssl at
// test time (no key is ever committed): a CA, a server certificate for localhost
// and 127.0.0.1 signed by it, a client certificate signed by it, and a second,
// unrelated CA with its own server certificate (the "untrusted" case).

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { toolForSuite } from "./tools.js";

const run = promisify(execFile);

export interface Pem {
  cert: string;
  key: string;
}

export interface TestCa {
  dir: string;
  /** Paths of the PEM files (for configuration files). */
  files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; otherCa: string };
  ca: string;
  server: Pem;
  client: Pem;
  /** A certificate for localhost/127.0.0.1 from a CA nobody trusts. */
  untrustedServer: Pem;
  otherCa: string;
  remove(): Promise<void>;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"];

/** The openssl program, or null (printed as a skip; an error under CI=true). */
export function opensslForSuite(): string | null {
  return toolForSuite("openssl", "TLS tests");
}

/** Makes the CA and certificates in a new temporary directory. */
export async function createTestCa(openssl: string, names = ["localhost", "127.0.0.1"]): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), "test-ca-"));
  const f = (name: string) => join(dir, name);
  const san = `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",")}`;
  const ca = async (name: string) => {
    await run(openssl, ["req", "-x509", ...EC, "-keyout", f(`${name}.key`), "-out", f(`${name}.crt`), "-subj", `/CN=${name}`]);
  };
  const leaf = async (name: string, issuer: string, cn: string, extra: string[]) => {
    await run(openssl, [
      "req", "-x509", ...EC, "-keyout", f(`${name}.key`), "-out", f(`${name}.crt`), "-CA", f(`${issuer}.crt`),
      "-CAkey", f(`${issuer}.key`), "-subj", `/CN=${cn}`, "-addext", "basicConstraints=critical,CA:FALSE", ...extra,
    ]);
  };
  await Promise.all([ca("test-ca"), ca("other-ca")]);
  await Promise.all([
    leaf("server", "test-ca", names[0] ?? "localhost", ["-addext", san]),
    leaf("client", "test-ca", "replicator", ["-addext", "extendedKeyUsage=clientAuth"]),
    leaf("untrusted", "other-ca", names[0] ?? "localhost", ["-addext", san]),
  ]);
  const text = (name: string) => readFile(f(name), "utf8");
  return {
    dir,
    files: {
      ca: f("test-ca.crt"), serverCert: f("server.crt"), serverKey: f("server.key"),
      clientCert: f("client.crt"), clientKey: f("client.key"), otherCa: f("other-ca.crt"),
    },
    ca: await text("test-ca.crt"),
    server: { cert: await text("server.crt"), key: await text("server.key") },
    client: { cert: await text("client.crt"), key: await text("client.key") },
    untrustedServer: { cert: await text("untrusted.crt"), key: await text("untrusted.key") },
    otherCa: await text("other-ca.crt"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
