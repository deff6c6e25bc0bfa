// Contract checklist items 46-64 (namespace operations, auth, HA). Items 55-57
// (secure mode: SPNEGO and delegation tokens) are not implemented and are
// reported as skipped with the reason printed.

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createFile, openFile, remoteException, request, url } from "./raw-http.js";
import { useSandbox, waitFor } from "./sandbox-fixture.js";

const fx = useSandbox();
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

  for (const item of [
    "55: secure mode: 401 with WWW-Authenticate: Negotiate, delegation= accepted and carried in redirects",
    "56: an expired/cancelled token is 403 SecurityException 'Failed to obtain user group information:'",
    "57: GETDELEGATIONTOKEN / RENEW / CANCEL token lifecycle",
  ]) {
    const reason = `NOT IMPLEMENTED in the emulator (secure mode / delegation tokens; security-off only): ${item}`;
    process.stderr.write(`SKIPPED: ${reason}\n`);
    it.skip(reason, () => {});
  }
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
