// Issue 7, bug 6: names Flink writes literally into _metadata. Flink's Path keeps
// '#', '?', '%XX', spaces and the like as characters of the name (no query, no
// fragment, no percent-decoding), so a checkpoint whose root holds them must
// replicate, verify restorable on both sides, and keep its names exactly.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMetadata, referenceClosure } from "../../src/flink/index.js";
import { Engine, verifyCheckpoints } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { readSmallFile } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, type SandboxPair } from "../helpers/sandbox-pair.js";
import { cycleUntil } from "../helpers/replication.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

const deep = Array.from({ length: 100 }, (_, i) => `l${i}`).join("/");

describe("names with characters URIs treat specially (issue 7, bug 6)", () => {
  it.each([
    ["'#' and '?'", "/flink/fh#x/what?now=1"],
    ["percent sequences", "/flink/%41/a%20b/c%2Bd%25e"],
    ["space, unicode and +&;=~[]", "/flink/a b/ünï+&;=~[]"],
    ["a 100-level root", `/flink/${deep}`],
  ])("replicates a checkpoint under a root with %s, restorable on both sides, names kept exactly", async (_what, sourceRoot) => {
    const targetRoot = `/dr${sourceRoot}`;
    const config = await pair.config(`paths: [{source: ${JSON.stringify(sourceRoot)}, target: ${JSON.stringify(targetRoot)}}]\n`);
    const job = "7".repeat(32);
    const sim = pair.simulator({ seed: 71, jobId: job, root: sourceRoot, paths: "absolute" });
    await sim.run({ count: 2 });
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    const engine = new Engine({ config, source, target, logger: silentLogger });
    await engine.start();
    try {
      await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
      const onSource = await verifyCheckpoints({ config, side: "source", storage: source });
      expect(onSource.map((v) => [v.unit, v.state])).toEqual([["chk-2", "restorable"], ["chk-1", "restorable"]]);
      const onTarget = await verifyCheckpoints({ config, side: "target", storage: target });
      expect(onTarget.map((v) => [v.unit, v.state])).toContainEqual(["chk-2", "restorable"]);
      const dir = `${targetRoot}/${job}/chk-2`;
      const md = parseMetadata(await readSmallFile(target, `${dir}/_metadata`, 1 << 20));
      const locations = referenceClosure(md, `hdfs://hdfs2${dir}`).filter((r) => !r.relative).map((r) => r.location);
      expect(locations.length).toBeGreaterThan(0);
      for (const l of locations) expect(l.startsWith(`hdfs://hdfs2${targetRoot}/${job}/`), l).toBe(true);
      expect(engine.status().jobs[0]?.totals.unpublishable).toBe(0);
    } finally {
      await engine.stop();
      source.close();
      target.close();
    }
  }, 60_000);
});
