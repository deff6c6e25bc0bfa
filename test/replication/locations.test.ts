// Locations named in a _metadata -> paths on one cluster (ClusterLocator), and
// source paths -> target paths through the configured root pairs.

import { describe, expect, it } from "vitest";
import type { ClusterSide, RootPair } from "../../src/config/load.js";
import { localBackend } from "../../src/storage/local.js";
import { webhdfsBackend } from "../../src/storage/webhdfs-backend.js";
import { ClusterLocator, rootFor, targetPathFor } from "../../src/replication/locations.js";

function side(o: Partial<ClusterSide>): ClusterSide {
  return {
    kind: "webhdfs",
    backend: webhdfsBackend,
    name: "src",
    uri: "hdfs://ns1",
    aliases: [],
    settings: { namenodes: ["http://127.0.0.1:1"], user: undefined, doAs: undefined, delegationToken: undefined },
    requestTimeoutMs: 1000,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    ...o,
  };
}

describe("ClusterLocator.pathOf", () => {
  const hdfs = new ClusterLocator(side({ aliases: ["hdfs://nn1.example.com:8020"] }));

  it.each([
    ["hdfs://ns1/flink/cp/chk-1/_metadata", "/flink/cp/chk-1/_metadata"],
    ["hdfs:///flink/cp/x", "/flink/cp/x"],
    ["hdfs:/flink/cp/x", "/flink/cp/x"],
    ["hdfs://nn1.example.com:8020/flink/cp/x", "/flink/cp/x"],
    ["HDFS://NS1/flink/cp/x", "/flink/cp/x"],
    ["/flink/cp/x", "/flink/cp/x"],
    // Flink writes Path.toString(), the decoded path: every character is literal (issue 7, bug 6).
    ["hdfs://ns1/flink/a%20b/c%2Bd%25e", "/flink/a%20b/c%2Bd%25e"],
    ["hdfs://ns1/flink/cp/fh#x.bin", "/flink/cp/fh#x.bin"],
    ["hdfs://ns1/flink/cp/what?now=1", "/flink/cp/what?now=1"],
    ["hdfs://ns1/flink/cp/%41", "/flink/cp/%41"],
    ["hdfs://ns1/flink/a b/ü+&;=~[]", "/flink/a b/ü+&;=~[]"],
    ["hdfs:///flink/#/x", "/flink/#/x"],
    ["hdfs://ns1//flink//cp/x/", "/flink/cp/x"],
  ])("resolves %s on the cluster to %s", (location, path) => {
    expect(hdfs.pathOf(location)).toBe(path);
  });

  it.each([
    ["another cluster", "hdfs://ns2/flink/cp/x"],
    ["the alias host on another port", "hdfs://nn1.example.com:9000/flink/cp/x"],
    ["another scheme", "s3://ns1/flink/cp/x"],
    ["a local file", "file:/flink/cp/x"],
    ["a relative name", "chk-1/x"],
  ])("returns null for %s", (_what, location) => {
    expect(hdfs.pathOf(location)).toBeNull();
  });

  it("resolves file: locations for a local side and refuses HDFS ones", () => {
    const local = new ClusterLocator(side({ kind: "local", backend: localBackend, settings: {}, uri: "file://" }));
    expect(local.pathOf("file:/tmp/cp/chk-1/x")).toBe("/tmp/cp/chk-1/x");
    expect(local.pathOf("file:///tmp/cp/chk-1/x")).toBe("/tmp/cp/chk-1/x");
    expect(local.pathOf("hdfs://ns1/tmp/cp/x")).toBeNull();
  });
});

describe("root pairs", () => {
  const roots: RootPair[] = [
    { source: "/a", target: "/x" },
    { source: "/a/b", target: "/y" },
  ];

  it("maps a source path through the longest matching root", () => {
    expect(targetPathFor("/a/b/job/chk-1", roots)).toBe("/y/job/chk-1");
    expect(targetPathFor("/a/c/job", roots)).toBe("/x/c/job");
    expect(targetPathFor("/a", roots)).toBe("/x");
    expect(rootFor("/y/job", roots, "target")).toEqual(roots[1]);
    expect(rootFor("/x/b/job", roots, "target")).toEqual(roots[0]);
  });

  it("respects path segment boundaries: /ab is not under /a", () => {
    expect(targetPathFor("/ab/job", roots)).toBeNull();
    expect(rootFor("/a/bc/job", roots, "source")).toEqual(roots[0]);
    expect(rootFor("/xy", roots, "target")).toBeNull();
  });

  it("handles / as a root on either side", () => {
    expect(targetPathFor("/flink/job", [{ source: "/", target: "/dr" }])).toBe("/dr/flink/job");
    expect(targetPathFor("/flink/job", [{ source: "/flink", target: "/" }])).toBe("/job");
    expect(targetPathFor("/flink", [{ source: "/flink", target: "/" }])).toBe("/");
  });
});
