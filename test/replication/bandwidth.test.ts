// The global bandwidth limit (BandwidthLimiter) and the bytes-in-flight budget
// (ByteBudget) as a copy sees them: measured in real time with generous bounds.

import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { BandwidthLimiter, ByteBudget } from "../../src/replication/bandwidth.js";

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Streams `bytes` through the limiter in 64 KiB chunks; resolves with the elapsed ms and the bytes seen. */
async function pump(limiter: BandwidthLimiter, bytes: number, during?: (elapsedMs: () => number) => void): Promise<{ ms: number; counted: number; received: number }> {
  const t0 = performance.now();
  let counted = 0;
  let received = 0;
  const chunks = Math.ceil(bytes / CHUNK);
  const source = Readable.from((function* () {
    for (let i = 0; i < chunks; i++) yield Buffer.alloc(Math.min(CHUNK, bytes - i * CHUNK));
  })());
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      cb();
    },
  });
  during?.(() => performance.now() - t0);
  await pipeline(source, limiter.stream((n) => (counted += n)), sink);
  return { ms: performance.now() - t0, counted, received };
}

describe("BandwidthLimiter", () => {
  it("holds a stream to the configured rate: 2 MiB at 4 MiB/s takes about half a second", async () => {
    const r = await pump(new BandwidthLimiter(4 * MiB), 2 * MiB);
    expect(r.received).toBe(2 * MiB);
    expect(r.counted).toBe(2 * MiB);
    expect(r.ms).toBeGreaterThanOrEqual(400);
    expect(r.ms).toBeLessThan(3000);
  });

  it("lets everything through at once with rate 0 (unlimited)", async () => {
    const r = await pump(new BandwidthLimiter(0), 16 * MiB);
    expect(r.received).toBe(16 * MiB);
    expect(r.ms).toBeLessThan(1500);
  });

  it("applies a higher rate to a stream already waiting", async () => {
    const limiter = new BandwidthLimiter(256 * 1024); // 2 MiB would take 8 s at this rate
    const r = await pump(limiter, 2 * MiB, () => setTimeout(() => limiter.setRate(32 * MiB), 200));
    expect(r.received).toBe(2 * MiB);
    expect(r.ms).toBeGreaterThanOrEqual(150);
    expect(r.ms).toBeLessThan(2500);
  });

  it("releases waiting streams when the limit is switched off", async () => {
    const limiter = new BandwidthLimiter(128 * 1024);
    const r = await pump(limiter, 2 * MiB, () => setTimeout(() => limiter.setRate(0), 200));
    expect(r.received).toBe(2 * MiB);
    expect(r.ms).toBeLessThan(2500);
  });

  it("starts limiting when a limit is set on an unlimited limiter", async () => {
    const limiter = new BandwidthLimiter(0);
    await pump(limiter, 4 * MiB);
    limiter.setRate(2 * MiB);
    expect(limiter.rate).toBe(2 * MiB);
    // The bucket was not filling while unlimited: 1.5 MiB at 2 MiB/s waits about 0.75 s.
    const r = await pump(limiter, 1.5 * MiB);
    expect(r.ms).toBeGreaterThanOrEqual(500);
  });

  it("shares the rate between concurrent streams", async () => {
    const limiter = new BandwidthLimiter(4 * MiB);
    const t0 = performance.now();
    await Promise.all([pump(limiter, MiB), pump(limiter, MiB), pump(limiter, MiB)]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(600); // 3 MiB at 4 MiB/s from an empty bucket
  });
});

describe("ByteBudget", () => {
  it("never lets concurrent acquirers exceed the limit, and serves them all", async () => {
    const budget = new ByteBudget(100);
    let held = 0;
    let maxHeld = 0;
    let done = 0;
    const sizes = [30, 50, 20, 70, 10, 40, 60, 25, 35, 45, 5, 90];
    await Promise.all(
      sizes.map(async (size, i) => {
        const release = await budget.acquire(size);
        held += size;
        maxHeld = Math.max(maxHeld, held, budget.inFlight);
        await sleep(5 + (i % 4) * 3);
        held -= size;
        release();
        release(); // a second release is harmless
        done++;
      }),
    );
    expect(done).toBe(sizes.length);
    expect(maxHeld).toBeLessThanOrEqual(100);
    expect(maxHeld).toBeGreaterThan(50); // it did run several at once
    expect(budget.inFlight).toBe(0);
  });

  it("runs a file larger than the limit alone, in its turn", async () => {
    const budget = new ByteBudget(100);
    const events: string[] = [];
    const releaseSmall = await budget.acquire(30);
    const big = budget.acquire(250).then((release) => {
      events.push(`big in (${budget.inFlight})`);
      return release;
    });
    const after = budget.acquire(10).then((release) => {
      events.push(`after in (${budget.inFlight})`);
      return release;
    });
    await sleep(20);
    expect(events).toEqual([]); // the big file waits for the small one; the later one waits its turn
    releaseSmall();
    const releaseBig = await big;
    await sleep(20);
    expect(events).toEqual(["big in (100)"]);
    releaseBig();
    (await after)();
    expect(events).toEqual(["big in (100)", "after in (10)"]);
    expect(budget.inFlight).toBe(0);
  });

  it("wakes waiters when the limit is raised", async () => {
    const budget = new ByteBudget(50);
    const first = await budget.acquire(50);
    let second = false;
    const p = budget.acquire(50).then((r) => {
      second = true;
      return r;
    });
    await sleep(10);
    expect(second).toBe(false);
    budget.setLimit(100);
    (await p)();
    first();
    expect(second).toBe(true);
  });
});
