// copy.checksum and verify --deep: a target file with the right length but the
// wrong bytes is caught by checksum comparison, reported by verify --deep, and
// copied again before a checkpoint that needs it is published.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BrokenCheckpointsError, runVerify } from "../../src/cli/commands/verify.js";
import { Engine } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

it("re-copies a same-length but different target file and verify --deep reports it", async () => {
  const extra = "copy: {checksum: true}\n";
  const config = await pair.config(extra);
  const configFile = join(pair.stateDir, "checksum.yaml");
  await writeFile(configFile, pair.configText(extra));
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  const engine = new Engine({ config, source, target, logger: silentLogger });
  await engine.start();
  try {
    const sim = pair.simulator({ seed: 41, jobId: "4".repeat(32), sharedReuseFraction: 1 });
    await sim.run({ count: 1 });
    await engine.cycle({ wait: true });
    expect(engine.status().jobs[0]?.newestPublishedCheckpoint).toBe(1);

    await sim.run({ count: 1 });
    const reused = sim.retained().find((c) => c.id === 2)!.files.find((f) => f.shared && f.size > 16)!;
    const victim = TARGET_ROOT + reused.path.slice(SOURCE_ROOT.length);
    const original = await readSmallFile(source, reused.path, 64 << 20);
    await target.write(victim, Buffer.alloc(original.length, 0x5a), { overwrite: true });

    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const err = await runVerify({ config: configFile, deep: true }, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokenCheckpointsError);
    expect(text).toContain(`${victim}: checksum`);
    // Without --deep the damage is invisible: the length is right.
    await expect(runVerify({ config: configFile }, new PassThrough())).resolves.toHaveLength(1);

    const copiedBefore = engine.status().jobs[0]!.totals.filesCopied;
    await engine.cycle({ wait: true });
    expect(engine.status().jobs[0]?.newestPublishedCheckpoint).toBe(2);
    expect(engine.status().jobs[0]!.totals.filesCopied).toBeGreaterThan(copiedBefore);
    expect((await readSmallFile(target, victim, 64 << 20)).equals(original)).toBe(true);
    await expect(runVerify({ config: configFile, deep: true }, new PassThrough())).resolves.toHaveLength(2);
  } finally {
    await engine.stop();
  }
});
