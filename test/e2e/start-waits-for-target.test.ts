// A daemon started while its target is unavailable (network down, NameNode
// busy) waits for it instead of exiting: it serves /readyz with the reason,
// takes the lease once the target answers and replicates; a stop while it
// waits ends it with nothing held. An error that waiting cannot mend (the
// lease held by another replicator) still fails the start at once.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Daemon } from "../../src/daemon/daemon.js";
import { LeaseHeldError } from "../../src/replication/index.js";
import { silentLogger } from "../../src/util/log.js";
import { waitFor } from "../helpers/child.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
const daemons: Daemon[] = [];

beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  await pair.close();
});

async function daemon(): Promise<Daemon> {
  const config = await pair.config(`metrics: {listen: "127.0.0.1:0"}`);
  const d = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 2000 });
  daemons.push(d);
  return d;
}

async function readyz(d: Daemon): Promise<{ status: number; text: string }> {
  const res = await fetch(new URL("/readyz", d.metricsUrl!));
  return { status: res.status, text: await res.text() };
}

describe("start-up against an unavailable target", () => {
  it("waits for the target, saying why on /readyz, then takes the lease and replicates", async () => {
    await pair.sandbox.faults.makeUnreachable("hdfs2", "refuse");
    const d = await daemon();
    let started = false;
    const starting = d.start().then(() => (started = true));
    await waitFor(() => d.metricsUrl !== null, 10_000, "the status server is up");
    await waitFor(async () => (await readyz(d)).text.includes("waiting for the target lease"), 10_000, "/readyz names the wait");
    const r = await readyz(d);
    expect(r.status).toBe(503);
    expect(r.text).toContain("hdfs2");
    expect(started).toBe(false);

    await pair.sandbox.faults.makeReachable("hdfs2");
    await starting;
    const sim = pair.simulator({ seed: 11, jobId: "e".repeat(32) });
    await sim.run({ count: 1 });
    await waitFor(() => d.engine.status().jobs[0]?.newestPublishedCheckpoint === 1, 20_000, "chk-1 is published");
    expect(await pair.storage("hdfs2").stat(`${TARGET_ROOT}/${"e".repeat(32)}/chk-1/_metadata`)).not.toBeNull();
  });

  it("a stop while it waits ends it without a lease or a server left behind", async () => {
    await pair.sandbox.faults.makeUnreachable("hdfs2", "refuse");
    const d = await daemon();
    const stop = new AbortController();
    const starting = d.start(stop.signal);
    await waitFor(() => d.metricsUrl !== null, 10_000, "the status server is up");
    const url = d.metricsUrl!;
    stop.abort("SIGTERM");
    await starting;
    await d.stop("SIGTERM");
    await expect(fetch(new URL("/healthz", url))).rejects.toThrow();
    await pair.sandbox.faults.makeReachable("hdfs2");
    expect((await pair.storage("hdfs2").list(`${TARGET_ROOT}/.ckpt-replicator/lease`)) ?? []).toEqual([]);
  });

  it("does not wait when another replicator holds the lease: the start fails at once", async () => {
    const first = await daemon();
    await first.start();
    const second = await daemon();
    const err = await second.start().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect(second.metricsUrl).toBeNull(); // its server was closed again
  });
});
