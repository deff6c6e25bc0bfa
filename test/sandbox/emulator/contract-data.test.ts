// Contract checklist items 27-45 (OPEN data path, CREATE/APPEND write semantics).

import { request as httpRequest } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createFile, dnStep, openFile, remoteException, request, requestPartial, url } from "./raw-http.js";
import { useSandbox, waitFor } from "./sandbox-fixture.js";

const fx = useSandbox();
const U = { "user.name": "alice" };
const statusOf = async (path: string) =>
  (await request(url(fx.nn(), path, "GETFILESTATUS"))).json<{ FileStatus: { length: number; permission: string; type: string } }>()
    .FileStatus;

/** Starts a CREATE whose body stays open until the returned stream is ended. */
async function startUpload(path: string, params: Record<string, string> = {}) {
  const body = new PassThrough();
  const step1 = await request(url(fx.nn(), path, "CREATE", { ...U, ...params }), { method: "PUT" });
  const done = request(String(step1.headers.location), { method: "PUT", body });
  return { body, done };
}

describe("WebHDFS contract: OPEN / data path", () => {
  it("27: OPEN on the NN is a 307 with Content-Length 0 and a Location with op=OPEN, namenoderpcaddress, offset and user.name", async () => {
    await createFile(fx.nn(), "/d27", "data");
    const res = await request(url(fx.nn(), "/d27", "OPEN", U));
    expect(res.status).toBe(307);
    expect(res.headers["content-length"]).toBe("0");
    const location = new URL(String(res.headers.location));
    expect(location.search).toBe("?op=OPEN&user.name=alice&namenoderpcaddress=hdfs1&offset=0");
    expect(`${location.protocol}//${location.host}`).toBe(fx.dn());
  });

  it("28: OPEN with noredirect=true returns 200 {\"Location\"} and no Location header", async () => {
    await createFile(fx.nn(), "/d28", "data");
    const res = await request(url(fx.nn(), "/d28", "OPEN", { ...U, noredirect: "true" }));
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    const { Location } = res.json<{ Location: string }>();
    expect(Location).toContain("/webhdfs/v1/d28?op=OPEN&");
    expect((await request(Location)).text).toBe("data");
  });

  it("29: offset = length is 403 'out of the range'; an empty file at offset 0 reads as 200 with Content-Length 0", async () => {
    await createFile(fx.nn(), "/d29", "abc");
    const res = await request(url(fx.nn(), "/d29", "OPEN", { ...U, offset: 3 }));
    expect(res.status).toBe(403);
    expect(remoteException(res)).toMatchObject({ javaClassName: "java.io.IOException", message: "Offset=3 out of the range [0, 3); OPEN, path=/d29" });
    await createFile(fx.nn(), "/d29-empty", "");
    const empty = await openFile(fx.nn(), "/d29-empty", { offset: 0 });
    expect(empty.status).toBe(200);
    expect(empty.headers["content-length"]).toBe("0");
  });

  it("30: the DN answers 200 octet-stream, Connection: close, Content-Length = min(length - offset, length param)", async () => {
    await createFile(fx.nn(), "/d30", "0123456789");
    const res = await openFile(fx.nn(), "/d30", { offset: 2, length: 5 });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "content-type": "application/octet-stream", connection: "close", "content-length": "5" });
    expect(res.text).toBe("23456");
    const clamped = await openFile(fx.nn(), "/d30", { offset: 7, length: 100 });
    expect(clamped.headers["content-length"]).toBe("3");
    expect(clamped.text).toBe("789");
  });

  it("31: the DN honours an offset appended to the saved Location", async () => {
    await createFile(fx.nn(), "/d31", "abcdefgh");
    const nn = await request(url(fx.nn(), "/d31", "OPEN", U));
    const saved = String(nn.headers.location).replace(/&offset=\d+/, "");
    const res = await request(`${saved}&offset=5`);
    expect(res.text).toBe("fgh");
  });

  it("32: a file deleted after the NN step makes the DN step 404 'File does not exist'", async () => {
    await createFile(fx.nn(), "/d32", "bye");
    const nn = await request(url(fx.nn(), "/d32", "OPEN", U));
    await request(url(fx.nn(), "/d32", "DELETE", U), { method: "DELETE" });
    const res = await request(String(nn.headers.location));
    expect(res.status).toBe(404);
    expect(res.headers.connection).toBe("close");
    expect(remoteException(res).message).toBe("File does not exist: /d32");
  });

  it("33: a cut-body fault closes the DN connection after N bytes of a larger Content-Length", async () => {
    const content = Buffer.alloc(100_000, 1);
    await createFile(fx.nn(), "/d33", content);
    fx.sandbox.faults.add({ role: "datanode", op: "OPEN", pathPrefix: "/d33", action: { kind: "cut-body", afterBytes: 1000 } });
    const nn = await request(url(fx.nn(), "/d33", "OPEN", U));
    const res = await requestPartial(String(nn.headers.location));
    expect(res.headers["content-length"]).toBe("100000");
    expect(res.received.length).toBe(1000);
    expect(res.complete).toBe(false);
    expect((await openFile(fx.nn(), "/d33")).body.equals(content)).toBe(true); // the fault was used up
  });

  it("34: OPEN of a directory: the DN answers 404 'Path is not a file'", async () => {
    await request(url(fx.nn(), "/d34", "MKDIRS", U), { method: "PUT" });
    const res = await openFile(fx.nn(), "/d34");
    expect(res.status).toBe(404);
    expect(remoteException(res).message).toBe("Path is not a file: /d34");
  });
});

