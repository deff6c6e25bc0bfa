// A secure DR cluster: the replicator authenticates with a delegation token
// read from the environment (target.delegationToken: {env: ...}), publishes
// restorable checkpoints, and never shows the token in its status or logs.

import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { startSandboxPair, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";
import { webhdfsSettings } from "../../src/storage/webhdfs-backend.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair({ secure: ["hdfs2"] });
});
afterEach(async () => {
  await pair.close();
});

it("replicates to a secure target with a delegation token from the environment", async () => {
  const token = pair.sandbox.mintDelegationToken("hdfs2", { user: "replicator" }).urlString;
  const config = await pair.config("target: {delegationToken: {env: DR_TOKEN}}\n", { DR_TOKEN: token });
  expect(webhdfsSettings(config.target).delegationToken).toBe(token);
  let logged = "";
  const logger = pino({ level: "trace" }, new Writable({ write: (c: Buffer, _e, cb) => ((logged += c.toString()), cb()) }));
  const source = createStorage(config.source, logger);
  const target = createStorage(config.target, logger);
  const engine = new Engine({ config, source, target, logger });
  await engine.start();
  try {
    await pair.simulator({ seed: 81, jobId: "d1".repeat(16) }).run({ count: 2 });
    await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
    const verdicts = await targetVerdicts(config, target);
    expect(verdicts[0]).toMatchObject({ checkpointId: 2, state: "restorable" });
    expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
  } finally {
    await engine.stop();
  }
  expect(logged.length).toBeGreaterThan(0);
  expect(logged).not.toContain(token);
  expect(JSON.stringify(engine.status())).not.toContain(token);

  // Without the token the secure target refuses, naming the authentication failure.
  const bare = await pair.config();
  const refused = new Engine({ config: bare, source: createStorage(bare.source, logger), target: createStorage(bare.target, logger), logger });
  await expect(refused.start()).rejects.toThrow(/401/);
});
