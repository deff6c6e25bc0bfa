import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfigText } from "../../src/config/load.js";
import { webhdfsSettings } from "../../src/storage/webhdfs-backend.js";

const minimal = `
source: {namenodes: ["http://127.0.0.1:1"], uri: "hdfs://ns1"}
target: {namenodes: ["http://127.0.0.1:2"], uri: "hdfs://ns2"}
paths: [{source: /flink/cp, target: /dr/cp}]
`;

async function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    await parseConfigText(text, "test.yaml", env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("config loading", () => {
  it("fills defaults and normalizes units", async () => {
    const cfg = await parseConfigText(minimal, "t.yaml", {});
    expect(cfg.scan.interval).toBe(10_000);
    expect(cfg.copy.maxBytesInFlight).toBe(1024 ** 3);
    expect(cfg.copy.bandwidth).toBe(0);
    expect(cfg.retain).toEqual({ min: 1, max: 3 });
    expect(cfg.metrics).toEqual({ listen: "127.0.0.1:9464" });
    expect(cfg.source.kind).toBe("webhdfs");
  });

  it("the documented example config is valid", async () => {
    const cfg = await loadConfigFile(join(import.meta.dirname, "../../config/ckpt-replicator.example.yaml"), {});
    expect(webhdfsSettings(cfg.source).namenodes).toHaveLength(2);
    expect(cfg.rewrite.length).toBeGreaterThan(0);
  });

  it("derives a rewrite map covering every spelling of the source cluster", async () => {
    const cfg = await parseConfigText(
      minimal.replace('uri: "hdfs://ns1"}', 'uri: "hdfs://ns1", aliases: ["hdfs://nn1:8020"]}'),
      "t.yaml",
      {},
    );
    const froms = cfg.rewrite.map((r) => r.from).sort();
    expect(froms).toEqual(["/flink/cp", "hdfs:///flink/cp", "hdfs://nn1:8020/flink/cp", "hdfs://ns1/flink/cp", "hdfs:/flink/cp"].sort());
    expect(new Set(cfg.rewrite.map((r) => r.to))).toEqual(new Set(["hdfs://ns2/dr/cp"]));
  });

  it("needs no rewrite when both sides use the same URI and roots", async () => {
    const cfg = await parseConfigText(minimal.replace("hdfs://ns2", "hdfs://ns1").replace("/dr/cp", "/flink/cp"), "t.yaml", {});
    expect(cfg.rewrite).toEqual([]);
  });

  it.each([
    ["a missing section", "source: {namenodes: ['http://a:1']}\ntarget: {namenodes: ['http://b:1']}\n", "paths: "],
    ["an unknown key", minimal + "copy: {concurency: 3}\n", 'copy: unknown key "concurency"'],
    ["a bad duration", minimal + "scan: {interval: soon}\n", 'scan.interval: "soon" is not a duration'],
    ["a bad size", minimal + "copy: {bandwidth: fast}\n", 'copy.bandwidth: "fast" is not a size'],
    ["retain.min 0", minimal + "retain: {min: 0}\n", "retain.min: must be at least 1"],
    ["retain.max < min", minimal + "retain: {min: 3, max: 2}\n", "retain.max: max must be >= min"],
    ["a non-http NameNode", minimal.replace("http://127.0.0.1:1", "ftp://x"), "source.namenodes.0: must be an http"],
    ["a relative root", minimal.replace("/flink/cp", "flink/cp"), "paths.0.source: must be an absolute path"],
    ["overlapping roots", minimal.replace("paths: [{source: /flink/cp, target: /dr/cp}]", "paths: [{source: /a, target: /x}, {source: /a/b, target: /y}]"), "roots /a and /a/b overlap"],
    ["a missing target uri", minimal.replace(', uri: "hdfs://ns2"', ""), "target.uri: required to rewrite"],
    ["YAML syntax", "source: [", "YAML syntax"],
    ["a missing token env var", minimal.replace('uri: "hdfs://ns1"}', 'uri: "hdfs://ns1", delegationToken: {env: NOPE}}'), "environment variable NOPE is not set"],
    ["a local side with namenodes", minimal.replace("/dr/cp", "file:///tmp/dr"), "target.namenodes: set, but target is served by local filesystem (its roots: file:///path); namenodes is a setting of HDFS over WebHDFS"],
  ])("rejects %s with a message naming the key", async (_name, text, expected) => {
    const message = await problemsOf(text);
    expect(message).toContain("test.yaml");
    expect(message).toContain(expected);
  });

  it("reads a delegation token from a file and never shows it in errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cfg-"));
    await writeFile(join(dir, "tok"), "SECRET-TOKEN-VALUE\n");
    const cfg = await parseConfigText(minimal.replace('uri: "hdfs://ns1"}', `uri: "hdfs://ns1", delegationToken: {file: "${join(dir, "tok")}"}}`), "t.yaml", {});
    expect(webhdfsSettings(cfg.source).delegationToken).toBe("SECRET-TOKEN-VALUE");
    const message = await problemsOf(minimal.replace('uri: "hdfs://ns1"}', `uri: "hdfs://ns1", delegationToken: {file: "${join(dir, "tok")}"}}`) + "scan: {interval: x}\n");
    expect(message).not.toContain("SECRET");
  });

  it("reports an unreadable file by name", async () => {
    await expect(loadConfigFile("/nonexistent/ckpt.yaml")).rejects.toThrow(/\/nonexistent\/ckpt.yaml: cannot read the file \(ENOENT\)/);
  });

  describe("a target that is the source (issue 7, bug 3: it would delete Flink's checkpoints)", () => {
    const sameNameNodes = (paths: string, extra = "") => `
source: {namenodes: ["http://127.0.0.1:9870", "http://127.0.0.1:9871"], uri: "hdfs://ns1"}
target: {namenodes: ["http://localhost:9871"], uri: "hdfs://ns1-dr"${extra}}
paths: ${paths}
`;
    it.each([
      ["equal to a source root", "[{source: /flink/checkpoints, target: /flink/checkpoints}]", "paths[0].target: /flink/checkpoints is the source root /flink/checkpoints on the same cluster"],
      ["inside a source root", "[{source: /flink/checkpoints, target: /flink/checkpoints/dr}]", "paths[0].target: /flink/checkpoints/dr overlaps the source root /flink/checkpoints"],
      ["containing a source root", "[{source: /flink/checkpoints, target: /flink}]", "paths[0].target: /flink overlaps the source root /flink/checkpoints"],
      ["inside another pair's source root", "[{source: /a, target: /dr/a}, {source: /dr, target: /x}]", "paths[0].target: /dr/a overlaps the source root /dr"],
    ])("refuses a target root %s on the same cluster (a NameNode in common, any host spelling)", async (_name, paths, expected) => {
      expect(await problemsOf(sameNameNodes(paths))).toContain(expected);
    });

    it("refuses a lease path under a source root on the same cluster", async () => {
      const text = sameNameNodes("[{source: /flink/checkpoints, target: /dr}]") + "lease: {path: /flink/checkpoints/.lease}\n";
      expect(await problemsOf(text)).toContain("lease.path: /flink/checkpoints/.lease is under the source root /flink/checkpoints");
    });

    it("refuses overlapping local roots", async () => {
      expect(await problemsOf("source: {}\ntarget: {}\npaths: [{source: 'file:///tmp/cp', target: 'file:///tmp/cp/dr'}]\n")).toContain("overlaps the source root /tmp/cp");
    });

    it("accepts the same paths on another cluster, even under the same logical nameservice URI", async () => {
      const cfg = await parseConfigText(minimal.replace("hdfs://ns2", "hdfs://ns1").replace("/dr/cp", "/flink/cp"), "t.yaml", {});
      expect(cfg.paths).toEqual([{ source: "/flink/cp", target: "/flink/cp" }]);
    });

    it("accepts a separate tree on the same cluster (LocalHDFS backup)", async () => {
      const cfg = await parseConfigText(sameNameNodes("[{source: /flink/checkpoints, target: /backup/flink}]"), "t.yaml", {});
      expect(cfg.paths[0]?.target).toBe("/backup/flink");
    });
  });

  it("accepts local file:/// roots on both sides", async () => {
    const cfg = await parseConfigText("source: {}\ntarget: {}\npaths: [{source: 'file:///tmp/a', target: 'file:///tmp/b'}]\n", "t.yaml", {});
    expect(cfg.source.kind).toBe("local");
    expect(cfg.paths).toEqual([{ source: "/tmp/a", target: "/tmp/b" }]);
    expect(cfg.rewrite).toContainEqual({ from: "file:/tmp/a", to: "file:///tmp/b" });
  });
});
