// A copy whose target write fails while the source read has already received the whole (small) file
// but not yet handed it on: the upload had not started (its NameNode step was slow, then aborted or
// refused), so the bytes wait in the read stream. The copy must still settle, with the write's failure,
// and release what it holds. Node's stream pipeline never settles when such a source is destroyed
// without an error (it waits for an 'end' a destroyed stream never emits; seen on Node 22 and 24): the
// end-to-end "files deleted mid-copy" test hung on Node 24 that way. Against the emulated pair.

import { afterEach, beforeEach, expect, it } from "vitest";
import { Copier } from "../../src/replication/copy.js";
import { BandwidthLimiter, ByteBudget } from "../../src/replication/bandwidth.js";
import { storageReason } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { waitFor } from "../helpers/child.js";
import { startSandboxPair, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

const SOURCE = "/flink/abandoned/state";
const TARGET_DIR = "/dr/abandoned";
const LENGTH = 150 * 1024; // received whole by the read stream long before the upload could start

/** Copies SOURCE while the target's NameNode holds its CREATE; `fail` ends that CREATE once the read is done. */
async function copyWhileCreateIsHeld(fail: (abort: AbortController) => void | Promise<void>) {
  const source = pair.storage("hdfs1");
  const target = pair.storage("hdfs2");
  await source.mkdirs("/flink/abandoned");
  await source.write(SOURCE, Buffer.alloc(LENGTH, 3));
  await target.mkdirs(TARGET_DIR);
  const budget = new ByteBudget(1 << 30);
  const copier = new Copier({
    source, target,
    limiter: new BandwidthLimiter(64 * 1024 * 1024), // the copy takes the limiter's stream, as every large one does
    budget, concurrency: 1, maxQueued: 10, retries: 0, checksum: false, logger: silentLogger, retryBaseMs: 10,
  });
  pair.sandbox.faults.add({ cluster: "hdfs2", role: "namenode", op: "CREATE", pathPrefix: `${TARGET_DIR}/`, action: { kind: "latency", ms: 800 } });
  const abort = new AbortController();
  const copying = copier.copy({ source: SOURCE, target: `${TARGET_DIR}/state`, length: LENGTH, job: "j", unit: "chk-1" }, abort.signal).then(
    () => ({ settled: "resolved" as const, err: null as unknown }),
    (err: unknown) => ({ settled: "rejected" as const, err }),
  );
  // The NameNode holds the CREATE (its rule is used up) while the read stream takes in the whole file.
  await waitFor(async () => pair.sandbox.faults.list().length === 0, 10_000, "the target's NameNode to receive the CREATE");
  await new Promise((r) => setTimeout(r, 200));
  await fail(abort);
  const outcome = await Promise.race([copying, new Promise<{ settled: "hung"; err: null }>((r) => setTimeout(() => r({ settled: "hung", err: null }), 5_000))]);
  return { outcome, budget, copier, target };
}

it("a copy aborted while the target's CREATE is held settles as aborted, with the whole file already read", async () => {
  const { outcome, budget, copier, target } = await copyWhileCreateIsHeld((abort) => abort.abort());
  expect(outcome.settled, "the copy never settled").toBe("rejected");
  expect(storageReason(outcome.err) ?? (outcome.err as Error).name).toMatch(/aborted|AbortError/);
  expect(budget.inFlight, "the copy released its byte budget").toBe(0);
  expect(copier.pending).toBe(0);
  await new Promise((r) => setTimeout(r, 1000)); // past the held CREATE
  expect(await target.stat(`${TARGET_DIR}/state`), "nothing published").toBeNull();
});

it("a copy whose target CREATE is refused after the whole file was read settles with the refusal", async () => {
  const { outcome, budget, copier, target } = await copyWhileCreateIsHeld(async () => {
    await pair.sandbox.faults.makeUnreachable("hdfs2", "refuse");
  });
  await pair.sandbox.faults.makeReachable("hdfs2");
  expect(outcome.settled, "the copy never settled").toBe("rejected");
  // The target's refusal, typed, not the read's echo of it (the read had nothing wrong).
  expect(storageReason(outcome.err), String(outcome.err)).toBe("unreachable");
  expect(String(outcome.err)).toContain("hdfs2");
  expect(budget.inFlight, "the copy released its byte budget").toBe(0);
  expect(copier.pending).toBe(0);
  expect(await target.stat(`${TARGET_DIR}/state`), "nothing published").toBeNull();
});
