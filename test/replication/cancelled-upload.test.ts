// A copy aborted while its upload is on the wire (a stop, a sibling's vanished source), or whose source
// read breaks then (the file deleted mid-copy, a DataNode of the source gone): the DataNode
// creates the file when the request reaches it, which can be after the client has given up and removed
// the temporary. The abort must not leave a temporary that appears after its removal: the upload is
// ended and the DataNode's answer awaited first. One the DataNode does not answer in time is recorded,
// and the stop's retry removes it once it has appeared. Judged by the target's NameNode, asked after
// the DataNode is surely done with the request.

import { PassThrough } from "node:stream";
import { afterEach, beforeEach, expect, it } from "vitest";
import { stageWrite } from "../../src/replication/atomic.js";
import { LeftBehind } from "../../src/replication/left-behind.js";
import { isUnsettledWrite, storageReason } from "../../src/storage/types.js";
import { UPLOAD_CANCEL_GRACE_MS } from "../../src/webhdfs/transport.js";
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

const DIR = "/dr/cancelled";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts an upload whose DataNode step is held `latencyMs` before the DataNode opens the file, aborts
 * it once the DataNode has the request, and removes the temporary as a copy does. Returns what the
 * write rejected with, the temporary's name and the tracker.
 */
async function abortWhileTheDataNodeHolds(latencyMs: number, how: "abort" | "body-fails" = "abort") {
  const target = pair.storage("hdfs2");
  await target.mkdirs(DIR);
  pair.sandbox.faults.add({ cluster: "hdfs2", role: "datanode", op: "CREATE", pathPrefix: `${DIR}/`, action: { kind: "latency", ms: latencyMs } });
  const leftBehind = new LeftBehind(silentLogger);
  const staged = stageWrite(target, `${DIR}/state-file`, { leftBehind });
  const body = new PassThrough();
  body.write(Buffer.alloc(64 * 1024, 7)); // the upload has started: its request is on the wire
  const abort = new AbortController();
  const writing = target.write(staged.path, body, { overwrite: false, signal: abort.signal }).then(
    () => null,
    (err: unknown) => err,
  );
  // The rule is used up once the DataNode has the request (and sleeps before opening the file).
  await waitFor(async () => pair.sandbox.faults.list().length === 0, 10_000, "the DataNode to receive the upload");
  const abortedAt = Date.now();
  if (how === "abort") abort.abort();
  else body.destroy(new Error("source read broke")); // the copy's source read failed (or its file vanished)
  const failure = await writing;
  const rejectedAfterMs = Date.now() - abortedAt;
  await staged.discard(failure);
  return { target, staged, failure, rejectedAfterMs, leftBehind };
}

it("an upload aborted before the DataNode opened its file leaves no temporary once the DataNode is done", async () => {
  const latencyMs = 400;
  const { target, staged, failure } = await abortWhileTheDataNodeHolds(latencyMs);
  expect(failure, "an aborted upload never succeeds").not.toBeNull();
  expect(storageReason(failure)).toBe("aborted");
  expect(isUnsettledWrite(failure), "the DataNode answered within the grace").toBe(false);
  await sleep(latencyMs + 300); // past any late work of the DataNode on that request
  expect(await target.stat(staged.path), "a temporary appeared after its removal").toBeNull();
  expect(await target.list(DIR)).toEqual([]);
});

it("an upload the DataNode does not answer within the grace is cut off, recorded, and removed by the stop's retry", async () => {
  const latencyMs = UPLOAD_CANCEL_GRACE_MS + 1500;
  const { target, staged, failure, rejectedAfterMs, leftBehind } = await abortWhileTheDataNodeHolds(latencyMs);
  expect(storageReason(failure)).toBe("aborted");
  expect(isUnsettledWrite(failure), String(failure)).toBe(true);
  expect(rejectedAfterMs).toBeGreaterThanOrEqual(UPLOAD_CANCEL_GRACE_MS - 50);
  expect(rejectedAfterMs).toBeLessThan(latencyMs);
  // The DataNode wakes up and opens the file after the client gave up: the temporary appears late.
  await waitFor(async () => (await target.stat(staged.path)) !== null, 10_000, "the late temporary");
  const left = await leftBehind.retry();
  expect(left).toEqual({ paths: [], unlisted: 0 });
  expect(await target.list(DIR)).toEqual([]);
}, 20_000);

it("an upload whose body fails while the DataNode holds it leaves no temporary once the DataNode is done", async () => {
  const latencyMs = 400;
  const { target, staged, failure } = await abortWhileTheDataNodeHolds(latencyMs, "body-fails");
  expect((failure as Error | null)?.message, "a failed body never succeeds").toBe("source read broke");
  expect(isUnsettledWrite(failure)).toBe(false);
  await sleep(latencyMs + 300);
  expect(await target.stat(staged.path), "a temporary appeared after its removal").toBeNull();
  expect(await target.list(DIR)).toEqual([]);
});
