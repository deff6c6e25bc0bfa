// A throwaway MIT Kerberos KDC on loopback for SPNEGO tests (Debian's krb5-kdc,
// installed by .ci/install-kerberos): realm EXAMPLE.COM in a temporary
// directory, principals with random keys exported to keytabs, krb5kdc in the
// foreground on a free port. Nothing is written outside the directory.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findTool } from "./tools.js";

const run = promisify(execFile);
export const REALM = "EXAMPLE.COM";

export interface MitKdc {
  dir: string;
  /** Environment that points MIT Kerberos at this KDC (KRB5_CONFIG, KRB5_KDC_PROFILE). */
  env: Record<string, string>;
  /** Adds a principal with a random key and exports it to a new keytab; returns the keytab path. */
  addPrincipal(name: string): Promise<string>;
  stop(): Promise<void>;
}

const TOOLS = ["/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local"];

/** The KDC programs that are missing here (empty when a KDC can be started). */
export function missingKdcTools(): string[] {
  return TOOLS.filter((t) => findTool(t) === null);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts TCP connections on the port; rejects if the KDC process exits first. */
async function untilListening(port: number, kdc: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (kdc.exitCode !== null) throw new Error(`krb5kdc exited with ${kdc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`krb5kdc does not listen on 127.0.0.1:${port}`);
}

export async function startMitKdc(): Promise<MitKdc> {
  const dir = await mkdtemp(join(tmpdir(), "mit-kdc-"));
  const port = await freePort();
  const krb5conf = join(dir, "krb5.conf");
  const kdcconf = join(dir, "kdc.conf");
  await writeFile(
    krb5conf,
    `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  udp_preference_limit = 1
[realms]
  ${REALM} = {
    kdc = 127.0.0.1:${port}
  }
[domain_realm]
  localhost = ${REALM}
`,
  );
  await writeFile(
    kdcconf,
    `[kdcdefaults]
  kdc_listen = 127.0.0.1:${port}
  kdc_tcp_listen = 127.0.0.1:${port}
[realms]
  ${REALM} = {
    database_name = ${join(dir, "principal")}
    key_stash_file = ${join(dir, "stash")}
    acl_file = ${join(dir, "kadm5.acl")}
    kdc_listen = 127.0.0.1:${port}
    kdc_tcp_listen = 127.0.0.1:${port}
  }
[logging]
  kdc = FILE:${join(dir, "kdc.log")}
`,
  );
  const env = { KRB5_CONFIG: krb5conf, KRB5_KDC_PROFILE: kdcconf };
  const opts = { env: { ...process.env, ...env } };
  await run("/usr/sbin/kdb5_util", ["create", "-s", "-r", REALM, "-P", "test-master-password"], opts);
  const kdc: ChildProcess = spawn("/usr/sbin/krb5kdc", ["-n", "-r", REALM], { ...opts, stdio: "ignore" });
  await untilListening(port, kdc);
  return {
    dir,
    env,
    async addPrincipal(name) {
      const keytab = join(dir, `${name.replace(/[^A-Za-z0-9]/g, "_")}.keytab`);
      await run("/usr/sbin/kadmin.local", ["-r", REALM, "-q", `addprinc -randkey ${name}@${REALM}`], opts);
      await run("/usr/sbin/kadmin.local", ["-r", REALM, "-q", `ktadd -k ${keytab} ${name}@${REALM}`], opts);
      return keytab;
    },
    async stop() {
      kdc.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
