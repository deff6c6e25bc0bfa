// The secure scenario of `npm run interop` (issue #12): a Kerberos KDC and two Kerberized real
// MiniDFSClusters (interop.SecureCluster, one JVM), shdfs2 HTTPS-only with a test CA made here by
// openssl; a real Flink job (logged in from a keytab through Flink's SecurityUtils) checkpointing
// into shdfs1; the real CLI daemon (`kerberos: {principal, keytab}`, `tls.ca`) replicating to
// shdfs2 across several delegation-token renewals and max-lifetime re-fetches with short lifetimes;
// its tokens cancelled behind its back with a real CANCELDELEGATIONTOKEN; the Flink-side checker
// sampling shdfs2 throughout; bad credentials (wrong keytab, unknown principal, untrusted
// certificate, a clock 15 minutes ahead of the KDC's under libfaketime) each run as a daemon of its
// own, whose error and /readyz are recorded; then a
// restore in real Flink from shdfs2 alone (shdfs1 shut down). Returns `secure-...` scenarios.

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Proc, freePorts, runToEnd, sleep } from "./procs.js";
import { logRecords, parseCompleted, parseSample, summarise, type CheckerSample } from "./results.js";
import { TOKEN_REFUSED_EVENT } from "../../src/webhdfs/delegation.js";
import { req, runSecureDiff, type Resp, type SecureDiff } from "./secure-diff.js";
import { GssNegotiator } from "../../src/webhdfs/spnego.js";

export interface SecureRestoreItem {
  path: string;
  expectedOut: string | null;
  checkFirst: boolean;
  keys: number;
}
export interface SecureRestoreResult {
  path: string;
  ok: boolean;
  stateOk: boolean;
  error?: string;
  mismatches?: number;
  firstIndex?: number;
  expectedFirstIndex?: number | null;
  ms?: number;
}
export interface KerberosLogin {
  principal: string;
  keytab: string;
  /** Environment of the JVM (HADOOP_CONF_DIR, JDK_JAVA_OPTIONS with the KDC's krb5.conf). */
  env: NodeJS.ProcessEnv;
}

export interface SecureOptions {
  work: string;
  cliBin: string;
  classpath: string;
  flink: string;
  log: (msg: string) => void;
  javaArgs: (name: string, classpath: string, heap: string, main: string, args: string[]) => string[];
  /** run.ts's restorer (Job mode=restore, exact state checks), here logged in from a keytab. */
  restoreMany: (confDir: string, items: SecureRestoreItem[], logName: string, login: KerberosLogin) => Promise<SecureRestoreResult[]>;
  /** Seconds of live replication (token lifetimes are set so that this crosses renewals and re-fetches). */
  liveSeconds?: number;
}

export interface SecureOutcome {
  scenarios: Array<Record<string, unknown> & { name: string }>;
  problems: string[];
  /** What the real secured NameNode answered (no credentials; a cancelled token), for the emulator comparison. */
  wire: Record<string, unknown>;
}

