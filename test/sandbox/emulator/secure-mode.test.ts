// Secure mode beyond the contract checklist: the token wire format (Hadoop's
// Token writable in URL-safe base64), lifetimes and renewal rules on a clock we
// control, who may renew or cancel, HA rules for token operations, the user a
// request acts as, the admin routes and the security options.

import { describe, expect, it } from "vitest";
import { startSandbox, SandboxError, RemoteHdfsError } from "../../../src/sandbox/emulator/index.js";
import { decodeToken, encodeIdentifier, encodeToken } from "../../../src/webhdfs/token-codec.js";
import { DelegationTokenManager } from "../../../src/sandbox/emulator/tokens.js";
import { remoteException, request, url, type RawResponse } from "./raw-http.js";
import { useSandbox } from "./sandbox-fixture.js";
import { NEGOTIATE } from "./secure-helpers.js";

const fx = useSandbox({ clusters: ["sec", "open"], security: { enabled: ["sec"], spnegoUser: "hdfs" } });
const nn = (index = 0) => fx.nn(index, "sec");
const mint = (user: string, renewer?: string) => fx.sandbox.mintDelegationToken("sec", { user, renewer }).urlString;
const put = (op: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  request(url(nn(), "/", op, params), { method: "PUT", headers });
const remote = (res: RawResponse) => [res.status, remoteException(res).javaClassName, remoteException(res).message];

async function admin(method: string, path: string, body?: unknown): Promise<RawResponse> {
  return request(`${fx.sandbox.endpoints.admin}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe("delegation token format", () => {
  it("the identifier is Hadoop's writable: version byte, Text fields, variable-length longs", () => {
    const bytes = encodeIdentifier({
      owner: "alice", renewer: "flink", realUser: "", issueDate: 1000, maxDate: -1000, sequenceNumber: 1, masterKeyId: 200,
    });
    const alice = Buffer.from("alice").toString("hex");
    const flink = Buffer.from("flink").toString("hex");
    expect(bytes.toString("hex")).toBe(`0005${alice}05${flink}00` + "8e03e8" + "8603e7" + "01" + "8fc8");
  });

  it("a urlString is the Token writable in unpadded URL-safe base64, and decodes back", () => {
    const urlString = mint("alice", "flink");
    expect(urlString).toMatch(/^[A-Za-z0-9_-]+$/);
    const token = decodeToken(urlString);
    expect(token).toMatchObject({ kind: "WEBHDFS delegation", service: "ha-hdfs:sec", identifier: { owner: "alice", renewer: "flink" } });
    expect(token.password.length).toBe(20); // HMAC-SHA1
    expect(encodeToken(token)).toBe(urlString);
    for (const bad of [`${urlString}=`, urlString.slice(0, -6), `${urlString}AAAA`, "not base64!"]) {
      expect(() => decodeToken(bad), bad).toThrow();
    }
  });
});

describe("token lifetimes (secret manager on a test clock)", () => {
  it("a token lives for the renew interval, each renewal extends it, never past the max lifetime", () => {
    let now = 0;
    const tokens = new DelegationTokenManager({ renewIntervalMs: 100, maxLifetimeMs: 250 }, () => now);
    const { urlString, expiresAt } = tokens.issue({ owner: "alice", renewer: "flink", service: "s" });
    expect(expiresAt).toBe(100);
    now = 100;
    expect(tokens.verify(urlString).owner).toBe("alice");
    now = 101;
    expect(() => tokens.verify(urlString)).toThrow(/is expired, current time: 1970-01-01T00:00:00.101Z expected renewal time: 1970-01-01T00:00:00.100Z/);
    expect(tokens.renew(urlString, "flink")).toBe(201);
    now = 200;
    expect(tokens.verify(urlString).owner).toBe("alice");
    expect(tokens.renew(urlString, "flink")).toBe(250);
    now = 251;
    const late = (() => {
      try {
        tokens.renew(urlString, "flink");
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(late).toBeInstanceOf(RemoteHdfsError);
    expect(late).toMatchObject({ status: 403, exception: "InvalidToken" });
    expect((late as RemoteHdfsError).remoteMessage).toMatch(/^flink tried to renew an expired token/);
  });
});

describe("secure mode on the wire", () => {
  it("only the renewer renews, only with SPNEGO; owner or renewer cancels", async () => {
    const token = mint("alice", "flink");
    const renewByHdfs = await put("RENEWDELEGATIONTOKEN", { token }, NEGOTIATE);
    expect(remote(renewByHdfs)).toEqual([
      403, "org.apache.hadoop.security.AccessControlException", expect.stringMatching(/^hdfs tries to renew a token \(.*\) with non-matching renewer flink$/),
    ]);
    const renewWithToken = await put("RENEWDELEGATIONTOKEN", { token, delegation: mint("flink") });
    expect(remote(renewWithToken)).toEqual([403, "java.io.IOException", "Delegation Token can be renewed only with kerberos or web authentication"]);
    const cancelByStranger = await put("CANCELDELEGATIONTOKEN", { token, delegation: mint("mallory") });
    expect(remote(cancelByStranger)).toEqual([
      403, "org.apache.hadoop.security.AccessControlException", expect.stringMatching(/^mallory is not authorized to cancel the token/),
    ]);
    expect((await put("CANCELDELEGATIONTOKEN", { token, delegation: mint("flink") })).status).toBe(200);
    expect(remote(await put("CANCELDELEGATIONTOKEN", { token }, NEGOTIATE))).toEqual([
      403, "org.apache.hadoop.security.token.SecretManager$InvalidToken", expect.stringMatching(/^Token not found/),
    ]);
    expect(remote(await put("RENEWDELEGATIONTOKEN", {}, NEGOTIATE))).toEqual([
      400, "java.lang.IllegalArgumentException", "Required param token for op: RENEWDELEGATIONTOKEN is null or empty",
    ]);
  });

  it("a request acts as the token owner (or its doas user); a user.name naming someone else is refused", async () => {
    const token = mint("alice");
    const home = (params: Record<string, string>) => request(url(nn(), "/", "GETHOMEDIRECTORY", { delegation: token, ...params }));
    expect((await home({})).text).toBe('{"Path":"/user/alice"}');
    expect((await home({ "user.name": "alice" })).text).toBe('{"Path":"/user/alice"}');
    expect((await home({ doas: "etl" })).text).toBe('{"Path":"/user/etl"}');
    const other = await home({ "user.name": "bob" });
    expect(remote(other)).toEqual([
      403, "java.lang.SecurityException", "Failed to obtain user group information: java.io.IOException: Usernames not matched: name=bob != expected=alice",
    ]);
    const spnego = await request(url(nn(), "/", "GETHOMEDIRECTORY"), { headers: NEGOTIATE });
    expect(spnego.text).toBe('{"Path":"/user/hdfs"}');
  });

  it("token operations and token minting for a SPNEGO redirect are writes: refused by a standby and an observer", async () => {
    const standby = await request(url(nn(1), "/", "GETDELEGATIONTOKEN"), { headers: NEGOTIATE });
    expect(remote(standby)).toEqual([403, "org.apache.hadoop.ipc.StandbyException", expect.stringMatching(/^Operation category WRITE is not supported in state standby/)]);
    const create = await request(url(nn(1), "/x", "CREATE"), { method: "PUT", headers: NEGOTIATE });
    expect(remote(create)).toEqual([403, "org.apache.hadoop.ipc.StandbyException", expect.stringMatching(/^Operation category WRITE/)]);
    fx.sandbox.setNameNodeState("sec", 1, "observer");
    try {
      const token = mint("alice");
      expect((await request(url(nn(1), "/", "GETFILESTATUS", { delegation: token }))).status).toBe(200);
      const observerCreate = await request(url(nn(1), "/x", "CREATE"), { method: "PUT", headers: NEGOTIATE });
      expect(remote(observerCreate)[2]).toMatch(/^Operation category WRITE is not supported in state observer/);
    } finally {
      fx.sandbox.setNameNodeState("sec", 1, "standby");
    }
  });

  it("a malformed delegation parameter is a SecurityException, not a crash", async () => {
    const res = await request(url(nn(), "/", "GETFILESTATUS", { delegation: "!!" }));
    expect(remote(res)).toEqual([
      403, "java.lang.SecurityException",
      "Failed to obtain user group information: org.apache.hadoop.security.token.SecretManager$InvalidToken: malformed delegation token: token is not URL-safe base64",
    ]);
  });
});

describe("admin API and options", () => {
  it("PUT /clusters/{name}/security toggles secure mode; POST /clusters/{name}/tokens mints a token", async () => {
    const openNn = fx.nn(0, "open");
    expect((await request(url(openNn, "/", "GETFILESTATUS"))).status).toBe(200);
    expect((await admin("PUT", "/clusters/open/security", { enabled: true })).json()).toEqual({ cluster: "open", secure: true });
    try {
      expect((await request(url(openNn, "/", "GETFILESTATUS", { "user.name": "etl" }))).status).toBe(401);
      const minted = await admin("POST", "/clusters/open/tokens", { user: "etl", renewer: "flink", expiresInMs: 60_000 });
      expect(minted.status).toBe(201);
      const { urlString, expiresAt } = minted.json<{ urlString: string; expiresAt: number }>();
      expect(expiresAt).toBeGreaterThan(Date.now() + 50_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(decodeToken(urlString).identifier).toMatchObject({ owner: "etl", renewer: "flink" });
      expect((await request(url(openNn, "/", "GETHOMEDIRECTORY", { delegation: urlString }))).text).toBe('{"Path":"/user/etl"}');
    } finally {
      await admin("PUT", "/clusters/open/security", { enabled: false });
    }
    expect((await request(url(openNn, "/", "GETFILESTATUS"))).status).toBe(200);
    expect((await admin("POST", "/clusters/open/tokens", {})).json()).toEqual({ error: 'field "user" must be a non-empty user name' });
    expect((await admin("POST", "/clusters/open/tokens", { user: "a", expiresInMs: -1 })).status).toBe(400);
    expect((await admin("PUT", "/clusters/open/security", { enabled: "yes" })).status).toBe(400);
    expect((await admin("POST", "/clusters/nope/tokens", { user: "a" })).status).toBe(404);
  });

  it("tokens live for tokenRenewIntervalMs by default; security.enabled must name known clusters", async () => {
    const sandbox = await startSandbox({
      stateDir: `${fx.stateDir}/options`, clusters: ["c1"], security: { enabled: true, tokenRenewIntervalMs: 120_000 },
    });
    try {
      const before = Date.now();
      const { expiresAt } = sandbox.mintDelegationToken("c1", { user: "u" });
      expect(expiresAt).toBeGreaterThanOrEqual(before + 120_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
      expect((await request(url(sandbox.endpoints.clusters.c1?.namenodes[0] ?? "", "/", "GETFILESTATUS"))).status).toBe(401);
    } finally {
      await sandbox.stop();
    }
    await expect(startSandbox({ stateDir: `${fx.stateDir}/bad`, clusters: ["c1"], security: { enabled: ["c2"] } })).rejects.toThrow(SandboxError);
    await expect(startSandbox({ stateDir: `${fx.stateDir}/bad`, clusters: ["c1"], security: { tokenRenewIntervalMs: 0 } })).rejects.toThrow(
      /tokenRenewIntervalMs must be a positive integer/,
    );
  });
});
