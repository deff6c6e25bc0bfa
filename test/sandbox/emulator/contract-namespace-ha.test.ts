// Contract checklist items 46-64 (namespace operations, auth, HA). Items 55-57
// (secure mode: SPNEGO stand-in and delegation tokens) run against cluster
// hdfs2, which starts in secure mode; hdfs1 has security off.

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { MintTokenRequest } from "../../../src/sandbox/emulator/index.js";
import { decodeToken } from "../../../src/webhdfs/token-codec.js";
import { createFile, openFile, remoteException, request, url, type Params, type RawResponse } from "./raw-http.js";
import { useSandbox, waitFor } from "./sandbox-fixture.js";
import { NEGOTIATE, withOwner } from "./secure-helpers.js";

const SECURE = "hdfs2";
const fx = useSandbox({ security: { enabled: [SECURE], spnegoUser: "flink" } });

/** The message of a 403 SecurityException (after checking status, class and the getUGI prefix). */
function securityMessage(res: RawResponse): string {
  expect(res.status).toBe(403);
  const e = remoteException(res);
  expect(e.javaClassName).toBe("java.lang.SecurityException");
  expect(e.message).toMatch(/^Failed to obtain user group information: /);
  return e.message ?? "";
}
const U = { "user.name": "alice" };
const put = (path: string, op: string, params: Record<string, string | number> = {}, nn = fx.nn()) =>
  request(url(nn, path, op, { ...U, ...params }), { method: "PUT" });
const exists = async (path: string) => (await request(url(fx.nn(), path, "GETFILESTATUS"))).status === 200;

