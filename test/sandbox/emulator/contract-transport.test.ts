// Contract checklist items 1-12 (transport and errors), over raw node:http.

import { describe, expect, it } from "vitest";
import { createFile, remoteException, request, url } from "./raw-http.js";
import { useSandbox } from "./sandbox-fixture.js";

const fx = useSandbox();
const U = { "user.name": "alice" };

describe("WebHDFS contract: transport and errors", () => {
  it("1: lower-case op=getfilestatus returns 200", async () => {
    await createFile(fx.nn(), "/t1/f", "x");
    const res = await request(`${fx.nn()}/webhdfs/v1/t1/f?op=getfilestatus`);
    expect(res.status).toBe(200);
    expect(res.json<{ FileStatus: { type: string } }>().FileStatus.type).toBe("FILE");
  });

  it("2: parameter names are case-insensitive on the NN (OP=, startAfter= and startafter=)", async () => {
    for (const name of ["a", "b", "c"]) await createFile(fx.nn(), `/t2/${name}`, name);
    const upper = await request(`${fx.nn()}/webhdfs/v1/t2?OP=LISTSTATUS&startAfter=a`);
    const lower = await request(`${fx.nn()}/webhdfs/v1/t2?op=LISTSTATUS&startafter=a`);
    expect(upper.status).toBe(200);
    expect(upper.text).toBe(lower.text);
    const names = (text: string) =>
      JSON.parse(text).DirectoryListing.partialListing.FileStatuses.FileStatus.map((s: { pathSuffix: string }) => s.pathSuffix);
    const batchCamel = await request(`${fx.nn()}/webhdfs/v1/t2?OP=LISTSTATUS_BATCH&startAfter=a`);
    const batchLower = await request(`${fx.nn()}/webhdfs/v1/t2?op=liststatus_batch&STARTAFTER=a`);
    expect(names(batchCamel.text)).toEqual(["b", "c"]);
    expect(names(batchLower.text)).toEqual(["b", "c"]);
  });

  it("3: an unknown op returns 400 IllegalArgumentException 'Invalid value for webhdfs parameter \"op\"'", async () => {
    const res = await request(url(fx.nn(), "/", "FOO"));
    expect(res.status).toBe(400);
    const e = remoteException(res);
    expect(e.exception).toBe("IllegalArgumentException");
    expect(e.message).toMatch(/^Invalid value for webhdfs parameter "op"/);
    const put = await request(url(fx.nn(), "/", "FOO"), { method: "PUT" });
    expect(remoteException(put).message).toBe('Invalid value for webhdfs parameter "op": FOO is not a valid PUT operation.');
  });

  it("4: a request without op returns 400 UnsupportedOperationException", async () => {
    const res = await request(`${fx.nn()}/webhdfs/v1/`);
    expect(res.status).toBe(400);
    expect(remoteException(res)).toEqual({
      exception: "UnsupportedOperationException",
      javaClassName: "java.lang.UnsupportedOperationException",
      message: "op=NULL is not supported",
    });
  });

  it("5: GETFILESTATUS of a missing path returns 404 FileNotFoundException 'File does not exist: /x'", async () => {
    const res = await request(url(fx.nn(), "/x", "GETFILESTATUS"));
    expect(res.status).toBe(404);
    expect(remoteException(res)).toEqual({
      exception: "FileNotFoundException",
      javaClassName: "java.io.FileNotFoundException",
      message: "File does not exist: /x",
    });
  });

  it("6: access denied is 403 AccessControlException (not 401)", async () => {
    await request(url(fx.nn(), "/t6", "MKDIRS", { ...U, permission: "755" }), { method: "PUT" });
    const res = await request(url(fx.nn(), "/t6/sub", "MKDIRS", { "user.name": "bob" }), { method: "PUT" });
    expect(res.status).toBe(403);
    const e = remoteException(res);
    expect(e.javaClassName).toBe("org.apache.hadoop.security.AccessControlException");
    expect(e.message).toBe('Permission denied: user=bob, access=WRITE, inode="/t6":alice:supergroup:drwxr-xr-x');
  });

  it("7: every error body is one RemoteException object with exactly exception, javaClassName, message", async () => {
    const errors = await Promise.all([
      request(url(fx.nn(), "/missing", "GETFILESTATUS")),
      request(url(fx.nn(), "/", "FOO")),
      request(`${fx.nn()}/webhdfs/v1/`),
      request(url(fx.nn(), "/a:b", "GETFILESTATUS")),
      request(url(fx.nn(), "/missing", "LISTSTATUS")),
    ]);
    for (const res of errors) {
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      const body = res.json();
      expect(Object.keys(body)).toEqual(["RemoteException"]);
      expect(Object.keys(body.RemoteException as object)).toEqual(["exception", "javaClassName", "message"]);
    }
  });

  it("8: standby, safe mode, retriable and already-exists are 403 (never 409/503)", async () => {
    await createFile(fx.nn(), "/t8/f", "x");
    const statuses: number[] = [];
    statuses.push((await request(url(fx.nn(1), "/t8/f", "GETFILESTATUS"))).status); // standby
    statuses.push((await request(url(fx.nn(), "/t8/f", "MKDIRS", U), { method: "PUT" })).status); // exists as file
    statuses.push((await createFile(fx.nn(), "/t8/f", "again")).status); // FileAlreadyExists at the DN
    fx.sandbox.setSafeMode("hdfs1", true);
    try {
      statuses.push((await request(url(fx.nn(), "/t8/d", "MKDIRS", U), { method: "PUT" })).status);
    } finally {
      fx.sandbox.setSafeMode("hdfs1", false);
    }
    fx.sandbox.setStartupMode("hdfs1", true);
    try {
      statuses.push((await request(url(fx.nn(), "/t8/f", "GETFILESTATUS"))).status);
    } finally {
      fx.sandbox.setStartupMode("hdfs1", false);
    }
    expect(statuses).toEqual([403, 403, 403, 403, 403]);
  });

  it("9: a path component containing ':' yields 400 InvalidPathException", async () => {
    const res = await request(`${fx.nn()}/webhdfs/v1/a:b?op=MKDIRS&user.name=alice`, { method: "PUT" });
    expect(res.status).toBe(400);
    expect(remoteException(res).javaClassName).toBe("org.apache.hadoop.fs.InvalidPathException");
    const dots = await request(`${fx.nn()}/webhdfs/v1/a/../b?op=GETFILESTATUS`);
    expect(dots.status).toBe(400);
  });

  it("10: query values decode '+' to space while the path keeps '+' literal", async () => {
    const mk = await request(`${fx.nn()}/webhdfs/v1/t10/a+b?op=MKDIRS&user.name=alice`, { method: "PUT" });
    expect(mk.json()).toEqual({ boolean: true });
    const list = await request(url(fx.nn(), "/t10", "LISTSTATUS"));
    expect(list.text).toContain('"pathSuffix":"a+b"');
    const mv = await request(`${fx.nn()}/webhdfs/v1/t10/a+b?op=RENAME&user.name=alice&destination=/t10/c+d`, { method: "PUT" });
    expect(mv.json()).toEqual({ boolean: true });
    expect((await request(url(fx.nn(), "/t10/c d", "GETFILESTATUS"))).status).toBe(200);
  });

  it("11: permission=0755 and 755 are accepted; 888 and 2000 return 400", async () => {
    const a = await request(url(fx.nn(), "/t11/a", "MKDIRS", { ...U, permission: "0755" }), { method: "PUT" });
    const b = await request(url(fx.nn(), "/t11/b", "MKDIRS", { ...U, permission: "755" }), { method: "PUT" });
    expect([a.status, b.status]).toEqual([200, 200]);
    const st = await request(url(fx.nn(), "/t11/a", "GETFILESTATUS"));
    expect(st.json<{ FileStatus: { permission: string } }>().FileStatus.permission).toBe("755");
    for (const bad of ["888", "2000"]) {
      const res = await request(url(fx.nn(), "/t11/c", "MKDIRS", { ...U, permission: bad }), { method: "PUT" });
      expect(res.status).toBe(400);
      expect(remoteException(res).exception).toBe("IllegalArgumentException");
    }
  });

  it("12: a request under a non-WebHDFS prefix returns 404 with a non-JSON body", async () => {
    const res = await request(`${fx.nn()}/webhdfs/v2/x?op=GETFILESTATUS`);
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(() => JSON.parse(res.text)).toThrow();
    expect(res.text).toContain("HTTP ERROR 404");
  });
});

