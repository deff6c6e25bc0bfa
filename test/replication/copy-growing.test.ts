// A file-merging physical file grows after a checkpoint referenced it (later
// checkpoints append segments). The copier copies exactly the planned length,
// so the copy is complete for the checkpoint being published and never a
// length mismatch that would abandon it.

import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { BandwidthLimiter, ByteBudget } from "../../src/replication/bandwidth.js";
import { Copier } from "../../src/replication/copy.js";
import { LocalStorage } from "../../src/storage/local.js";
import { silentLogger } from "../../src/util/log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grow-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("copies the planned prefix of a file that grew since it was planned", async () => {
  await writeFile(join(dir, "physical"), Buffer.alloc(10_000, 1));
  const planned = 10_000;
  await appendFile(join(dir, "physical"), Buffer.alloc(5_000, 2)); // a later checkpoint appended a segment
  const storage = new LocalStorage("local");
  const copier = new Copier({
    source: storage,
    target: storage,
    limiter: new BandwidthLimiter(0),
    budget: new ByteBudget(1 << 30),
    concurrency: 1,
    maxQueued: 10,
    retries: 0,
    checksum: false,
    logger: silentLogger,
  });
  await copier.copy({ source: join(dir, "physical"), target: join(dir, "copy", "physical"), length: planned, job: "j", unit: "chk-1" });
  const copied = await readFile(join(dir, "copy", "physical"));
  expect(copied.length).toBe(planned);
  expect(copied.every((b) => b === 1)).toBe(true);
});
