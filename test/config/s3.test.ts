// An S3 target in the config: s3://bucket/prefix roots make an s3 side, its
// settings and credentials are resolved (secrets from env or file), the derived
// rewrite points into the bucket with the configured scheme, and mistakes are
// named by key.

import { describe, expect, it } from "vitest";
import { ConfigError, parseConfigText } from "../../src/config/load.js";

const config = (target: string, paths = "[{source: /flink/cp, target: 's3://dr-bucket/flink/cp'}]") => `
source: {namenodes: ["http://nn1:9870"], uri: "hdfs://ns1"}
target: ${target}
paths: ${paths}
`;
const errorOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ConfigError);

describe("S3 target config", () => {
  it("an s3:// root makes an s3 side: bucket, endpoint, path style, credentials from the environment, root as a path in the bucket", async () => {
    const cfg = await parseConfigText(
      config("{name: obs, s3: {endpoint: 'https://obs.example.com', region: cn-north-4, pathStyle: true, accessKeyId: {env: K}, secretAccessKey: {env: S}, scheme: s3a}}"),
      "t.yaml",
      { K: "AKID", S: "secret" },
    );
    expect(cfg.target).toMatchObject({
      kind: "s3",
      name: "obs",
      uri: "s3a://dr-bucket",
      settings: { bucket: "dr-bucket", endpoint: "https://obs.example.com", region: "cn-north-4", pathStyle: true, credentials: { accessKeyId: "AKID", secretAccessKey: "secret" }, conditionalWrites: true },
    });
    expect(cfg.paths).toEqual([{ source: "/flink/cp", target: "/flink/cp" }]);
    expect(cfg.rewrite).toContainEqual({ from: "hdfs://ns1/flink/cp", to: "s3a://dr-bucket/flink/cp" });
    for (const r of cfg.rewrite) expect(r.to).toBe("s3a://dr-bucket/flink/cp");
  });

  it("without static credentials the SDK's chain applies; defaults: us-east-1, virtual-hosted style, s3 scheme", async () => {
    const cfg = await parseConfigText(config("{}"), "t.yaml", {});
    expect(cfg.target).toMatchObject({ kind: "s3", uri: "s3://dr-bucket", settings: { region: "us-east-1", pathStyle: false, credentials: undefined, partSize: 16 * 1024 * 1024 } });
  });

  it("names each mistake by key: one credential without the other, a missing secret, roots in two buckets, a tiny part size, s3 settings without an s3 root, a bucket name S3 refuses", async () => {
    const half = await errorOf(parseConfigText(config("{s3: {accessKeyId: {env: K}}}"), "t.yaml", { K: "x" }));
    expect(half?.message).toContain("target.s3: give both accessKeyId and secretAccessKey, or neither");
    const unset = await errorOf(parseConfigText(config("{s3: {accessKeyId: {env: K}, secretAccessKey: {env: S}}}"), "t.yaml", { K: "x" }));
    expect(unset?.message).toContain("target.s3.secretAccessKey.env: environment variable S is not set or empty");
    const two = await errorOf(parseConfigText(config("{}", "[{source: /a, target: 's3://b-one/a'}, {source: /b, target: 's3://b-two/b'}]"), "t.yaml", {}));
    expect(two?.message).toContain("every root of an S3 side must be in one bucket");
    const small = await errorOf(parseConfigText(config("{s3: {partSize: 1MiB}}"), "t.yaml", {}));
    expect(small?.message).toContain("target.s3.partSize: at least 5MiB");
    const stray = await errorOf(parseConfigText(config("{namenodes: ['http://nn2:9870'], s3: {}}", "[{source: /flink/cp, target: /dr/cp}]"), "t.yaml", {}));
    expect(stray?.message).toContain("target.s3: set, but target is served by HDFS over WebHDFS (its roots: /path (with namenodes)); s3 is a setting of S3-compatible object store (roots s3://bucket/prefix)");
    const notABucket = await errorOf(parseConfigText(config("{}", "[{source: /flink/cp, target: 's3://Not_A_Bucket/cp'}]"), "t.yaml", {}));
    expect(notABucket?.message).toContain('paths[].target: "Not_A_Bucket" is not an S3 bucket name');
  });
});