describe("WebHDFS contract: namespace operations", () => {
  it("46: MKDIRS answers {\"boolean\":true} when creating and when the directory exists; 403 on an existing file", async () => {
    expect((await put("/n46/a/b", "MKDIRS")).text).toBe('{"boolean":true}');
    expect((await put("/n46/a/b", "MKDIRS")).text).toBe('{"boolean":true}');
    await createFile(fx.nn(), "/n46/f", "x");
    const res = await put("/n46/f", "MKDIRS");
    expect(res.status).toBe(403);
    expect(remoteException(res)).toMatchObject({
      javaClassName: "org.apache.hadoop.fs.FileAlreadyExistsException",
      message: "Path is not a directory: /n46/f",
    });
  });

  it("47: legacy RENAME answers 200 {\"boolean\":false} for a missing source, an existing file target, a missing target parent", async () => {
    await createFile(fx.nn(), "/n47/src", "s");
    await createFile(fx.nn(), "/n47/dst", "d");
    for (const [src, dst] of [["/n47/missing", "/n47/x"], ["/n47/src", "/n47/dst"], ["/n47/src", "/n47/nope/x"]]) {
      const res = await put(src as string, "RENAME", { destination: dst as string });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"boolean":false}');
    }
    expect((await openFile(fx.nn(), "/n47/dst")).text).toBe("d");
  });

  it("48: legacy RENAME of /f onto an existing directory /d moves it to /d/f", async () => {
    await createFile(fx.nn(), "/n48/f", "content");
    await put("/n48/d", "MKDIRS");
    expect((await put("/n48/f", "RENAME", { destination: "/n48/d" })).text).toBe('{"boolean":true}');
    expect(await exists("/n48/f")).toBe(false);
    expect((await openFile(fx.nn(), "/n48/d/f")).text).toBe("content");
  });

  it("49: RENAME renameoptions=OVERWRITE replaces the target with an empty 200; NONE is 403 FileAlreadyExistsException", async () => {
    await createFile(fx.nn(), "/n49/a", "new");
    await createFile(fx.nn(), "/n49/b", "old");
    await createFile(fx.nn(), "/n49/c", "other");
    const none = await put("/n49/c", "RENAME", { destination: "/n49/b", renameoptions: "NONE" });
    expect(none.status).toBe(403);
    expect(remoteException(none)).toMatchObject({
      javaClassName: "org.apache.hadoop.fs.FileAlreadyExistsException",
      message: "rename destination /n49/b already exists",
    });
    const over = await put("/n49/a", "RENAME", { destination: "/n49/b", renameoptions: "OVERWRITE" });
    expect(over.status).toBe(200);
    expect(over.body.length).toBe(0);
    expect((await openFile(fx.nn(), "/n49/b")).text).toBe("new");
    expect(await exists("/n49/a")).toBe(false);
  });

  it("50: RENAME with options and a missing source is 404", async () => {
    const res = await put("/n50/missing", "RENAME", { destination: "/n50/x", renameoptions: "OVERWRITE" });
    expect(res.status).toBe(404);
    expect(remoteException(res).javaClassName).toBe("java.io.FileNotFoundException");
  });

  it("51: DELETE: missing is {\"boolean\":false}; non-empty dir without recursive is 403; with recursive=true it is deleted", async () => {
    const missing = await request(url(fx.nn(), "/n51/missing", "DELETE", U), { method: "DELETE" });
    expect([missing.status, missing.text]).toEqual([200, '{"boolean":false}']);
    await createFile(fx.nn(), "/n51/d/f", "x");
    const refused = await request(url(fx.nn(), "/n51/d", "DELETE", U), { method: "DELETE" });
    expect(refused.status).toBe(403);
    expect(remoteException(refused)).toMatchObject({
      javaClassName: "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
      message: "`/n51/d is non empty': Directory is not empty",
    });
    const done = await request(url(fx.nn(), "/n51/d", "DELETE", { ...U, recursive: "true" }), { method: "DELETE" });
    expect(done.text).toBe('{"boolean":true}');
    expect(await exists("/n51/d")).toBe(false);
  });

  it("52: SETTIMES and SETPERMISSION answer 200 with an empty body and show in GETFILESTATUS", async () => {
    await createFile(fx.nn(), "/n52", "x");
    const times = await put("/n52", "SETTIMES", { modificationtime: 1700000000123, accesstime: 1700000000000 });
    const perm = await put("/n52", "SETPERMISSION", { permission: "600" });
    for (const res of [times, perm]) expect([res.status, res.body.length]).toEqual([200, 0]);
    const st = (await request(url(fx.nn(), "/n52", "GETFILESTATUS"))).json<{ FileStatus: Record<string, unknown> }>().FileStatus;
    expect(st).toMatchObject({ modificationTime: 1700000000123, accessTime: 1700000000000, permission: "600" });
    const notOwner = await put("/n52", "SETPERMISSION", { "user.name": "bob", permission: "777" });
    expect(notOwner.status).toBe(403);
  });

  it("53: GETHOMEDIRECTORY returns {\"Path\":\"/user/<user.name>\"}", async () => {
    const res = await request(url(fx.nn(), "/", "GETHOMEDIRECTORY", { "user.name": "flink" }));
    expect(res.text).toBe('{"Path":"/user/flink"}');
  });
});

describe("WebHDFS contract: auth", () => {
  it("54: without user.name the user is dr.who, and a write into a directory not writable by others is 403", async () => {
    await put("/a54", "MKDIRS", { permission: "755" });
    const res = await request(url(fx.nn(), "/a54/x", "MKDIRS"), { method: "PUT" });
    expect(res.status).toBe(403);
    expect(remoteException(res).message).toMatch(/^Permission denied: user=dr\.who, access=WRITE/);
    expect((await request(url(fx.nn(), "/", "GETHOMEDIRECTORY"))).text).toBe('{"Path":"/user/dr.who"}');
  });
});

