// Issue #9 §4: verify --deep says how many checksums it compared, reports the
// files missing on the other side, and fails on a checksum that differs.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { oneLineError, runCli } from "../helpers/cli-run.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
let config: string;
const JOB = "de".repeat(16);

beforeAll(async () => {
  pair = await startSandboxPair();
  config = join(pair.stateDir, "deep.yaml");
  await writeFile(config, pair.configText("retain: {min: 1, max: 3}\n"));
});
afterAll(async () => {
  await pair?.close();
});

describe("verify --deep", () => {
  it("counts compared checksums, lists files missing on the source, and fails on a differing checksum", async () => {
    const sim = pair.simulator({ seed: 12, jobId: JOB, retained: 2 });
    await sim.run({ count: 2 });
    expect((await runCli(["resync", "--config", config])).code).toBe(0);
    await sim.run({ count: 1 }); // chk-3; Flink subsumes chk-1 and deletes its files on the source

    const ok = await runCli(["verify", "--config", config, "--deep"]);
    expect(ok.code, ok.stderr).toBe(0);
    const summary = /^deep: compared (\d+) checksum\(s\) with the source; 0 differ, 0 not comparable, (\d+) file\(s\) missing on the source \(subsumed there: normal\)$/m.exec(ok.stdout);
    expect(summary, ok.stdout).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(0);
    expect(Number(summary![2])).toBeGreaterThan(0);
    expect(ok.stdout).toMatch(new RegExp(`^ {2}missing on the source: /flink/checkpoints/${JOB}/chk-1/`, "m"));

    // Same length, other bytes: only a checksum can tell.
    const cfg = await pair.config();
    const target = createStorage(cfg.target, silentLogger);
    try {
      const dir = `${TARGET_ROOT}/${JOB}/chk-2`;
      const file = ((await target.list(dir)) ?? []).find((e) => e.type === "file" && e.name !== "_metadata" && e.length > 0)!;
      await target.write(`${dir}/${file.name}`, Buffer.alloc(file.length, 7), { overwrite: true });
      const bad = await runCli(["verify", "--config", config, "--deep", "--job", JOB]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/deep: compared \d+ checksum\(s\) with the source; 1 differ/);
      expect(bad.stdout).toContain(`BROKEN      ${JOB}/chk-2`);
      expect(bad.stdout).toContain(`${dir}/${file.name}: checksum `);
      expect(oneLineError(bad)).toContain(`${JOB}/chk-2`);
    } finally {
      target.close();
    }
  });
});
