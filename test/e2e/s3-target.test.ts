// An S3 bucket (a real S3-compatible server: moto) as the DR target, end to end:
// the engine replicates a running job from the emulated HDFS into s3://bucket/prefix
// while a sampler verifies every _metadata in the bucket (data objects first, the
// _metadata as commit point), absolute paths are rewritten to the bucket's scheme,
// retention reaps in the bucket, and the lease (If-None-Match epoch objects) keeps
// a second replicator out.

import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { Engine, LeaseHeldError } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { cycleUntil, startSampler, targetVerdicts } from "../helpers/replication.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { s3ServerMissing, startS3Server, TEST_CREDENTIALS, type S3Server } from "../helpers/s3-server.js";

const missing = s3ServerMissing("S3 target end to end");
let pair: SandboxPair;
let server: S3Server;
const BUCKET = "dr-bucket";
const env = { DR_S3_KEY: TEST_CREDENTIALS.accessKeyId, DR_S3_SECRET: TEST_CREDENTIALS.secretAccessKey };

if (missing === null) {
  beforeAll(async () => {
    [pair, server] = await Promise.all([startSandboxPair(), startS3Server()]);
    (await server.storage(BUCKET)).close(); // creates the bucket
  }, 180_000);
  afterAll(async () => {
    await pair?.close();
    await server?.stop();
  });

  const s3Config = (scheme: "s3" | "s3a") => {
    const c = parseYaml(pair.configText("retain: {min: 1, max: 2}\n")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    c.target = {
      name: "bucket",
      requestTimeout: "5s",
      retry: { attempts: 3, baseDelay: "20ms", maxDelay: "200ms" },
      s3: { endpoint: server.endpoint, pathStyle: true, accessKeyId: { env: "DR_S3_KEY" }, secretAccessKey: { env: "DR_S3_SECRET" }, scheme },
    };
    c.paths = [{ source: c.paths[0].source, target: `s3://${BUCKET}${TARGET_ROOT}` }];
    return parseConfigText(stringifyYaml(c), "s3.yaml", env);
  };

  it("replicates a running job into the bucket: every _metadata there is restorable at every sample, paths point into the bucket", async () => {
    const config = await s3Config("s3a");
    expect(config.target).toMatchObject({ kind: "s3", uri: `s3a://${BUCKET}`, settings: { bucket: BUCKET, pathStyle: true } });
    expect(config.rewrite).toContainEqual({ from: "hdfs://hdfs1/flink/checkpoints", to: `s3a://${BUCKET}${TARGET_ROOT}` });
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    expect(target.capabilities).toMatchObject({ atomicRename: false, atomicWrite: true, directoryMtimes: false });
    const engine = new Engine({ config, source, target, logger: silentLogger });
    await engine.start();
    const second = new Engine({ config, source: createStorage(config.source, silentLogger), target: createStorage(config.target, silentLogger), logger: silentLogger });
    await expect(second.start()).rejects.toBeInstanceOf(LeaseHeldError);
    await second.stop();

    const sampler = startSampler(config, target, 100);
    try {
      const job = "5".repeat(32);
      const sim = pair.simulator({ seed: 51, jobId: job, paths: "absolute", retained: 2 });
      for (let round = 1; round <= 4; round++) {
        await sim.run({ count: 1 });
        await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === round, 60_000);
      }
      const { failures, samples, maxPublished } = await sampler.stop();
      expect(failures).toEqual([]);
      expect(samples).toBeGreaterThan(0);
      expect(maxPublished).toBeGreaterThan(0);

      const verdicts = await targetVerdicts(config, target);
      expect(verdicts.length).toBeGreaterThan(0);
      expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
      expect(verdicts.length).toBeLessThanOrEqual(2); // retain.max, reaped in the bucket
      const newest = await readSmallFile(target, `${TARGET_ROOT}/${job}/chk-4/_metadata`, 1 << 20);
      // Every file the copy references is in the bucket, spelled as Flink's S3 filesystem reads it.
      const absolute = referenceClosure(parseMetadata(newest), `s3a://${BUCKET}${TARGET_ROOT}/${job}/chk-4`).map((r) => r.location);
      expect(absolute.length).toBeGreaterThan(0);
      for (const location of absolute) expect(location.startsWith(`s3a://${BUCKET}${TARGET_ROOT}/${job}/`)).toBe(true);
      expect(newest.toString("latin1")).toContain(`s3a://${BUCKET}${TARGET_ROOT}/${job}/shared/`);
      // The completion time travels with the object (x-amz-meta-mtime) and orders the copies.
      const srcMeta = await source.stat(`/flink/checkpoints/${job}/chk-4/_metadata`);
      if (srcMeta) expect((await target.stat(`${TARGET_ROOT}/${job}/chk-4/_metadata`))?.mtime).toBe(srcMeta.mtime);
      expect(await target.stat(`${TARGET_ROOT}/.ckpt-replicator/records/${job}/chk-4.json`)).toMatchObject({ type: "file" });
    } finally {
      await sampler.stop().catch(() => undefined);
      await engine.stop();
    }
  }, 180_000);
} else {
  it(missing, (ctx) => ctx.skip(missing));
}