describe("WebHDFS contract: secure mode (cluster hdfs2)", () => {
  const snn = (index = 0) => fx.nn(index, SECURE);
  const mint = (request: Partial<MintTokenRequest> = {}) =>
    fx.sandbox.mintDelegationToken(SECURE, { user: "alice", ...request }).urlString;
  /** The DataNode Location of a valid OPEN of `path`, with `delegation` replaced (or removed when null). */
  const dataNodeUrlWith = async (path: string, delegation: string | null) => {
    const step1 = await request(url(snn(), path, "OPEN", { delegation: mint() }));
    const location = new URL(String(step1.headers.location));
    if (delegation === null) location.searchParams.delete("delegation");
    else location.searchParams.set("delegation", delegation);
    return location.href;
  };

  it("55: secure mode: 401 with WWW-Authenticate: Negotiate, delegation= accepted and carried in redirects", async () => {
    for (const params of [{}, { "user.name": "alice" }] as Params[]) {
      const res = await request(url(snn(), "/", "GETFILESTATUS", params));
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toBe("Negotiate");
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(() => JSON.parse(res.text) as unknown).toThrow();
    }
    const token = mint();
    const D = { delegation: token };
    expect((await request(url(snn(), "/s55/d", "MKDIRS", D), { method: "PUT" })).text).toBe('{"boolean":true}');
    const create = await request(url(snn(), "/s55/d/f", "CREATE", D), { method: "PUT" });
    expect(create.status).toBe(307);
    const createAt = new URL(String(create.headers.location));
    expect([...createAt.searchParams.keys()].slice(0, 3)).toEqual(["op", "delegation", "namenoderpcaddress"]);
    expect(createAt.searchParams.get("delegation")).toBe(token);
    expect(createAt.searchParams.has("user.name")).toBe(false);
    expect((await request(createAt.href, { method: "PUT", body: "secret data" })).status).toBe(201);
    const status = (await request(url(snn(), "/s55/d/f", "GETFILESTATUS", D))).json<{ FileStatus: Record<string, unknown> }>();
    expect(status.FileStatus).toMatchObject({ owner: "alice", length: 11 });

    // The DataNode takes the user from the token and refuses a request without one or with a forged one.
    expect((await openFile(snn(), "/s55/d/f", D)).text).toBe("secret data");
    const missing = await request(await dataNodeUrlWith("/s55/d/f", null));
    expect(securityMessage(missing)).toMatch(/no delegation token/);
    const forged = await request(await dataNodeUrlWith("/s55/d/f", withOwner(token, "hdfs")));
    expect(securityMessage(forged)).toMatch(/InvalidToken: .*password doesn't match/);

    // A SPNEGO caller is redirected with a token minted for it.
    const spnego = await request(url(snn(), "/s55/d/f", "OPEN"), { headers: NEGOTIATE });
    const spnegoAt = new URL(String(spnego.headers.location));
    const fresh = spnegoAt.searchParams.get("delegation") ?? "";
    expect(fresh).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(fresh).not.toBe(token);
    expect(decodeToken(fresh).identifier.owner).toBe("flink");
    expect((await request(spnegoAt.href)).text).toBe("secret data");

    // Only the active NameNode checks tokens.
    const standby = await request(url(snn(1), "/s55/d/f", "GETFILESTATUS", D));
    expect(standby.status).toBe(403);
    expect(remoteException(standby).javaClassName).toBe("org.apache.hadoop.ipc.StandbyException");
  });

  it("56: an expired/cancelled token is 403 SecurityException 'Failed to obtain user group information:'", async () => {
    await createFile(snn(), "/s56", "x", { delegation: mint() });
    const expired = mint({ expiresInMs: 0 });
    const cancelled = mint();
    const cancel = await request(url(snn(), "/", "CANCELDELEGATIONTOKEN", { token: cancelled, delegation: cancelled }), { method: "PUT" });
    expect(cancel.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const [token, why] of [[expired, /InvalidToken: token \(.*owner=alice.*\) is expired/], [cancelled, /InvalidToken: Token for real user: , can't be found in cache/]] as const) {
      const nn = await request(url(snn(), "/s56", "GETFILESTATUS", { delegation: token }));
      expect(securityMessage(nn)).toMatch(why);
      expect(nn.text).not.toContain(token);
      expect(securityMessage(await request(await dataNodeUrlWith("/s56", token)))).toMatch(why);
    }
  });

  it("57: GETDELEGATIONTOKEN / RENEW / CANCEL token lifecycle", async () => {
    expect((await request(url(snn(), "/", "GETDELEGATIONTOKEN"))).status).toBe(401);
    const got = await request(url(snn(), "/", "GETDELEGATIONTOKEN", { renewer: "flink" }), { headers: NEGOTIATE });
    expect(got.status).toBe(200);
    const body = got.json<{ Token: { urlString: string } }>();
    expect(Object.keys(body)).toEqual(["Token"]);
    const token = body.Token.urlString;
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeToken(token)).toMatchObject({ kind: "WEBHDFS delegation", identifier: { owner: "flink", renewer: "flink" } });
    expect((await request(url(snn(), "/", "GETHOMEDIRECTORY", { delegation: token }))).text).toBe('{"Path":"/user/flink"}');
    const withToken = await request(url(snn(), "/", "GETDELEGATIONTOKEN", { delegation: token }));
    expect([withToken.status, remoteException(withToken).message]).toEqual([400, "delegation parameter is not null."]);

    const before = Date.now();
    const renewed = await request(url(snn(), "/", "RENEWDELEGATIONTOKEN", { token }), { method: "PUT", headers: NEGOTIATE });
    expect(renewed.status).toBe(200);
    const renewedBody = renewed.json<{ long: number }>();
    expect(Object.keys(renewedBody)).toEqual(["long"]);
    expect(renewedBody.long).toBeGreaterThanOrEqual(before + 86_400_000);

    const cancelled = await request(url(snn(), "/", "CANCELDELEGATIONTOKEN", { token }), { method: "PUT", headers: NEGOTIATE });
    expect([cancelled.status, cancelled.body.length]).toEqual([200, 0]);
    const rejected = await request(url(snn(), "/", "GETHOMEDIRECTORY", { delegation: token }));
    expect(securityMessage(rejected)).toMatch(/can't be found in cache/);
    const renewAgain = await request(url(snn(), "/", "RENEWDELEGATIONTOKEN", { token }), { method: "PUT", headers: NEGOTIATE });
    expect([renewAgain.status, remoteException(renewAgain).exception]).toEqual([403, "InvalidToken"]);

    // Security off: no secret manager, no token.
    expect((await request(url(fx.nn(), "/", "GETDELEGATIONTOKEN", U))).text).toBe('{"Token":null}');
  });
});

describe("WebHDFS contract: HA", () => {
  it("58: a standby NN answers 403 StandbyException for reads and writes", async () => {
    await createFile(fx.nn(), "/h58/f", "x");
    const standby = fx.nn(1);
    const calls: [string, string, string, Record<string, string>][] = [
      ["GET", "/h58/f", "GETFILESTATUS", {}],
      ["GET", "/h58", "LISTSTATUS", {}],
      ["GET", "/h58", "LISTSTATUS_BATCH", {}],
      ["GET", "/h58/f", "OPEN", {}],
      ["GET", "/h58/f", "GETFILECHECKSUM", {}],
      ["PUT", "/h58/d", "MKDIRS", {}],
      ["PUT", "/h58/f", "RENAME", { destination: "/h58/g" }],
      ["DELETE", "/h58/f", "DELETE", {}],
    ];
    for (const [method, path, op, params] of calls) {
      const res = await request(url(standby, path, op, { ...U, ...params }), { method });
      expect(res.status, op).toBe(403);
      const e = remoteException(res);
      expect(e.javaClassName, op).toBe("org.apache.hadoop.ipc.StandbyException");
      const category = method === "GET" ? "READ" : "WRITE";
      expect(e.message, op).toBe(`Operation category ${category} is not supported in state standby. Visit https://s.apache.org/sbnn-error`);
    }
    expect(await exists("/h58/f")).toBe(true);
  });

  it("59: a standby NN still answers GETHOMEDIRECTORY (200) and the CREATE NN step (307)", async () => {
    expect((await request(url(fx.nn(1), "/", "GETHOMEDIRECTORY", U))).status).toBe(200);
    const create = await put("/h59", "CREATE", {}, fx.nn(1));
    expect(create.status).toBe(307);
    expect((await request(String(create.headers.location), { method: "PUT", body: "via standby" })).status).toBe(201);
  });

  it("60: an observer NN serves reads and answers writes with StandbyException '... state observer ...'", async () => {
    await createFile(fx.nn(), "/h60", "x");
    fx.sandbox.setNameNodeState("hdfs1", 1, "observer");
    try {
      expect((await request(url(fx.nn(1), "/h60", "GETFILESTATUS"))).status).toBe(200);
      const res = await put("/h60-dir", "MKDIRS", {}, fx.nn(1));
      expect(res.status).toBe(403);
      expect(remoteException(res).message).toBe(
        "Operation category WRITE is not supported in state observer. Visit https://s.apache.org/sbnn-error",
      );
    } finally {
      fx.sandbox.setNameNodeState("hdfs1", 1, "standby");
    }
  });

  it("61: a NN in startup mode answers 403 RetriableException 'Namenode is in startup mode'", async () => {
    fx.sandbox.setStartupMode("hdfs1", true);
    try {
      const res = await request(url(fx.nn(), "/", "GETFILESTATUS"));
      expect(res.status).toBe(403);
      expect(remoteException(res)).toMatchObject({ javaClassName: "org.apache.hadoop.ipc.RetriableException", message: "Namenode is in startup mode" });
    } finally {
      fx.sandbox.setStartupMode("hdfs1", false);
    }
    expect((await request(url(fx.nn(), "/", "GETFILESTATUS"))).status).toBe(200);
  });

  it("62: in safe mode writes are RetriableException whose message starts with ...SafeModeException; reads work", async () => {
    fx.sandbox.setSafeMode("hdfs1", true);
    try {
      const mk = await put("/h62", "MKDIRS");
      expect(mk.status).toBe(403);
      const e = remoteException(mk);
      expect(e.javaClassName).toBe("org.apache.hadoop.ipc.RetriableException");
      expect(e.message).toMatch(/^org\.apache\.hadoop\.hdfs\.server\.namenode\.SafeModeException: Cannot create directory \/h62\. Name node is in safe mode\.\n/);
      expect((await createFile(fx.nn(), "/h62-file", "x")).status).toBe(403); // refused at the DN step
      expect((await request(url(fx.nn(), "/", "LISTSTATUS"))).status).toBe(200);
    } finally {
      fx.sandbox.setSafeMode("hdfs1", false);
    }
  });

  it("63: GET /isActive is 200 on the active NN and 405 on the standby", async () => {
    expect((await request(`${fx.nn(0)}/isActive`)).status).toBe(200);
    expect((await request(`${fx.nn(1)}/isActive`)).status).toBe(405);
  });

  it("64: a failover during a transfer does not break the DN step; the new active NN serves the file", async () => {
    const body = new PassThrough();
    const step1 = await put("/h64", "CREATE");
    const upload = request(String(step1.headers.location), { method: "PUT", body });
    body.write("before failover, ");
    await waitFor(exists.bind(null, "/h64"));
    fx.sandbox.failover("hdfs1");
    try {
      body.end("after failover");
      expect((await upload).status).toBe(201);
      expect((await request(`${fx.nn(1)}/isActive`)).status).toBe(200);
      expect((await request(url(fx.nn(0), "/h64", "GETFILESTATUS"))).status).toBe(403);
      expect((await openFile(fx.nn(1), "/h64")).text).toBe("before failover, after failover");
    } finally {
      fx.sandbox.failover("hdfs1");
    }
  });
});
