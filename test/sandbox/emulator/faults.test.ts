// Fault injection, programmatic and through the admin HTTP API: errors,
// latency, connection resets, cut bodies, delete-while-reading, unreachable
// clusters (refused / reset, timed), failover and mode switches.

import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { createFile, openFile, remoteException, request, requestPartial, url } from "./raw-http.js";
import { useSandbox, waitFor } from "./sandbox-fixture.js";

const fx = useSandbox();
const U = { "user.name": "alice" };

/** The network error code of a request that gets no HTTP answer (or "answered"). */
function connectionOutcome(target: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(target, { agent: false }, (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

const admin = (path: string, method = "GET", body?: unknown) =>
  request(`${fx.sandbox.endpoints.admin}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });

describe("programmatic fault injection", () => {
  it("fails the next N matching requests with the given RemoteException, then serves normally", async () => {
    await createFile(fx.nn(), "/fa/f", "x");
    fx.sandbox.faults.add({
      cluster: "hdfs1",
      role: "namenode",
      op: "getfilestatus",
      pathPrefix: "/fa/",
      times: 2,
      action: { kind: "error", status: 403, javaClassName: "org.apache.hadoop.ipc.RetriableException", message: "injected" },
    });
    expect((await request(url(fx.nn(), "/other", "GETFILESTATUS"))).status).toBe(404); // prefix does not match
    expect((await request(url(fx.nn(0, "hdfs2"), "/fa/f", "GETFILESTATUS"))).status).toBe(404); // other cluster
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await request(url(fx.nn(), "/fa/f", "GETFILESTATUS")));
    expect(statuses.map((r) => r.status)).toEqual([403, 403, 200]);
    expect(remoteException(statuses[0]!)).toEqual({
      exception: "RetriableException",
      javaClassName: "org.apache.hadoop.ipc.RetriableException",
      message: "injected",
    });
    expect(fx.sandbox.faults.list()).toEqual([]);
  });

  it("aims at one user: only requests with that user.name fail, on the DataNode step too", async () => {
    await createFile(fx.nn(), "/fu/f", "data");
    fx.sandbox.faults.add({ cluster: "hdfs1", role: "datanode", op: "OPEN", userName: "bob", times: "always", action: { kind: "reset" } });
    expect((await openFile(fx.nn(), "/fu/f")).text).toBe("data"); // alice reads as before
    await expect(openFile(fx.nn(), "/fu/f", { "user.name": "bob" })).rejects.toThrow();
    expect((await openFile(fx.nn(), "/fu/f", { "user.name": "carol" })).text).toBe("data");
    fx.sandbox.faults.clear();
  });

  it("fails a DataNode step (CREATE) while the NameNode step succeeds", async () => {
    fx.sandbox.faults.add({ role: "datanode", op: "CREATE", action: { kind: "error", status: 500, javaClassName: "java.lang.NullPointerException" } });
    const res = await createFile(fx.nn(), "/fb", "x");
    expect(res.status).toBe(500);
    expect(remoteException(res)).toEqual({ exception: "NullPointerException", javaClassName: "java.lang.NullPointerException", message: null });
    expect((await createFile(fx.nn(), "/fb", "x")).status).toBe(201);
  });

  it("adds latency to matching requests", async () => {
    const id = fx.sandbox.faults.add({ role: "namenode", op: "GETHOMEDIRECTORY", times: "always", action: { kind: "latency", ms: 300 } });
    const started = Date.now();
    await request(url(fx.nn(), "/", "GETHOMEDIRECTORY"));
    await request(url(fx.nn(), "/", "GETHOMEDIRECTORY"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(fx.sandbox.faults.remove(id)).toBe(true);
    const quick = Date.now();
    await request(url(fx.nn(), "/", "GETHOMEDIRECTORY"));
    expect(Date.now() - quick).toBeLessThan(290);
  });

  it("resets the connection without an answer", async () => {
    fx.sandbox.faults.add({ role: "namenode", op: "LISTSTATUS", action: { kind: "reset" } });
    expect(await connectionOutcome(url(fx.nn(), "/", "LISTSTATUS"))).toBe("ECONNRESET");
    expect(await connectionOutcome(url(fx.nn(), "/", "LISTSTATUS"))).toBe("answered 200");
  });

  it("deletes a file while it is being read: the body is cut and the file is gone", async () => {
    const content = Buffer.alloc(300_000, 2);
    await createFile(fx.nn(), "/fd/cut", content);
    fx.sandbox.faults.add({ pathPrefix: "/fd/cut", action: { kind: "delete-during-read", afterBytes: 65536 } });
    const nn = await request(url(fx.nn(), "/fd/cut", "OPEN", U));
    const res = await requestPartial(String(nn.headers.location));
    expect(res.complete).toBe(false);
    expect(res.received.length).toBe(65536);
    expect((await request(url(fx.nn(), "/fd/cut", "GETFILESTATUS"))).status).toBe(404);
  });

  it("deletes a file while it is being read without cutting: the read completes, the file is gone", async () => {
    const content = Buffer.alloc(300_000, 3);
    await createFile(fx.nn(), "/fd/keep", content);
    fx.sandbox.faults.add({ pathPrefix: "/fd/keep", action: { kind: "delete-during-read", afterBytes: 1000, cut: false } });
    const res = await openFile(fx.nn(), "/fd/keep");
    expect(res.body.equals(content)).toBe(true);
    expect((await request(url(fx.nn(), "/fd/keep", "GETFILESTATUS"))).status).toBe(404);
  });

  it("makes a cluster refuse connections, then brings it back on the same ports", async () => {
    await fx.sandbox.faults.makeUnreachable("hdfs2", "refuse");
    expect(await connectionOutcome(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))).toBe("ECONNREFUSED");
    expect(await connectionOutcome(url(fx.dn(0, "hdfs2"), "/", "OPEN"))).toBe("ECONNREFUSED");
    expect(await connectionOutcome(url(fx.nn(), "/", "GETFILESTATUS"))).toBe("answered 200"); // hdfs1 unaffected
    await fx.sandbox.faults.makeReachable("hdfs2");
    expect(await connectionOutcome(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))).toBe("answered 200");
  });

  it("resets every connection to a cluster for a given duration, then recovers by itself", async () => {
    await fx.sandbox.faults.makeUnreachable("hdfs2", "reset", 1000);
    expect(await connectionOutcome(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))).toBe("ECONNRESET");
    expect(await connectionOutcome(url(fx.dn(0, "hdfs2"), "/", "OPEN"))).toBe("ECONNRESET");
    await waitFor(async () => (await connectionOutcome(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))) === "answered 200", 5000);
  });

  it("rejects invalid rules with a SandboxError", () => {
    expect(() => fx.sandbox.faults.add({ action: { kind: "latency", ms: -1 } })).toThrow(/latency\.ms/);
    expect(() => fx.sandbox.faults.add({ times: 0, action: { kind: "reset" } })).toThrow(/times/);
    expect(() => fx.sandbox.faults.add({ action: { kind: "nope" } as never })).toThrow(/unknown action/);
    expect(() => fx.sandbox.failover("hdfs9")).toThrow(/unknown cluster/);
  });
});

describe("admin HTTP API", () => {
  it("GET /endpoints returns the endpoints JSON", async () => {
    const res = await admin("/endpoints");
    expect(res.json()).toEqual(fx.sandbox.endpoints);
    expect(Object.keys(res.json<{ clusters: object }>().clusters)).toEqual(["hdfs1", "hdfs2"]);
  });

  it("POST /clusters/{name}/generate creates a listable tree of closed files at once; bad input is a 400", async () => {
    const res = await admin("/clusters/hdfs1/generate", "POST", { root: "/gen", jobs: 2, filesPerJob: 1500, fileSize: 4096 });
    expect(res.json()).toEqual({ files: 3000 });
    const listing = await request(url(fx.nn(0, "hdfs1"), "/gen/job-1/shared", "LISTSTATUS", U));
    const statuses = listing.json<{ FileStatuses: { FileStatus: { pathSuffix: string; length: number; type: string }[] } }>().FileStatuses.FileStatus;
    expect(statuses).toHaveLength(1500);
    expect(statuses.every((f) => f.type === "FILE" && f.length === 4096)).toBe(true);
    expect((await admin("/clusters/hdfs1/generate", "POST", { root: "gen", jobs: 1, filesPerJob: 1, fileSize: 1 })).status).toBe(400);
    expect((await admin("/clusters/hdfs1/generate", "POST", { root: "/gen2", jobs: -1, filesPerJob: 1, fileSize: 1 })).status).toBe(400);
  });

  it("generated zero-length files read as empty, again and again, without bringing the emulator down", async () => {
    expect((await admin("/clusters/hdfs1/generate", "POST", { root: "/gen0", jobs: 1, filesPerJob: 2, fileSize: 0 })).json()).toEqual({ files: 2 });
    for (let i = 0; i < 3; i++) {
      const res = await openFile(fx.nn(0, "hdfs1"), "/gen0/job-0/shared/00000001-sst");
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(0);
    }
    expect((await admin("/endpoints")).status).toBe(200);
  });

  it("POST /clusters/{name}/failover swaps active and standby", async () => {
    const res = await admin("/clusters/hdfs2/failover", "POST");
    expect(res.status).toBe(200);
    expect((await request(`${fx.nn(0, "hdfs2")}/isActive`)).status).toBe(405);
    expect((await request(`${fx.nn(1, "hdfs2")}/isActive`)).status).toBe(200);
    await admin("/clusters/hdfs2/failover", "POST");
    expect((await request(`${fx.nn(0, "hdfs2")}/isActive`)).status).toBe(200);
  });

  it("POST/GET/DELETE /faults manage rules; bad rules are 400", async () => {
    const created = await admin("/faults", "POST", {
      cluster: "hdfs2",
      role: "datanode",
      op: "OPEN",
      action: { kind: "cut-body", afterBytes: 10 },
    });
    expect(created.status).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect((await admin("/faults")).json<{ faults: { id: string }[] }>().faults.map((f) => f.id)).toEqual([id]);
    await createFile(fx.nn(0, "hdfs2"), "/admin-cut", Buffer.alloc(1000, 1));
    const nn = await request(url(fx.nn(0, "hdfs2"), "/admin-cut", "OPEN", U));
    expect((await requestPartial(String(nn.headers.location))).received.length).toBe(10);
    const second = await admin("/faults", "POST", { action: { kind: "latency", ms: 1 }, times: "always" });
    expect((await admin(`/faults/${second.json<{ id: string }>().id}`, "DELETE")).status).toBe(200);
    expect((await admin("/faults/f999", "DELETE")).status).toBe(404);
    expect((await admin("/faults", "POST", { action: { kind: "error", status: 403 } })).status).toBe(400);
    expect((await admin("/faults", "POST", "not an object")).status).toBe(400);
    await admin("/faults", "POST", { action: { kind: "latency", ms: 1 }, times: 5 });
    expect((await admin("/faults", "DELETE")).status).toBe(200);
    expect((await admin("/faults")).json<{ faults: unknown[] }>().faults).toEqual([]);
  });

  it("PUT safemode / startup / namenode state switch the cluster's behaviour", async () => {
    expect((await admin("/clusters/hdfs2/safemode", "PUT", { on: true })).status).toBe(200);
    expect((await request(url(fx.nn(0, "hdfs2"), "/sm", "MKDIRS", U), { method: "PUT" })).status).toBe(403);
    await admin("/clusters/hdfs2/safemode", "PUT", { on: false });
    expect((await request(url(fx.nn(0, "hdfs2"), "/sm", "MKDIRS", U), { method: "PUT" })).status).toBe(200);

    await admin("/clusters/hdfs2/startup", "PUT", { on: true });
    expect(remoteException(await request(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))).message).toBe("Namenode is in startup mode");
    await admin("/clusters/hdfs2/startup", "PUT", { on: false });

    expect((await admin("/clusters/hdfs2/namenodes/1/state", "PUT", { state: "observer" })).status).toBe(200);
    expect((await request(url(fx.nn(1, "hdfs2"), "/", "GETFILESTATUS"))).status).toBe(200);
    await admin("/clusters/hdfs2/namenodes/1/state", "PUT", { state: "standby" });
    expect((await request(url(fx.nn(1, "hdfs2"), "/", "GETFILESTATUS"))).status).toBe(403);
    expect((await admin("/clusters/hdfs2/namenodes/1/state", "PUT", { state: "bogus" })).status).toBe(400);
    expect((await admin("/clusters/hdfs2/safemode", "PUT", { on: "yes" })).status).toBe(400);
  });

  it("POST unreachable / reachable toggle a cluster; unknown clusters and routes are 404", async () => {
    expect((await admin("/clusters/hdfs2/unreachable", "POST", { mode: "refuse", durationMs: 5000 })).status).toBe(200);
    expect(await connectionOutcome(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))).toBe("ECONNREFUSED");
    expect((await admin("/clusters/hdfs2/reachable", "POST")).status).toBe(200);
    expect(await connectionOutcome(url(fx.nn(0, "hdfs2"), "/", "GETFILESTATUS"))).toBe("answered 200");
    expect((await admin("/clusters/nope/failover", "POST")).status).toBe(404);
    expect((await admin("/nothing")).status).toBe(404);
    expect((await admin("/clusters/hdfs2/unreachable", "POST", { mode: "maybe" })).status).toBe(400);
  });
});