describe("WebHDFS contract: further transport rules (sections 1.1-1.3, 4.7)", () => {
  it("booleans accept any letter case; other values are 400", async () => {
    await createFile(fx.nn(), "/r1/d/f", "x");
    const upper = await request(url(fx.nn(), "/r1/d", "DELETE", { ...U, recursive: "TRUE" }), { method: "DELETE" });
    expect(upper.text).toBe('{"boolean":true}');
    const bad = await request(url(fx.nn(), "/r1", "DELETE", { ...U, recursive: "yes" }), { method: "DELETE" });
    expect(bad.status).toBe(400);
    expect(remoteException(bad).message).toMatch(/^Invalid value for webhdfs parameter "recursive"/);
  });

  it("a user.name outside the default pattern is 400", async () => {
    const res = await request(url(fx.nn(), "/", "GETHOMEDIRECTORY", { "user.name": "bad user!" }));
    expect(res.status).toBe(400);
    expect(remoteException(res).message).toMatch(/^Invalid value for webhdfs parameter "user.name"/);
  });

  it("a raw '%' in the path is a bare 400 without a JSON body", async () => {
    const res = await request(`${fx.nn()}/webhdfs/v1/100%?op=GETFILESTATUS`);
    expect(res.status).toBe(400);
    expect(res.body.length).toBe(0);
  });

  it("the first value of a repeated parameter wins", async () => {
    const res = await request(`${fx.nn()}/webhdfs/v1/?op=GETHOMEDIRECTORY&user.name=first&user.name=second`);
    expect(res.text).toBe('{"Path":"/user/first"}');
  });

  it("the NN answers Expect: 100-continue with 100 Continue before the 307 (Jetty)", async () => {
    const res = await request(url(fx.nn(), "/r5", "CREATE", U), { method: "PUT", headers: { Expect: "100-continue" }, body: "" });
    expect(res.interim).toEqual([100]);
    expect(res.status).toBe(307);
  });

  it("NN JSON answers carry the NameNode's cache and security headers", async () => {
    const res = await request(url(fx.nn(), "/", "GETFILESTATUS"));
    expect(res.headers).toMatchObject({
      "cache-control": "no-cache",
      pragma: "no-cache",
      "x-frame-options": "SAMEORIGIN",
      "x-content-type-options": "nosniff",
      "content-type": "application/json",
    });
  });
});