// Short lifetimes: renewals every ~15 s (75% of 20 s), a max-lifetime re-fetch every 50 s.
const RENEW_MS = 20_000;
const MAX_MS = 50_000;
const KEYS = 2000;

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** A CA and a server certificate for localhost and 127.0.0.1 signed by it (PEM + PKCS12 for Java); and a second, unrelated CA. */
function makeTls(dir: string): { ca: string; otherCa: string } {
  mkdirSync(dir, { recursive: true });
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ckpt-interop test CA"], dir);
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=some other CA"], dir);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], dir);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], dir);
  openssl(["pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "ca.pem", "-out", "server.p12", "-passout", "pass:changeit", "-name", "server"], dir);
  return { ca: join(dir, "ca.pem"), otherCa: join(dir, "other-ca.pem") };
}

/**
 * The KDC's krb5.conf with `kdc_timesync = 0`: by default MIT Kerberos learns its offset from the KDC's
 * answers and corrects it, so a process whose clock is off would never show the skew.
 */
function noTimesyncKrb5Conf(file: string, krb5conf: string): void {
  const text = readFileSync(krb5conf, "utf8");
  if (!/^\s*\[libdefaults\]\s*$/m.test(text)) throw new Error(`no [libdefaults] in ${krb5conf}`);
  writeFileSync(file, text.replace(/^(\s*\[libdefaults\]\s*)$/m, "$1\n    kdc_timesync = 0"));
}

/**
 * The `kerberos` addon as the skew daemon loads it: a copy built with `kerberos_use_rtld=false`, so
 * that libgssapi_krb5 is linked rather than dlopened with RTLD_DEEPBIND (a deep-bound library takes its
 * clock from its own libc, past libfaketime, so the default build never shows a shifted clock). Built
 * once into node_modules/.cache (about 8 s), and loaded through an ESM resolve hook written next to the
 * work files; the product and every other daemon keep the default build.
 */
function linkedKerberosHook(root: string, work: string): string {
  const src = join(root, "node_modules", "kerberos");
  if (!existsSync(src)) throw new Error("the kerberos addon is not installed (bash .ci/install-kerberos)");
  // Keyed by the installed addon's version (and Node's ABI): an upgrade of either builds a fresh copy.
  const version = (JSON.parse(readFileSync(join(src, "package.json"), "utf8")) as { version: string }).version;
  const copy = join(root, "node_modules", ".cache", "kerberos-linked", `kerberos-${version}-abi${process.versions.modules}`);
  if (!existsSync(join(copy, "build", "Release", "kerberos.node"))) {
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(dirname(copy), { recursive: true });
    const built = join(src, "build");
    cpSync(src, copy, { recursive: true, filter: (p) => p !== built && !p.startsWith(`${built}/`) });
    const npmCli = process.env.npm_execpath;
    const gyp = npmCli ? join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js") : "";
    const nodedir = resolve(process.execPath, "..", "..");
    const r = existsSync(gyp)
      ? spawnSync(process.execPath, [gyp, "rebuild", "--kerberos_use_rtld=false", `--nodedir=${nodedir}`], { cwd: copy, encoding: "utf8", timeout: 300_000 })
      : spawnSync("npx", ["--yes", "node-gyp", "rebuild", "--kerberos_use_rtld=false", `--nodedir=${nodedir}`], { cwd: copy, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`building the linked kerberos addon failed: ${(r.stderr ?? "").slice(-1500)}`);
  }
  const entry = pathToFileURL(join(copy, "lib", "index.js")).href;
  const hooks = join(work, "linked-kerberos-hooks.mjs");
  writeFileSync(hooks, `export async function resolve(specifier, context, next) {\n  return specifier === "kerberos" ? { url: ${JSON.stringify(entry)}, shortCircuit: true } : next(specifier, context);\n}\n`);
  const register = join(work, "linked-kerberos.mjs");
  writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  return register;
}

/** Beyond the 5 minutes of clock skew that Kerberos (the KDC, Java's acceptor) allows by default. */
const SKEW = "+15m";

/** A keytab holding a key for `principal` made from `password` (not the KDC's): the wrong keytab, or one of an unknown principal. */
function fakeKeytab(file: string, principal: string, password: string, krb5conf: string): void {
  const script = `addent -password -p ${principal} -k 1 -e aes128-cts-hmac-sha1-96\n${password}\nwkt ${file}\nquit\n`;
  const r = spawnSync("ktutil", [], { input: script, encoding: "utf8", env: { ...process.env, KRB5_CONFIG: krb5conf } });
  if (r.status !== 0 || !existsSync(file)) throw new Error(`ktutil failed: ${r.stderr}`);
}

interface Ready {
  realm: string;
  krb5conf: string;
  hdfsPrincipal: string;
  keytabs: { replicator: string; flink: string };
  clusters: Record<"shdfs1" | "shdfs2", { rpc: number; scheme: string; http: number; dnHttp: number }>;
}

function clientConf(dir: string, ready: Ready, cluster: "shdfs1" | "shdfs2"): void {
  mkdirSync(dir, { recursive: true });
  const xml = (ps: Array<[string, string]>) =>
    `<?xml version="1.0"?>\n<configuration>\n${ps.map(([k, v]) => `<property><name>${k}</name><value>${v}</value></property>`).join("\n")}\n</configuration>\n`;
  writeFileSync(join(dir, "core-site.xml"), xml([["fs.defaultFS", `hdfs://localhost:${ready.clusters[cluster].rpc}`], ["hadoop.security.authentication", "kerberos"],
    ["ipc.client.connect.max.retries", "3"]]));
  writeFileSync(join(dir, "hdfs-site.xml"), xml([["dfs.namenode.kerberos.principal", ready.hdfsPrincipal], ["dfs.replication", "1"]]));
}

/** counter{cluster="X"} values of one metric, summed over the clusters. */
function metricSum(text: string, name: string): number {
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^ckpt_replicator_${name}\\{[^}]*\\} ([0-9.e+]+)$`, "gm"))) n += Number(m[1]);
  return n;
}

export async function runSecure(o: SecureOptions): Promise<SecureOutcome> {
  const { work, log } = o;
  const dir = join(work, "secure");
  mkdirSync(dir, { recursive: true });
  const problems: string[] = [];
  const liveSeconds = o.liveSeconds ?? 90;
  const tls = makeTls(join(dir, "ssl"));
  const caPem = readFileSync(tls.ca);

  // ---- the KDC and the two secured clusters
  const readyFile = join(dir, "ready.json");
  const cluster = new Proc("secure-clusters", "java", o.javaArgs("secure-clusters", `${join(dir, "ssl")}:${o.classpath}`, "1g", "interop.SecureCluster",
    [join(dir, "base"), readyFile, join(dir, "ssl"), String(RENEW_MS), String(MAX_MS)]), { logFile: join(work, "secure-clusters.log"), stdin: true, cwd: work });
  await cluster.waitLine((l) => l.includes("\"ready\":true"), 180_000, "secure clusters ready");
  const ready = JSON.parse(readFileSync(readyFile, "utf8")) as Ready;
  const c1 = ready.clusters.shdfs1;
  const c2 = ready.clusters.shdfs2;
  const nn1 = `${c1.scheme}://127.0.0.1:${c1.http}`;
  const nn2 = `${c2.scheme}://127.0.0.1:${c2.http}`;
  log(`secure clusters: KDC ${ready.realm}, shdfs1 ${nn1} (rpc ${c1.rpc}), shdfs2 ${nn2} (rpc ${c2.rpc}), tokens renew ${RENEW_MS / 1000} s, max ${MAX_MS / 1000} s`);
  const confSrc = join(dir, "conf-shdfs1");
  const confDr = join(dir, "conf-shdfs2");
  clientConf(confSrc, ready, "shdfs1");
  clientConf(confDr, ready, "shdfs2");
  const jvmEnv = (conf: string): NodeJS.ProcessEnv => ({ ...process.env, HADOOP_CONF_DIR: conf,
    JDK_JAVA_OPTIONS: `-Djava.security.krb5.conf=${ready.krb5conf} -Dinterop.flink.security.delegation.tokens.enabled=false` });
  const flinkLogin = (conf: string): KerberosLogin => ({ principal: `flink@${ready.realm}`, keytab: ready.keytabs.flink, env: jvmEnv(conf) });
  const kerberized = (name: string, conf: string, main: string, args: string[]): string[] =>
    o.javaArgs(name, `${conf}:${o.classpath}`, "1g", "interop.Kerberized", [`flink@${ready.realm}`, ready.keytabs.flink, main, ...args]);

  // ---- wire format of the real secured NameNode (for the emulator comparison)
  const unauth = await req("GET", `${nn2}/webhdfs/v1/?op=GETFILESTATUS`, { ca: caPem });
  const wire: Record<string, unknown> = {
    unauthenticated: { status: unauth.status, wwwAuthenticate: unauth.headers["www-authenticate"] ?? null, contentType: unauth.headers["content-type"] ?? null,
      bodyIsJson: (() => { try { JSON.parse(unauth.body); return true; } catch { return false; } })() },
  };

  // ---- a real Flink job into shdfs1
  const src = `hdfs://localhost:${c1.rpc}`;
  const dst = `hdfs://localhost:${c2.rpc}`;
  const jobOut = join(dir, "job");
  mkdirSync(jobOut, { recursive: true });
  const job = new Proc("secure-job", "java", kerberized("secure-job", confSrc, "interop.Job",
    ["mode=run", `out=${jobOut}`, `ckptDir=${src}/flink/ckpt`, "backend=rocksdb", "incremental=true", "retained=3", "interval=1500",
      `keys=${KEYS}`, "perCheckpoint=500", "managed=64m"]), { logFile: join(work, "secure-job.log"), stdin: true, cwd: work, env: jvmEnv(confSrc) });
  const jobId = (JSON.parse(await job.waitLine((l) => l.startsWith("{\"jobId\""), 180_000, "secure job id")) as { jobId: string }).jobId;
  log(`secure job ${jobId} checkpointing to ${src}/flink/ckpt`);

  // ---- the daemon, and the checker on shdfs2
  const [metricsPort, ...badPorts] = await freePorts(5);
  const keytab = ready.keytabs.replicator;
  const principal = `replicator@${ready.realm}`;
  const yaml = (file: string, p: { principal: string; keytab: string; ca: string; target: string; port: number }) =>
    writeFileSync(file, `source:
  name: shdfs1
  namenodes: ["${nn1}"]
  uri: ${src}
  kerberos: { principal: "${p.principal}", keytab: "${p.keytab}", servicePrincipal: HTTP@localhost }
  requestTimeout: 10s
  retry: { attempts: 4, baseDelay: 100ms, maxDelay: 1s }
target:
  name: shdfs2
  namenodes: ["${nn2}"]
  uri: ${dst}
  kerberos: { principal: "${p.principal}", keytab: "${p.keytab}", servicePrincipal: HTTP@localhost }
  tls: { ca: "${p.ca}" }
  requestTimeout: 10s
  retry: { attempts: 4, baseDelay: 100ms, maxDelay: 1s }
paths:
  - { source: /flink/ckpt, target: ${p.target} }
scan: { interval: 1s }
retain: { min: 1, max: 3 }
reap: { tempGrace: 30s }
lease: { ttl: 30s }
metrics: { listen: "127.0.0.1:${p.port}" }
log: { level: info }
`);
  const daemonEnv = { ...process.env, KRB5_CONFIG: ready.krb5conf };
  const cfg = join(dir, "daemon.yaml");
  yaml(cfg, { principal, keytab, ca: tls.ca, target: "/flink/ckpt", port: metricsPort! });
  const daemonLog = join(work, "secure-daemon.log");
  const daemon = new Proc("secure-daemon", process.execPath, [o.cliBin, "run", "--config", cfg, "--log-format", "json"], { logFile: daemonLog, cwd: work, env: daemonEnv });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const checker = new Proc("secure-checker", "java", kerberized("secure-checker", confDr, "interop.Check", ["2000", "0", `${dst}/flink/ckpt`]),
    { logFile: join(work, "secure-checker.log"), stdin: true, cwd: work, env: jvmEnv(confDr) });

  const metricSamples: Array<{ at: number; renewals: number; refetches: number; failures: number }> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const m = (await req("GET", `${metricsUrl}/metrics`)).body;
        metricSamples.push({ at: Date.now(), renewals: metricSum(m, "delegation_token_renewals_total"), refetches: metricSum(m, "delegation_token_refetches_total"),
          failures: metricSum(m, "delegation_token_failures_total") });
      } catch {
        // not up yet
      }
      await sleep(3000);
    }
  })();
  const publishTimes = (): number[] => (existsSync(daemonLog) ? readFileSync(daemonLog, "utf8") : "").split("\n")
    .filter((l) => l.includes("published on the target\"") && l.includes(jobId))
    .map((l) => {
      const t = (JSON.parse(l) as { time: number | string }).time;
      return typeof t === "number" ? t : Date.parse(t);
    });
  const warm = Date.now();
  while (publishTimes().length === 0 && Date.now() - warm < 120_000) await sleep(1000);
  if (publishTimes().length === 0) problems.push("secure: the daemon published nothing within 120 s");
  const liveStart = Date.now();
  log(`secure: first checkpoint published on shdfs2 after ${((liveStart - warm) / 1000).toFixed(0)} s`);

  // ---- bad credentials, each its own daemon beside the good one (which must not notice)
  const badDir = join(dir, "bad");
  mkdirSync(badDir, { recursive: true });
  const wrongKeytab = join(badDir, "wrong.keytab");
  const ghostKeytab = join(badDir, "ghost.keytab");
  fakeKeytab(wrongKeytab, principal, "not-the-password", ready.krb5conf);
  fakeKeytab(ghostKeytab, `ghost@${ready.realm}`, "whatever", ready.krb5conf);
  const skewConf = join(badDir, "krb5-no-timesync.conf");
  noTimesyncKrb5Conf(skewConf, ready.krb5conf);
  // The bad side is the source; the target is a local directory, so the daemon starts (a target that
  // refuses the credentials fails the start at once, with the same message) and /readyz says why.
  const badCases: Array<{ name: string; principal: string; keytab: string; ca: string; nn: string; uri: string; expect: string[];
    skew?: { offset: string; krb5conf: string } }> = [
    { name: "wrong keytab", principal, keytab: wrongKeytab, ca: tls.ca, nn: nn1, uri: src, expect: [principal, nn1, "HTTP@localhost", "SPNEGO"] },
    { name: "unknown principal", principal: `ghost@${ready.realm}`, keytab: ghostKeytab, ca: tls.ca, nn: nn1, uri: src,
      expect: [`ghost@${ready.realm}`, nn1, "HTTP@localhost", "not found in Kerberos database"] },
    { name: "untrusted TLS certificate", principal, keytab, ca: tls.otherCa, nn: nn2, uri: dst, expect: ["TLS", "not trusted", "tls.ca"] },
    // The right keytab, but this process's clock runs 15 minutes ahead (libfaketime) and does not sync to the KDC.
    { name: `clock skew (${SKEW} ahead of the KDC)`, principal, keytab, ca: tls.ca, nn: nn1, uri: src, skew: { offset: SKEW, krb5conf: skewConf },
      expect: [principal, nn1, "HTTP@localhost", "Clock skew too great"] },
  ];
  const publishedBeforeBad = publishTimes().length;
  const badStart = Date.now();
  const badResults = await Promise.all(badCases.map(async (c, i) => {
    const f = join(badDir, `bad-${i}.yaml`);
    mkdirSync(join(badDir, `target-${i}`), { recursive: true });
    writeFileSync(f, `source:
  name: ${c.nn === nn1 ? "shdfs1" : "shdfs2"}
  namenodes: ["${c.nn}"]
  uri: ${c.uri}
  kerberos: { principal: "${c.principal}", keytab: "${c.keytab}", servicePrincipal: HTTP@localhost }
${c.nn.startsWith("https:") ? `  tls: { ca: "${c.ca}" }\n` : ""}  retry: { attempts: 2, baseDelay: 100ms, maxDelay: 500ms }
target:
  name: local
paths:
  - { source: /flink/ckpt, target: "file://${join(badDir, `target-${i}`)}" }
scan: { interval: 1s }
metrics: { listen: "127.0.0.1:${badPorts[i]!}" }
`);
    const argv = [o.cliBin, "run", "--config", f, "--log-format", "json"];
    const p = c.skew !== undefined
      ? new Proc(`secure-bad-${i}`, "faketime", ["-f", c.skew.offset, process.execPath, "--import", linkedKerberosHook(resolve(o.cliBin, "..", "..", ".."), work), ...argv], { logFile: join(work, `secure-bad-${i}.log`), cwd: work,
        env: { ...daemonEnv, KRB5_CONFIG: c.skew.krb5conf } })
      : new Proc(`secure-bad-${i}`, process.execPath, argv, { logFile: join(work, `secure-bad-${i}.log`), cwd: work, env: daemonEnv });
    let readyz: Resp | null = null;
    // Each runs at least 15 s (the good daemon publishes meanwhile), at most 45 s waiting for its reason.
    const since = Date.now();
    while (Date.now() - since < 45_000 && p.running) {
      readyz = await req("GET", `http://127.0.0.1:${badPorts[i]}/readyz`).catch(() => null);
      if (readyz && readyz.status === 503 && c.expect.every((e) => readyz!.body.includes(e)) && Date.now() - since > 15_000) break;
      await sleep(1000);
    }
    await p.stop(10_000);
    const logText = readFileSync(join(work, `secure-bad-${i}.log`), "utf8");
    const errorLine = logText.split("\n").find((l) => /"level":(40|50|60)/.test(l) && c.expect.every((e) => l.includes(e))) ?? "";
    const ok = readyz !== null && readyz.status === 503 && c.expect.every((e) => readyz!.body.includes(e)) && errorLine !== "";
    if (!ok) problems.push(`secure bad credentials (${c.name}): readyz ${readyz?.status ?? "none"} ${readyz?.body.slice(0, 200) ?? ""}; log line naming ${c.expect.join(", ")}: ${errorLine ? "yes" : "none"}`);
    log(`secure bad credentials (${c.name}): ${ok ? "clear error" : "FAILED"}; /readyz ${readyz?.status ?? "none"}: ${(readyz?.body ?? "").slice(0, 240)}`);
    const logged = errorLine ? (JSON.parse(errorLine) as { msg?: string; problem?: string; err?: string | { message?: string } }) : {};
    const msg = (typeof logged.err === "string" ? logged.err : logged.err?.message) ?? logged.problem ?? logged.msg ?? "";
    // How far ahead the process's own clock was: the time of its first log line against ours when it started.
    const first = logText.split("\n").find((l) => l.startsWith("{"));
    const firstTime = first ? (JSON.parse(first) as { time?: number | string }).time : undefined;
    const clockAheadSeconds = c.skew === undefined || firstTime === undefined ? undefined
      : Math.round(((typeof firstTime === "number" ? firstTime : Date.parse(firstTime)) - since) / 1000);
    if (c.skew !== undefined) log(`secure bad credentials (${c.name}): the daemon's clock ran ${clockAheadSeconds ?? "?"} s ahead`);
    return { case: c.name, ok, readyzStatus: readyz?.status ?? null, readyzBody: (readyz?.body ?? "").slice(0, 600), error: msg.slice(0, 600),
      ...(clockAheadSeconds === undefined ? {} : { clockAheadSeconds }) };
  }));
  const publishedDuringBad = publishTimes().length - publishedBeforeBad;
  log(`secure bad credentials: ${badCases.length} daemons in ${((Date.now() - badStart) / 1000).toFixed(1)} s, the good daemon published ${publishedDuringBad} meanwhile`);
  if (publishedDuringBad === 0) problems.push("secure: the good daemon published nothing while the bad-credential daemons ran");

  // ---- cancel the daemon's tokens behind its back (real CANCELDELEGATIONTOKEN on both NameNodes)
  const cancelAt = liveStart + (liveSeconds * 1000 * 6) / 10;
  while (Date.now() < cancelAt) await sleep(500);
  const refetchesBeforeCancel = metricSamples.at(-1)?.refetches ?? 0;
  const cancels: Array<{ cluster: string; status: number; body: string }> = [];
  for (const [name, nn] of [["shdfs1", nn1], ["shdfs2", nn2]] as const) {
    const t = await cluster.command(`tokens ${name} replicator`);
    for (const tok of (t.tokens as string[] | undefined) ?? []) {
      const r = await req("PUT", `${nn}/webhdfs/v1/?op=CANCELDELEGATIONTOKEN&token=${tok}&delegation=${tok}`, { ca: caPem });
      cancels.push({ cluster: name, status: r.status, body: r.body.slice(0, 200) });
      // The wire format of a cancelled token's refusal, once.
      if (wire.cancelledToken === undefined && r.status === 200) {
        const after = await req("GET", `${nn}/webhdfs/v1/?op=GETFILESTATUS&delegation=${tok}`, { ca: caPem });
        wire.cancelledToken = { status: after.status, body: after.body.slice(0, 400) };
      }
    }
  }
  const cancelTime = Date.now();
  log(`secure: cancelled ${cancels.filter((c) => c.status === 200).length} of ${cancels.length} daemon token(s): ${cancels.map((c) => `${c.cluster} ${c.status}`).join(", ")}`);
  if (cancels.filter((c) => c.status === 200).length < 2) problems.push(`secure: cancelling the daemon's tokens: ${JSON.stringify(cancels)}`);

  while (Date.now() < liveStart + liveSeconds * 1000) await sleep(500);
  const liveEnd = Date.now();
  job.send("stop");
  await job.waitLine((l) => l.includes("\"stopped\":true"), 90_000, "secure job stop").catch(() => job.kill());
  const completed = parseCompleted(existsSync(join(jobOut, "completed.jsonl")) ? readFileSync(join(jobOut, "completed.jsonl"), "utf8") : "");
  const newest = Math.max(...completed.keys());
  const catchUp = Date.now();
  const caughtUp = (): boolean => readFileSync(daemonLog, "utf8").split("\n").some((l) => l.includes("published on the target\"") && l.includes(`"checkpoint":"chk-${newest}"`));
  while (Date.now() - catchUp < 60_000 && !caughtUp()) await sleep(500);
  if (!caughtUp()) problems.push(`secure: the job's newest checkpoint chk-${newest} was not published within 60 s of its stop`);
  await sleep(2500);
  sampling = false;
  await sampler;
  checker.send("stop");
  await Promise.race([checker.exited, sleep(30_000)]);
  checker.kill();
  const samples: CheckerSample[] = checker.lines.map(parseSample).filter((s): s is CheckerSample => s !== null);
  const summary = summarise(samples, `${dst}/flink/ckpt`, new Map([[jobId, completed]]));
  // Proc.stop returns when the wrapper shell ends; the daemon itself then still cancels its tokens.
  await daemon.stop(20_000);
  for (let i = 0; i < 50 && !readFileSync(daemonLog, "utf8").includes("\"msg\":\"replicator stopped\""); i++) await sleep(500);

  const times = publishTimes();
  const liveTimes = times.filter((t) => t >= liveStart && t <= liveEnd);
  let maxGap = 0;
  for (let i = 1; i < liveTimes.length; i++) maxGap = Math.max(maxGap, liveTimes[i]! - liveTimes[i - 1]!);
  const publishedAfterCancel = times.filter((t) => t > cancelTime).length;
  const daemonText = readFileSync(daemonLog, "utf8");
  const errorLines = daemonText.split("\n").filter((l) => /"level":(50|60)/.test(l));
  // A refused token is replaced (logged at warn): a recovery, not a failure, whether an operation met it
  // (and is tried again) or the scheduled renewal did (the cancel can land just before either).
  const records = logRecords(daemonText);
  const isRefused = (r: Record<string, unknown>) => r.event === TOKEN_REFUSED_EVENT;
  const refusedTokenRecoveries = records.filter(isRefused).length;
  const failedRequests = records.filter((r) => Number(r.level) >= 40 && !isRefused(r)).map((r) => JSON.stringify(r));
  const last = metricSamples.at(-1) ?? { renewals: 0, refetches: 0, failures: 0 };
  if (last.renewals < 4) problems.push(`secure: only ${last.renewals} token renewals`);
  if (last.refetches - refetchesBeforeCancel < 2) problems.push(`secure: no re-fetch after the tokens were cancelled (${refetchesBeforeCancel} -> ${last.refetches})`);
  if (last.failures > 0) problems.push(`secure: ${last.failures} delegation-token failure(s)`);
  if (refusedTokenRecoveries === 0) problems.push("secure: the daemon never met its cancelled token");
  if (publishedAfterCancel === 0) problems.push("secure: nothing published after the tokens were cancelled");
  if (maxGap > 20_000) problems.push(`secure: a ${(maxGap / 1000).toFixed(1)} s gap between publishes`);
  if (failedRequests.length > 0) problems.push(`secure: ${failedRequests.length} warning/error line(s) in the daemon log: ${failedRequests[0]!.slice(0, 300)}`);
  if (summary.violations.length > 0) problems.push(`secure: ${summary.violations.length} violation(s) on shdfs2: ${summary.violations[0]}`);
  if (summary.samples < 10) problems.push(`secure: only ${summary.samples} checker samples`);
  log(`secure: ${times.length} publishes, max gap ${(maxGap / 1000).toFixed(1)} s, ${last.renewals} renewals, ${last.refetches} re-fetches (${refetchesBeforeCancel} before the cancel), ${summary.samples} samples, ${summary.violations.length} violations`);

  // ---- the emulator's secure mode against the real Kerberized NameNode (contract items 55-57)
  process.env.KRB5_CONFIG = ready.krb5conf;
  const negotiator = new GssNegotiator({ principal, keytab, servicePrincipal: "HTTP@localhost" });
  const emulatorDiff: SecureDiff | { error: string } = await runSecureDiff({ realNamenode: nn1, negotiate: () => negotiator.authorization(nn1), renewer: "replicator", work: dir })
    .catch((e: unknown) => ({ error: String(e) }));
  if ("error" in emulatorDiff) problems.push(`secure: emulator comparison failed: ${emulatorDiff.error}`);
  else log(`secure: emulator vs real secure NameNode: ${emulatorDiff.same.length} of ${emulatorDiff.checked} items the same${emulatorDiff.differences.length ? `; differ: ${emulatorDiff.differences.map((d) => d.item).join(", ")}` : ""}`);
  wire.emulatorDiff = emulatorDiff;

  // ---- restore in real Flink from shdfs2 alone
  await cluster.command("stop-cluster shdfs1");
  const latest = await runToEnd("secure-latest", process.execPath, [o.cliBin, "latest", "--config", cfg, "--job", jobId, "--format", "path"],
    { logFile: join(work, "secure-latest.log"), cwd: work, env: daemonEnv, timeoutMs: 120_000 });
  const latestPath = latest.stdout.trim().split("\n").pop() ?? "";
  const restores = latestPath.startsWith("hdfs://")
    ? await o.restoreMany(confDr, [{ path: latestPath, expectedOut: jobOut, checkFirst: true, keys: KEYS }], "secure-restores", flinkLogin(confDr))
    : [{ path: latestPath || "(none)", ok: false, stateOk: false, error: `latest exited ${latest.code} without a path` }];
  for (const r of restores) {
    log(`secure restore ${r.path}: ${r.stateOk ? "OK, exact state" : `FAILED ${r.error ?? ""}`}`);
    if (!r.stateOk) problems.push(`secure restore ${r.path}: ${r.error ?? "state mismatch"}`);
  }
  cluster.send("stop");
  await Promise.race([cluster.exited, sleep(20_000)]);

  const scenarios: SecureOutcome["scenarios"] = [
    {
      name: "secure-kerberos-https: Kerberized pair, shdfs2 HTTPS-only, token renewals, max-lifetime re-fetches and a cancelled token",
      flink: o.flink,
      jobId,
      published: times.length,
      samples: summary.samples,
      violations: summary.violations.length,
      violationDetails: summary.violations.slice(0, 5),
      restoresTried: restores.length,
      restoresOk: restores.filter((r) => r.stateOk).length,
      stateMismatches: restores.filter((r) => r.ok && !r.stateOk).length,
      restores,
      tokenRenewals: last.renewals,
      tokenRefetches: last.refetches,
      tokenRefetchesBeforeCancel: refetchesBeforeCancel,
      tokenFailures: last.failures,
      tokenLifetimes: { renewIntervalSeconds: RENEW_MS / 1000, maxLifetimeSeconds: MAX_MS / 1000 },
      liveSeconds: (liveEnd - liveStart) / 1000,
      maxPublishGapSeconds: maxGap / 1000,
      publishedAfterCancel,
      cancels,
      daemonErrorLines: errorLines.length,
      refusedTokenRecoveries,
      daemonWarnOrErrorFailures: failedRequests.length,
      checkpointsCompleted: completed.size,
    },
    {
      name: "secure-bad-credentials: wrong keytab, unknown principal, untrusted certificate, clock skew against the secured clusters",
      published: publishedDuringBad,
      samples: 0,
      violations: 0,
      restoresTried: 0,
      restoresOk: 0,
      stateMismatches: 0,
      cases: badResults,
      publishedMeanwhileByTheGoodDaemon: publishedDuringBad,
    },
  ];
  return { scenarios, problems, wire };
}
