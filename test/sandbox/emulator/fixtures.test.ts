// The emulator's answers compared with the recorded WebHDFS fixtures in
// ../shared/fixtures/webhdfs: same keys and JSON types (NN key order
// alphabetical), same header set and Location layout, and F9 byte for byte.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { describeWithShared } from "../../helpers/shared.js";
import { createFile, dnStep, request, url } from "./raw-http.js";
import { useSandbox } from "./sandbox-fixture.js";

type Json = Record<string, unknown>;

/** Key -> JSON type, recursively for nested objects. */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return ["array", ...value.slice(0, 1).map(shape)];
  if (typeof value === "object") return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

function isAlphabetical(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  if (Array.isArray(value)) return value.every(isAlphabetical);
  const keys = Object.keys(value as Json);
  return keys.join() === [...keys].sort().join() && Object.values(value as Json).every(isAlphabetical);
}

describeWithShared("emulator vs recorded WebHDFS fixtures", (shared) => {
  const fixture = (name: string) => readFileSync(join(shared, "fixtures", "webhdfs", name), "utf8");
  const fx = useSandbox();
  const U = { "user.name": "alice" };

  it("F9: LISTSTATUS of an empty directory is byte-identical", async () => {
    await request(url(fx.nn(), "/f9", "MKDIRS", U), { method: "PUT" });
    expect((await request(url(fx.nn(), "/f9", "LISTSTATUS"))).text).toBe(fixture("F9-liststatus-empty-dir.body"));
  });

  it("F2/F3: LISTSTATUS entries carry every recorded field with the same types, keys alphabetical", async () => {
    for (const d of ["app-logs", "apps", "tmp"]) await request(url(fx.nn(), `/f3/${d}`, "MKDIRS", U), { method: "PUT" });
    const ours = (await request(url(fx.nn(), "/f3", "LISTSTATUS"))).json<{ FileStatuses: { FileStatus: Json[] } }>();
    for (const name of ["F2-liststatus-hadoop1-knox.json", "F3-liststatus-hadoop2-knox.json"]) {
      const recorded = JSON.parse(fixture(name)) as { FileStatuses: { FileStatus: Json[] } };
      const want = shape(recorded.FileStatuses.FileStatus[0]) as Json;
      const got = shape(ours.FileStatuses.FileStatus[0]) as Json;
      for (const [key, type] of Object.entries(want)) expect(got[key], `${name}: ${key}`).toEqual(type);
      expect(isAlphabetical(recorded), name).toBe(true);
    }
    expect(isAlphabetical(ours)).toBe(true);
  });

  it("F4/F8: the standby answer has the recorded keys, class and (F8) exact message", async () => {
    const res = await request(url(fx.nn(1), "/", "LISTSTATUS"));
    expect(res.status).toBe(403);
    const ours = res.json();
    const f8 = JSON.parse(fixture("F8-standby-exception-sbnn.json")) as Json;
    const f4 = JSON.parse(fixture("F4-standby-exception-knox.json")) as Json;
    expect(ours).toEqual(f8);
    expect(shape(ours)).toEqual(shape(f4));
    expect(res.text).toBe(JSON.stringify(f8));
  });

  it("F5: safe mode on an HA cluster is a RetriableException wrapping the SafeModeException text", async () => {
    fx.sandbox.setSafeMode("hdfs1", true);
    try {
      const res = await request(url(fx.nn(), "/f5/test_dir", "MKDIRS", U), { method: "PUT" });
      const recorded = (JSON.parse(fixture("F5-mkdirs-safemode-retriable-knox.json")) as { RemoteException: Json }).RemoteException;
      const ours = res.json<{ RemoteException: Json }>().RemoteException;
      expect(shape(ours)).toEqual(shape(recorded));
      expect(ours.javaClassName).toBe(recorded.javaClassName);
      const prefix = (m: unknown) => String(m).split(" /")[0];
      expect(prefix(ours.message)).toBe(prefix(recorded.message));
    } finally {
      fx.sandbox.setSafeMode("hdfs1", false);
    }
  });

  it("F7 + derived: FileChecksum has the recorded keys, algorithm and layout; the empty-file value is identical", async () => {
    await createFile(fx.nn(), "/f7", "some bytes");
    const ours = (await dnStep(fx.nn(), "/f7", "GETFILECHECKSUM")).json<{ FileChecksum: Json }>().FileChecksum;
    const recorded = JSON.parse(fixture("F7-filechecksum-inner-cdh.json")) as Json;
    expect(shape(ours)).toEqual(shape(recorded));
    expect(ours.algorithm).toBe(recorded.algorithm);
    expect(ours.length).toBe(recorded.length);
    expect(String(ours.bytes).slice(0, 24)).toBe(String(recorded.bytes).slice(0, 24));
    expect(String(ours.bytes).slice(-8)).toBe(String(recorded.bytes).slice(-8));
    await createFile(fx.nn(), "/f7-empty", "");
    expect((await dnStep(fx.nn(), "/f7-empty", "GETFILECHECKSUM")).text).toBe(fixture("derived/empty-file-checksum.json").trim());
  });

  it("F10: OPEN of a missing file fails at the NN step with 'File <p> not found.'", async () => {
    const res = await request(url(fx.nn(), "/user/root/f.txt", "OPEN"));
    expect(res.status).toBe(404);
    expect(res.text).toBe(fixture("F10-open-filenotfound-nn.json").trim());
  });

  it("F1: OPEN's NN 307 and DN 200 carry the recorded headers and Location layout", async () => {
    await createFile(fx.nn(), "/test.txt", "Hello Hadoop :-)\n");
    const transcript = fixture("F1-open-nn307-dn200-hadoop2.http");
    const [nnPart, dnPart] = transcript.split(/\n\s*\nHTTP\/1\.1 /);
    const headerNames = (part: string | undefined) =>
      new Set((part ?? "").split("\n").slice(1).map((l) => l.split(":")[0]?.toLowerCase() ?? "").filter((n) => n !== "" && n !== "server"));
    const nn = await request(url(fx.nn(), "/test.txt", "OPEN"));
    expect(nn.status).toBe(307);
    const nnNames = headerNames(nnPart);
    expect([...nnNames]).toEqual(expect.arrayContaining(["cache-control", "expires", "pragma", "location", "x-frame-options"]));
    for (const name of nnNames) expect(nn.headers, `NN header ${name}`).toHaveProperty(name);
    const recordedLocation = /Location: (\S+)/.exec(transcript)?.[1] ?? "";
    const query = (u: string) => new URL(u).search.replace(/namenoderpcaddress=[^&]+/, "namenoderpcaddress=X");
    expect(query(String(nn.headers.location))).toBe(query(recordedLocation));
    const dn = await request(String(nn.headers.location));
    const dnNames = headerNames(`HTTP/1.1 ${dnPart ?? ""}`.split("\n\n")[0]);
    expect([...dnNames]).toEqual(expect.arrayContaining(["access-control-allow-methods", "connection", "content-length"]));
    for (const name of dnNames) expect(dn.headers, `DN header ${name}`).toHaveProperty(name);
    expect(dn.text).toBe("Hello Hadoop :-)\n");
  });

  it("F6: CREATE Locations have the Hadoop 3 parameter sequence, with and without user.name", async () => {
    const recorded = fixture("F6-create-redirect-hadoop3.txt")
      .split("\n")
      .filter((l) => l.startsWith("http://") && l.includes("createflag"));
    expect(recorded).toHaveLength(2);
    const shapeOf = (u: string) => [...new URL(u).searchParams.entries()].map(([k, v]) => (k === "namenoderpcaddress" ? [k, "X"] : [k, v]));
    const without = await request(url(fx.nn(), "/user/root/file.txt", "CREATE"), { method: "PUT" });
    const withUser = await request(url(fx.nn(), "/user/root/shared/abc.txt", "CREATE", { "user.name": "root" }), { method: "PUT" });
    expect(shapeOf(String(without.headers.location))).toEqual(shapeOf(recorded[0] ?? ""));
    expect(shapeOf(String(withUser.headers.location))).toEqual(shapeOf(recorded[1] ?? ""));
  });
});
