// The delegation-token lifecycle of the product's WebHdfsClient against the
// emulator's secure mode, on a clock the test moves (no waiting): fetched after
// SPNEGO with the principal as renewer, used on NameNode and DataNode steps,
// renewed before the renew deadline, replaced before the max lifetime and at once
// when revoked or expired, cancelled on release; a token file re-read when it
// changes; SPNEGO refusals typed; no token value in any log line or error.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type ObservedRequest, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { SpnegoError, WebHdfsClient, WebHdfsError, type Negotiator } from "../../src/webhdfs/index.js";

const HOUR = 3_600_000;
const RENEW_INTERVAL = 1 * HOUR;
const MAX_LIFETIME = 4 * HOUR;
const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

let now = Date.now();
const clock = () => now;
let sandbox: Sandbox;
let stateDir: string;
const requests: ObservedRequest[] = [];
const logLines: string[] = [];
const clients: WebHdfsClient[] = [];
const logger = pino({ level: "trace" }, new Writable({ write(chunk: Buffer, _e, cb) { logLines.push(chunk.toString("utf8")); cb(); } }));

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "webhdfs-tokens-"));
  sandbox = await startSandbox({
    stateDir,
    clusters: ["secure", "plain"],
    security: { enabled: ["secure"], spnegoUser: "replicator", tokenRenewIntervalMs: RENEW_INTERVAL, tokenMaxLifetimeMs: MAX_LIFETIME, clock },
  });
  sandbox.faults.observe((r) => requests.push(r));
});
afterAll(async () => {
  await sandbox?.stop();
  await rm(stateDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** The emulator takes any `Negotiate <token>` as SPNEGO for its spnegoUser; a real ticket is tested in interop. */
function negotiator(o: { answers?: string[]; fail?: Error } = {}): Negotiator & { calls: number; resets: number } {
  const n = {
    principal: "replicator@EXAMPLE.COM",
    calls: 0,
    resets: 0,
    authorization: async (_namenode: string) => {
      n.calls++;
      if (o.fail) throw o.fail;
      return o.answers?.[n.calls - 1] ?? "Negotiate dGlja2V0";
    },
    reset: () => {
      n.resets++;
    },
  };
  return n;
}

function kerberosClient(cluster = "secure", neg: Negotiator = negotiator()): WebHdfsClient {
  const c = new WebHdfsClient(
    { name: cluster, namenodes: sandbox.endpoints.clusters[cluster]?.namenodes ?? [], retry: FAST_RETRY },
    { negotiator: neg, logger, clock },
  );
  clients.push(c);
  return c;
}

const ops = (from: number) => requests.slice(from).map((r) => `${r.role}:${r.op}:${r.status}`);

/**
 * Waits until the emulator has recorded every answer sent so far: it records one when its response
 * closes, which can be just after the client has read it (a DataNode body above all).
 */
async function settle(): Promise<void> {
  let n = -1;
  while (n !== requests.length) {
    n = requests.length;
    await new Promise((r) => setTimeout(r, 15));
  }
}

describe("delegation tokens fetched with Kerberos", () => {
  it("fetches one token, renews it before each renew deadline and replaces it before the max lifetime, with no failed operation", async () => {
    const c = kerberosClient();
    await settle();
    const start = requests.length;
    await c.mkdirs("/tok/job");
    await settle();
    expect(ops(start)).toEqual(["namenode:GETDELEGATIONTOKEN:200", "namenode:RENEWDELEGATIONTOKEN:200", "namenode:MKDIRS:200"]);
    expect(c.tokenStatus()).toEqual({ source: "kerberos", expiresAt: now + RENEW_INTERVAL, maxDate: now + MAX_LIFETIME, renewals: 0, refetches: 0, failures: 0 });

    // Writes and reads go with the token: the DataNode step carries the delegation the NameNode put in the redirect.
    await settle();
    let i = requests.length;
    await c.create("/tok/job/state", "checkpoint bytes");
    expect((await buffer(await c.open("/tok/job/state"))).toString("utf8")).toBe("checkpoint bytes");
    await settle();
    expect(ops(i)).toEqual(["namenode:CREATE:307", "datanode:CREATE:201", "namenode:OPEN:307", "datanode:OPEN:200"]);

    // Several renew deadlines, then the max lifetime: each step 80% of the renew interval.
    const issued = now;
    let renewals = 0;
    while (now < issued + MAX_LIFETIME + RENEW_INTERVAL) {
      now += 0.8 * RENEW_INTERVAL;
      await settle();
      i = requests.length;
      expect((await c.getFileStatus("/tok/job/state")).length).toBe(16);
      await settle();
      const seen = ops(i);
      expect(seen.at(-1)).toBe("namenode:GETFILESTATUS:200");
      renewals += seen.filter((o) => o === "namenode:RENEWDELEGATIONTOKEN:200").length;
      expect(seen.filter((o) => !o.endsWith(":200"))).toEqual([]);
    }
    const s = c.tokenStatus();
    expect(s?.renewals).toBeGreaterThanOrEqual(3);
    expect(s?.refetches).toBe(1);
    expect(s?.failures).toBe(0);
    expect(requests.slice(start).filter((r) => r.op === "GETDELEGATIONTOKEN")).toHaveLength(2);
    expect(s?.expiresAt).toBeGreaterThan(now);
    expect(renewals).toBeGreaterThan(3); // every fetch is followed by one renewal that tells the expiry
  });

  it("a token revoked behind its back is replaced by a new SPNEGO fetch and the operation succeeds", async () => {
    const c = kerberosClient();
    await c.mkdirs("/tok/revoked");
    expect(sandbox.revokeDelegationTokens("secure")).toBeGreaterThanOrEqual(1);
    await settle();
    const i = requests.length;
    await c.create("/tok/revoked/a", "x");
    await settle();
    expect(ops(i)).toEqual([
      "namenode:CREATE:403", "namenode:GETDELEGATIONTOKEN:200", "namenode:RENEWDELEGATIONTOKEN:200", "namenode:CREATE:307", "datanode:CREATE:201",
    ]);
    expect(c.tokenStatus()).toMatchObject({ refetches: 1 });
    expect(c.credentialProblem()).toBeNull();
  });

  it("a token past its renew deadline after an idle spell is renewed before use (the NameNode still knows it)", async () => {
    const c = kerberosClient();
    await c.mkdirs("/tok/idle");
    now += 2 * RENEW_INTERVAL;
    await settle();
    const i = requests.length;
    expect(await c.listStatus("/tok/idle")).toEqual([]);
    await settle();
    expect(ops(i)).toEqual(["namenode:RENEWDELEGATIONTOKEN:200", "namenode:LISTSTATUS:200"]);
    expect(c.tokenStatus()).toMatchObject({ renewals: 1, refetches: 0, failures: 0, expiresAt: now + RENEW_INTERVAL });
  });

  it("past its max date a token is replaced without a renewal that could not succeed", async () => {
    const c = kerberosClient();
    await c.mkdirs("/tok/old");
    now += MAX_LIFETIME + 1;
    await settle();
    const i = requests.length;
    expect(await c.listStatus("/tok/old")).toEqual([]);
    await settle();
    expect(ops(i)).toEqual(["namenode:GETDELEGATIONTOKEN:200", "namenode:RENEWDELEGATIONTOKEN:200", "namenode:LISTSTATUS:200"]);
    expect(c.tokenStatus()).toMatchObject({ refetches: 1, failures: 0 });
  });

  it("a renewal refused as InvalidToken (revoked) fetches a new token before the operation, which does not fail", async () => {
    const c = kerberosClient();
    await c.mkdirs("/tok/renew-refused");
    sandbox.revokeDelegationTokens("secure");
    now += 0.8 * RENEW_INTERVAL;
    await settle();
    const i = requests.length;
    await c.mkdirs("/tok/renew-refused/b");
    await settle();
    expect(ops(i)).toEqual(["namenode:RENEWDELEGATIONTOKEN:403", "namenode:GETDELEGATIONTOKEN:200", "namenode:RENEWDELEGATIONTOKEN:200", "namenode:MKDIRS:200"]);
    // Replaced at once, as when an operation meets the refused token first: a re-fetch, not a failure.
    expect(c.tokenStatus()).toMatchObject({ refetches: 1, failures: 0, renewals: 0 });
  });

  it("release() cancels the token: the NameNode refuses it afterwards", async () => {
    const c = kerberosClient();
    await c.mkdirs("/tok/release");
    await settle();
    const i = requests.length;
    await c.release();
    await settle();
    expect(ops(i)).toEqual(["namenode:CANCELDELEGATIONTOKEN:200"]);
    // The client stays usable: the next operation fetches a new token.
    await c.mkdirs("/tok/release/again");
    await settle();
    expect(ops(i).slice(1, 2)).toEqual(["namenode:GETDELEGATIONTOKEN:200"]);
  });

  it("a proxy user (doAs) keeps working: the token is fetched for the doAs user and renewed by the principal", async () => {
    const c = new WebHdfsClient(
      { name: "secure", namenodes: sandbox.endpoints.clusters.secure?.namenodes ?? [], doAs: "flink", retry: FAST_RETRY },
      { negotiator: negotiator(), logger, clock },
    );
    clients.push(c);
    await c.create("/proxied", "x");
    expect((await c.getFileStatus("/proxied")).owner).toBe("flink");
    now += 0.8 * RENEW_INTERVAL;
    await c.getFileStatus("/proxied");
    expect(c.tokenStatus()).toMatchObject({ renewals: 1, failures: 0 });
    const fetches = requests.filter((r) => r.op === "GETDELEGATIONTOKEN").at(-1);
    expect(fetches?.doAs).toBe("flink");
  });

  it("a cluster with security off answers {\"Token\":null}: operations go without a token", async () => {
    const c = kerberosClient("plain");
    await settle();
    const i = requests.length;
    await c.mkdirs("/plain/dir");
    await c.mkdirs("/plain/dir2");
    await settle();
    expect(ops(i)).toEqual(["namenode:GETDELEGATIONTOKEN:200", "namenode:MKDIRS:200", "namenode:MKDIRS:200"]);
  });

  it("a 401 Negotiate answer renegotiates once; a second refusal is a typed error", async () => {
    const once = negotiator({ answers: ["Negotiate", "Negotiate dGlja2V0"] });
    await kerberosClient("secure", once).mkdirs("/tok/renegotiated");
    expect([once.calls, once.resets]).toEqual([3, 1]); // refused, renegotiated: GETDELEGATIONTOKEN; then RENEW

    const never = negotiator({ answers: ["Negotiate", "Negotiate"] });
    const err = await kerberosClient("secure", never).mkdirs("/tok/never").then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WebHdfsError);
    expect(err).toMatchObject({ status: 401, operation: "GETDELEGATIONTOKEN" });
    expect([never.calls, never.resets]).toEqual([2, 1]);
  });

  it("a failed negotiation is a typed SpnegoError naming principal, NameNode and the GSS message; readiness keeps it", async () => {
    const nn = sandbox.endpoints.clusters.secure?.namenodes[0] ?? "";
    const gss = new SpnegoError("replicator@EXAMPLE.COM", nn, "HTTP@127.0.0.1", "Client 'replicator@EXAMPLE.COM' not found in Kerberos database");
    const c = kerberosClient("secure", negotiator({ fail: gss }));
    const err = await c.getFileStatus("/").then(() => undefined, (e: unknown) => e);
    expect(err).toBe(gss);
    expect((err as Error).message).toContain("replicator@EXAMPLE.COM");
    expect((err as Error).message).toContain(nn);
    expect((err as Error).message).toContain("not found in Kerberos database");
    expect(c.credentialProblem()).toBe(gss.message);
    expect(c.tokenStatus()).toMatchObject({ failures: 1 });
  });

  it("no token value appears in any log line", () => {
    const tokens = logLines.flatMap((l) => [...l.matchAll(/[A-Za-z0-9_-]{60,}/g)].map((m) => m[0]));
    expect(tokens).toEqual([]);
    expect(logLines.some((l) => l.includes("delegation=***") || l.includes("token=***"))).toBe(true);
  });
});

describe("a delegation token from a file", () => {
  it("is re-read when the file changes (Secret rotation) and at once when the NameNode refuses the old one", async () => {
    const file = join(stateDir, "token");
    const mint = () => sandbox.mintDelegationToken("secure", { user: "flink" }).urlString;
    await writeFile(file, `${mint()}\n`);
    const c = new WebHdfsClient(
      { name: "secure", namenodes: sandbox.endpoints.clusters.secure?.namenodes ?? [], delegationTokenFile: file, retry: FAST_RETRY },
      { logger, clock, tokenFileCheckMs: 10 * HOUR },
    );
    clients.push(c);
    await c.mkdirs("/file-token");
    expect((await c.getFileStatus("/file-token")).owner).toBe("flink");

    // Rotation: a new token in the file, the old one revoked. The check interval has not passed, so the
    // refusal of the old token is what makes the client look at the file again.
    await writeFile(file, `${mint()}\n`);
    sandbox.revokeDelegationTokens("secure");
    await writeFile(file, `${mint()}\n`);
    await settle();
    const i = requests.length;
    await c.mkdirs("/file-token/rotated");
    await settle();
    expect(ops(i)).toEqual(["namenode:MKDIRS:403", "namenode:MKDIRS:200"]);
    expect(c.tokenStatus()).toMatchObject({ source: "file", refetches: 1 });

    // Past the check interval the file is looked at before the operation: no refused request.
    await writeFile(file, `${mint()}\n`);
    now += 10 * HOUR + 1;
    sandbox.revokeDelegationTokens("secure");
    await writeFile(file, `${mint()}\n`);
    await settle();
    const j = requests.length;
    await c.mkdirs("/file-token/rotated-again");
    await settle();
    expect(ops(j)).toEqual(["namenode:MKDIRS:200"]);
    expect(c.tokenStatus()).toMatchObject({ refetches: 2 });
  });
});
