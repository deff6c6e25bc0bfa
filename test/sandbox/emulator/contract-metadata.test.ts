// Contract checklist items 13-26 (metadata, listings, content summary, checksums).

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createFile, dnStep, remoteException, request, url } from "./raw-http.js";
import { referenceChecksum } from "./reference-checksum.js";
import { useSandbox, waitFor } from "./sandbox-fixture.js";

const fx = useSandbox({ listBatchSize: 2 });
const U = { "user.name": "alice" };

interface Status {
  [key: string]: unknown;
  pathSuffix: string;
}
const statusOf = async (path: string) =>
  (await request(url(fx.nn(), path, "GETFILESTATUS"))).json<{ FileStatus: Status }>().FileStatus;
const listNames = (text: string) =>
  (JSON.parse(text) as { FileStatuses: { FileStatus: Status[] } }).FileStatuses.FileStatus.map((s) => s.pathSuffix);

describe("WebHDFS contract: metadata", () => {
  it("13: GETFILESTATUS of a file has the 13 always-present fields with their types and pathSuffix \"\"", async () => {
    await createFile(fx.nn(), "/m13/f", "hello");
    const st = await statusOf("/m13/f");
    expect(Object.keys(st)).toEqual([
      "accessTime", "blockSize", "childrenNum", "fileId", "group", "length", "modificationTime",
      "owner", "pathSuffix", "permission", "replication", "storagePolicy", "type",
    ]);
    const numeric = ["accessTime", "blockSize", "childrenNum", "fileId", "length", "modificationTime", "replication", "storagePolicy"];
    for (const key of numeric) expect(Number.isInteger(st[key]), key).toBe(true);
    for (const key of ["group", "owner", "pathSuffix", "permission", "type"]) expect(typeof st[key], key).toBe("string");
    expect(st).toMatchObject({ pathSuffix: "", type: "FILE", length: 5, owner: "alice", blockSize: 134217728 });
  });

  it("14: a directory reports length, blockSize, replication, accessTime 0 and childrenNum = number of children", async () => {
    for (const n of ["a", "b", "c"]) await createFile(fx.nn(), `/m14/${n}`, n);
    const st = await statusOf("/m14");
    expect(st).toMatchObject({ type: "DIRECTORY", length: 0, blockSize: 0, replication: 0, accessTime: 0, childrenNum: 3 });
  });

  it("15: permission is octal without leading zero and optional booleans are absent", async () => {
    await createFile(fx.nn(), "/m15/f", "x");
    const st = await statusOf("/m15/f");
    expect(st.permission).toBe("644");
    for (const key of ["aclBit", "encBit", "ecBit", "snapshotEnabled"]) expect(st).not.toHaveProperty(key);
  });

  it("16: LISTSTATUS of an empty directory is exactly the streamed empty layout", async () => {
    await request(url(fx.nn(), "/m16", "MKDIRS", U), { method: "PUT" });
    const res = await request(url(fx.nn(), "/m16", "LISTSTATUS"));
    expect(res.text).toBe('{"FileStatuses":{"FileStatus":[\n\n]}}\n');
    expect(res.headers["transfer-encoding"]).toBe("chunked");
  });

  it("17: LISTSTATUS of a file returns one entry with pathSuffix \"\"", async () => {
    await createFile(fx.nn(), "/m17/f", "x");
    const res = await request(url(fx.nn(), "/m17/f", "LISTSTATUS"));
    expect(listNames(res.text)).toEqual([""]);
  });

  it("18: LISTSTATUS orders entries by unsigned UTF-8 byte order, entries separated by ',\\n'", async () => {
    for (const n of ["a", "B", "é", "z", "_"]) await request(url(fx.nn(), `/m18/${n}`, "MKDIRS", U), { method: "PUT" });
    const res = await request(url(fx.nn(), "/m18", "LISTSTATUS"));
    expect(listNames(res.text)).toEqual(["B", "_", "a", "z", "é"]);
    expect(res.text.startsWith('{"FileStatuses":{"FileStatus":[\n{')).toBe(true);
    expect(res.text.split("},\n{")).toHaveLength(5);
    expect(res.text.endsWith("}\n]}}\n")).toBe(true);
  });

  it("19: LISTSTATUS_BATCH with page size 2 over 5 children pages 2,2,1 with remainingEntries 3,1,0", async () => {
    for (const n of ["e", "d", "c", "b", "a"]) await createFile(fx.nn(), `/m19/${n}`, n);
    const pages: { names: string[]; remaining: number }[] = [];
    let startAfter = "";
    for (;;) {
      const res = await request(url(fx.nn(), "/m19", "LISTSTATUS_BATCH", startAfter === "" ? {} : { startAfter }));
      const body = res.json<{ DirectoryListing: { partialListing: { FileStatuses: { FileStatus: Status[] } }; remainingEntries: number } }>();
      const names = body.DirectoryListing.partialListing.FileStatuses.FileStatus.map((s) => s.pathSuffix);
      pages.push({ names, remaining: body.DirectoryListing.remainingEntries });
      if (body.DirectoryListing.remainingEntries === 0) break;
      startAfter = names[names.length - 1] ?? "";
    }
    expect(pages).toEqual([
      { names: ["a", "b"], remaining: 3 },
      { names: ["c", "d"], remaining: 1 },
      { names: ["e"], remaining: 0 },
    ]);
  });

  it("20: LISTSTATUS_BATCH with a startAfter name that does not exist starts at the next name", async () => {
    for (const n of ["a", "c", "e"]) await createFile(fx.nn(), `/m20/${n}`, n);
    const res = await request(url(fx.nn(), "/m20", "LISTSTATUS_BATCH", { startAfter: "b" }));
    const body = res.json<{ DirectoryListing: { partialListing: { FileStatuses: { FileStatus: Status[] } }; remainingEntries: number } }>();
    expect(body.DirectoryListing.partialListing.FileStatuses.FileStatus.map((s) => s.pathSuffix)).toEqual(["c", "e"]);
    expect(body.DirectoryListing.remainingEntries).toBe(0);
  });

  it("21: GETCONTENTSUMMARY counts the directory itself, files, length x replication, no quotas", async () => {
    await createFile(fx.nn(), "/m21/f1", "12345", { replication: 2 });
    await createFile(fx.nn(), "/m21/sub/f2", "123");
    const res = await request(url(fx.nn(), "/m21", "GETCONTENTSUMMARY"));
    expect(res.text).toBe(
      '{"ContentSummary":{"directoryCount":2,"fileCount":2,"length":8,"quota":-1,"spaceConsumed":19,"spaceQuota":-1,"typeQuota":{}}}',
    );
  });
});