describe("WebHDFS contract: CREATE / APPEND", () => {
  it("35: CREATE on the NN redirects even onto an existing file; Location has createflag=, createparent=true, overwrite=false", async () => {
    await createFile(fx.nn(), "/w35", "x");
    const res = await request(url(fx.nn(), "/w35", "CREATE", U), { method: "PUT" });
    expect(res.status).toBe(307);
    expect(new URL(String(res.headers.location)).search).toBe(
      "?op=CREATE&user.name=alice&namenoderpcaddress=hdfs1&createflag=&createparent=true&overwrite=false",
    );
  });

  it("36: the DN sends 100 Continue unasked, then 201 with Location hdfs://<nameservice><path> and Content-Length 0", async () => {
    const res = await createFile(fx.nn(), "/w36/f", "payload");
    expect(res.interim).toEqual([100]);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe("hdfs://hdfs1/w36/f");
    expect(res.headers["content-length"]).toBe("0");
  });

  it("37: overwrite=false onto an existing file is 403 FileAlreadyExistsException with Connection: close, content kept", async () => {
    await createFile(fx.nn(), "/w37", "original");
    const res = await createFile(fx.nn(), "/w37", "replacement");
    expect(res.status).toBe(403);
    expect(res.headers.connection).toBe("close");
    expect(remoteException(res)).toMatchObject({
      javaClassName: "org.apache.hadoop.fs.FileAlreadyExistsException",
      message: "/w37 for client 127.0.0.1 already exists",
    });
    expect((await openFile(fx.nn(), "/w37")).text).toBe("original");
  });

  it("38: CREATE onto a directory is 403 '... already exists as a directory'", async () => {
    await request(url(fx.nn(), "/w38", "MKDIRS", U), { method: "PUT" });
    const res = await createFile(fx.nn(), "/w38", "x", { overwrite: "true" });
    expect(res.status).toBe(403);
    expect(remoteException(res).message).toBe("/w38 already exists as a directory");
  });

  it("39: the DN accepts chunked and Content-Length bodies", async () => {
    const chunked = new PassThrough();
    const step1 = await request(url(fx.nn(), "/w39/chunked", "CREATE", U), { method: "PUT" });
    const res1 = request(String(step1.headers.location), { method: "PUT", body: chunked });
    chunked.write("part1-");
    chunked.end("part2");
    expect((await res1).status).toBe(201);
    const step2 = await request(url(fx.nn(), "/w39/sized", "CREATE", U), { method: "PUT" });
    const res2 = await request(String(step2.headers.location), { method: "PUT", body: "sized", headers: { "Content-Length": 5 } });
    expect(res2.status).toBe(201);
    expect((await openFile(fx.nn(), "/w39/chunked")).text).toBe("part1-part2");
    expect((await openFile(fx.nn(), "/w39/sized")).text).toBe("sized");
  });

  it("40: during an upload the file is listed with length 0 (and the DN can already read what arrived)", async () => {
    const up = await startUpload("/w40");
    up.body.write("growing");
    await waitFor(async () => (await openFile(fx.nn(), "/w40")).text === "growing");
    expect((await statusOf("/w40")).length).toBe(0);
    up.body.end();
    expect((await up.done).status).toBe(201);
    expect((await statusOf("/w40")).length).toBe(7);
  });

  it("41: with overwrite=true the old content is unreadable as soon as the DN step begins", async () => {
    await createFile(fx.nn(), "/w41", "old content");
    const up = await startUpload("/w41", { overwrite: "true" });
    await waitFor(async () => (await openFile(fx.nn(), "/w41")).text !== "old content");
    expect((await openFile(fx.nn(), "/w41")).text).toBe("");
    up.body.end("new");
    await up.done;
    expect((await openFile(fx.nn(), "/w41")).text).toBe("new");
  });

  it("42: an upload whose client disconnects leaves a closed file with the bytes received", async () => {
    const step1 = await request(url(fx.nn(), "/w42", "CREATE", U), { method: "PUT" });
    const req = httpRequest(String(step1.headers.location), { method: "PUT", agent: false, headers: { "Content-Length": 1000 } });
    req.on("error", () => undefined);
    req.write("only-these-bytes");
    await waitFor(async () => (await openFile(fx.nn(), "/w42")).text === "only-these-bytes");
    req.destroy();
    await waitFor(async () => (await statusOf("/w42")).length === 16);
    expect((await dnStep(fx.nn(), "/w42", "GETFILECHECKSUM")).status).toBe(200); // closed, not under construction
    expect((await openFile(fx.nn(), "/w42")).text).toBe("only-these-bytes");
  });

  it("43: a second CREATE (overwrite=false) while an upload holds the lease is 403 AlreadyBeingCreatedException", async () => {
    const up = await startUpload("/w43");
    up.body.write("x");
    await waitFor(async () => (await request(url(fx.nn(), "/w43", "GETFILESTATUS"))).status === 200);
    const second = await createFile(fx.nn(), "/w43", "y");
    expect(second.status).toBe(403);
    expect(remoteException(second).javaClassName).toBe("org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException");
    up.body.end();
    expect((await up.done).status).toBe(201);
  });

  it("44: default permissions are 644/755; blocksize below 1 MiB or not a multiple of 512 is 403 at the DN", async () => {
    await createFile(fx.nn(), "/w44/f", "x");
    expect((await statusOf("/w44/f")).permission).toBe("644");
    expect((await statusOf("/w44")).permission).toBe("755");
    const tooSmall = await createFile(fx.nn(), "/w44/small", "x", { blocksize: 30 });
    expect(tooSmall.status).toBe(403);
    expect(remoteException(tooSmall).message).toContain("30 < 1048576");
    const odd = await createFile(fx.nn(), "/w44/odd", "x", { blocksize: 1048577 });
    expect(odd.status).toBe(403);
    expect(remoteException(odd).message).toContain("io.bytes.per.checksum(512) and blockSize(1048577) do not match");
  });

  it("45: APPEND: NN 307, DN 100 Continue then 200 with Content-Length 0; content is appended", async () => {
    await createFile(fx.nn(), "/w45", "head-");
    const nn = await request(url(fx.nn(), "/w45", "APPEND", U), { method: "POST" });
    expect(nn.status).toBe(307);
    const dn = await request(String(nn.headers.location), { method: "POST", body: "tail" });
    expect(dn.interim).toEqual([100]);
    expect(dn.status).toBe(200);
    expect(dn.headers["content-length"]).toBe("0");
    expect(dn.headers.location).toBeUndefined();
    expect((await openFile(fx.nn(), "/w45")).text).toBe("head-tail");
  });
});
