// The engine with more savepoints than retain.max on a local source: each is
// published once and stays, instead of being deleted and copied again every
// cycle; one the user deletes on the source goes from the target too.

import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { Engine } from "../../src/replication/index.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";
import { silentLogger } from "../../src/util/log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engine-savepoints-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("engine: savepoints", () => {
  it("publishes each savepoint once and keeps those the source has, whatever retain.max", async () => {
    const storage = new LocalStorage("local");
    const sim = new FlinkJobSimulator({ storage, fsUri: "file:", root: `${dir}/src`, intervalMs: 0, stateSizeBytes: 16 * 1024, retained: 1, seed: 5 });
    await sim.checkpointOnce();
    // Savepoints at the root, each a self-contained copy of the checkpoint's directory (relative references).
    const names = [1, 2, 3, 4].map((i) => `savepoint-abcdef-00000000000${i}`);
    for (const name of names) await cp(`${sim.jobDir}/chk-1`, `${dir}/src/${name}`, { recursive: true });
    const config = await parseConfigText(
      `source: {}\ntarget: {}\npaths: [{source: "file://${dir}/src", target: "file://${dir}/dr"}]\nretain: {min: 1, max: 3}\nmetrics: false\n`,
      "t.yaml",
      {},
    );
    const events: string[] = [];
    const engine = new Engine({
      config,
      source: storage,
      target: new LocalStorage("dr"),
      logger: silentLogger,
      useLease: false,
      hooks: { onPublished: (e) => events.push(`published ${e.unit}`), onDeleted: (_j, p) => events.push(`deleted ${p.slice(dir.length)}`) },
    });
    for (let i = 0; i < 3; i++) await engine.cycle({ wait: true });
    expect(events.filter((e) => e.includes("savepoint")).sort()).toEqual(names.map((n) => `published ${n}`).sort());
    const onTarget = ((await storage.list(`${dir}/dr`)) ?? []).map((e) => e.name).filter((n) => n.startsWith("savepoint-"));
    expect(onTarget.sort()).toEqual(names);

    // The user deletes two savepoints on the source: both go from the target, except one that retain.min
    // may keep as the newest restorable unit there.
    events.length = 0;
    const [gone1, gone2, ...left] = names as [string, string, ...string[]];
    for (const n of [gone1, gone2]) await rm(`${dir}/src/${n}`, { recursive: true });
    await engine.cycle({ wait: true });
    const after = ((await storage.list(`${dir}/dr`)) ?? []).map((e) => e.name).filter((n) => n.startsWith("savepoint-"));
    expect(after).toEqual(expect.arrayContaining(left));
    expect(after.length).toBeLessThanOrEqual(left.length + 1);
    expect(events.filter((e) => e.startsWith("deleted /dr/savepoint-")).length).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.startsWith("published"))).toBe(false);
  });
});
