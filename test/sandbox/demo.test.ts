// The first-run demo: it must publish checkpoints on hdfs2, verify them and
// print a restore command, and clean up after itself.

import { PassThrough } from "node:stream";
import { existsSync } from "node:fs";
import { expect, it } from "vitest";
import { runDemo } from "../../src/sandbox/demo.js";
import { silentLogger } from "../../src/util/log.js";

it("publishes, verifies and prints the checkpoint to restore from", async () => {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => (text += c.toString()));
  const result = await runDemo({
    durationMs: 2500,
    jobs: 1,
    intervalMs: 500,
    stateSizeBytes: 256 * 1024,
    metricsListen: "127.0.0.1:0",
    chaos: false,
    out,
    logger: silentLogger,
  });
  expect(result.published).toBeGreaterThan(0);
  expect(result.broken).toBe(0);
  expect(result.restorable).toBeGreaterThan(0);
  expect(text).toMatch(/^published [0-9a-f]{8}\/chk-\d+ on hdfs2: \d+ files \(\d+ copied\)/m);
  expect(text).toContain("verify hdfs2:");
  expect(text).toMatch(new RegExp(`flink run --fromSavepoint hdfs://hdfs2/dr/flink/checkpoints/${result.jobs[0]}/chk-\\d+ --restoreMode no_claim`));
  const configLine = /replicator config: (\S+)/.exec(text);
  expect(configLine).not.toBeNull();
  expect(existsSync(configLine![1]!)).toBe(false); // the temporary sandbox is removed
}, 60_000);