describe("WebHDFS contract: checksums", () => {
  it("22: GETFILECHECKSUM redirects to the DN, which answers FileChecksum with length 28 and 64 hex digits ending 00000000", async () => {
    await createFile(fx.nn(), "/c22", "checksum me");
    const nn = await request(url(fx.nn(), "/c22", "GETFILECHECKSUM", U));
    expect(nn.status).toBe(307);
    expect(String(nn.headers.location)).toMatch(new RegExp(`^${fx.dn()}/webhdfs/v1/c22\\?op=GETFILECHECKSUM&`));
    const dn = await request(String(nn.headers.location));
    expect(dn.status).toBe(200);
    expect(dn.headers["content-type"]).toBe("application/json; charset=utf-8");
    const cs = dn.json<{ FileChecksum: { algorithm: string; bytes: string; length: number } }>().FileChecksum;
    expect(Object.keys(cs)).toEqual(["algorithm", "bytes", "length"]);
    expect(cs.length).toBe(28);
    expect(cs.bytes).toMatch(/^[0-9a-f]{56}00000000$/);
  });

  it("23: the checksum equals the MD5-of-MD5-of-CRC32C reference; crcPerBlock 0 for a single block", async () => {
    const content = Buffer.alloc(5000, 0);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
    await createFile(fx.nn(), "/c23", content);
    const cs = (await dnStep(fx.nn(), "/c23", "GETFILECHECKSUM")).json<{ FileChecksum: { algorithm: string; bytes: string } }>();
    expect(cs.FileChecksum).toMatchObject(referenceChecksum(content, 134217728));
    expect(cs.FileChecksum.algorithm).toBe("MD5-of-0MD5-of-512CRC32C");
  });

  it("23: the checksum equals the values a real Hadoop 3.4.2 DataNode gave for the same bytes (one block, three blocks)", async () => {
    // Recorded by the interop run against a MiniDFSCluster: one block hashes its block MD5 plus 16 zero
    // bytes; three 1 MiB blocks hash 48 bytes of block MD5s plus 16 zero bytes (DFSClient's buffer).
    await createFile(fx.nn(), "/c23r/one", "The quick brown fox jumps over the lazy dog");
    const three = Buffer.alloc(2 * 1048576 + 1000);
    for (let i = 0; i < three.length; i++) three[i] = (i * 7 + 3) & 0xff;
    await createFile(fx.nn(), "/c23r/three", three, { blocksize: 1048576 });
    const one = (await dnStep(fx.nn(), "/c23r/one", "GETFILECHECKSUM")).json<{ FileChecksum: { algorithm: string; bytes: string } }>();
    const big = (await dnStep(fx.nn(), "/c23r/three", "GETFILECHECKSUM")).json<{ FileChecksum: { algorithm: string; bytes: string } }>();
    expect(one.FileChecksum).toMatchObject({ algorithm: "MD5-of-0MD5-of-512CRC32C", bytes: "0000020000000000000000003b2a35e9bb066689c02d4053771ed6f900000000" });
    expect(big.FileChecksum).toMatchObject({ algorithm: "MD5-of-2048MD5-of-512CRC32C", bytes: "000002000000000000000800682c6721462f1ec6370570a5f9f7192e00000000" });
  });

  it("24: an empty file yields the CRC32-labelled magic value", async () => {
    await createFile(fx.nn(), "/c24", "");
    const res = await dnStep(fx.nn(), "/c24", "GETFILECHECKSUM");
    expect(res.text).toBe(
      '{"FileChecksum":{"algorithm":"MD5-of-0MD5-of-0CRC32","bytes":"00000000000000000000000070bc8f4b72a86921468bf8e8441dce5100000000","length":28}}',
    );
  });

  it("25: the same content with different blocksize (longer than the smaller block) gives different checksums", async () => {
    const content = Buffer.alloc(1536 * 1024 + 100, 7);
    await createFile(fx.nn(), "/c25/small", content, { blocksize: 1048576 });
    await createFile(fx.nn(), "/c25/large", content, { blocksize: 2097152 });
    const small = (await dnStep(fx.nn(), "/c25/small", "GETFILECHECKSUM")).json<{ FileChecksum: { algorithm: string; bytes: string } }>();
    const large = (await dnStep(fx.nn(), "/c25/large", "GETFILECHECKSUM")).json<{ FileChecksum: { algorithm: string; bytes: string } }>();
    expect(small.FileChecksum).toMatchObject(referenceChecksum(content, 1048576));
    expect(small.FileChecksum.algorithm).toBe("MD5-of-2048MD5-of-512CRC32C");
    expect(large.FileChecksum).toMatchObject(referenceChecksum(content, 2097152));
    expect(small.FileChecksum.bytes).not.toBe(large.FileChecksum.bytes);
  });

  it("26: GETFILECHECKSUM of a file still being uploaded is 403 '... under construction.'", async () => {
    const body = new PassThrough();
    const step1 = await request(url(fx.nn(), "/c26", "CREATE", U), { method: "PUT" });
    const upload = request(String(step1.headers.location), { method: "PUT", body });
    body.write("partial");
    await waitFor(async () => (await request(url(fx.nn(), "/c26", "GETFILESTATUS"))).status === 200);
    const res = await dnStep(fx.nn(), "/c26", "GETFILECHECKSUM");
    expect(res.status).toBe(403);
    expect(remoteException(res).message).toBe("Fail to get checksum, since file /c26 is under construction.");
    body.end(" done");
    expect((await upload).status).toBe(201);
    expect((await dnStep(fx.nn(), "/c26", "GETFILECHECKSUM")).status).toBe(200);
  });
});
