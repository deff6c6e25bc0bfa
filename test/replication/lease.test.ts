// The single-writer lease on a real local directory: refusal of a second
// writer, takeover of an abandoned lease, release, loss to another owner, and
// lapse and resumption while renewals fail.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Lease, LeaseHeldError, LeaseLostError, type LeaseContent } from "../../src/replication/lease.js";
import { LocalStorage } from "../../src/storage/local.js";
import type { Storage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";

let dir: string;
let path: string;
const leases: Lease[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lease-"));
  path = join(dir, ".ckpt-replicator", "lease");
});
afterEach(async () => {
  for (const l of leases.splice(0)) await l.release();
  await rm(dir, { recursive: true, force: true });
});

function lease(ttlMs = 60_000, storage: Storage = new LocalStorage("target"), onLost?: (e: LeaseLostError) => void): Lease {
  const l = new Lease(storage, path, ttlMs, silentLogger, onLost);
  leases.push(l);
  return l;
}

async function leaseFile(): Promise<LeaseContent | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LeaseContent;
  } catch {
    return null;
  }
}

async function writeForeignLease(o: Partial<LeaseContent> = {}): Promise<void> {
  const now = Date.now();
  const content: LeaseContent = { owner: "other-host:4242:deadbeef", host: "other-host", pid: 4242, acquiredAt: now, renewedAt: now, ttlMs: 60_000, ...o };
  await writeFile(path, JSON.stringify(content));
}

/** A storage that fails every call while `down` is set, like an unreachable target. */
function flakyStorage(): { storage: Storage; setDown(down: boolean): void } {
  let down = false;
  const inner = new LocalStorage("target");
  const storage = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (down) return Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { storage, setDown: (d) => (down = d) };
}

describe("target lease", () => {
  it("is acquired by writing a lease file naming its owner", async () => {
    const a = lease();
    await a.acquire();
    expect(() => a.assertHeld()).not.toThrow();
    const content = await leaseFile();
    expect(content?.owner).toBe(a.owner);
    expect(content?.ttlMs).toBe(60_000);
  });

  it("refuses a second replicator while the lease is held, naming the holder", async () => {
    const a = lease();
    await a.acquire();
    const b = lease();
    const err = await b.acquire().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as LeaseHeldError).holder).toContain(a.owner);
    expect((err as LeaseHeldError).message).toMatch(/refusing to start a second writer/);
    expect((err as LeaseHeldError).expiresAt).toBeGreaterThan(Date.now());
    expect((await leaseFile())?.owner).toBe(a.owner);
  });

  it("refuses when the lease file is unreadable rather than guessing", async () => {
    await new LocalStorage("t").mkdirs(join(dir, ".ckpt-replicator"));
    await writeFile(path, "{not json");
    const err = await lease().acquire().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect(await readFile(path, "utf8")).toBe("{not json");
  });

  it("takes over a lease that was not renewed within its ttl", async () => {
    await new LocalStorage("t").mkdirs(join(dir, ".ckpt-replicator"));
    await writeForeignLease({ renewedAt: Date.now() - 5_000, ttlMs: 1_000 });
    const a = lease();
    await a.acquire();
    expect((await leaseFile())?.owner).toBe(a.owner);
    expect(() => a.assertHeld()).not.toThrow();
  });

  it("does not take over a foreign lease that is still fresh", async () => {
    await new LocalStorage("t").mkdirs(join(dir, ".ckpt-replicator"));
    await writeForeignLease({ renewedAt: Date.now() - 500, ttlMs: 60_000 });
    await expect(lease().acquire()).rejects.toBeInstanceOf(LeaseHeldError);
    expect((await leaseFile())?.owner).toBe("other-host:4242:deadbeef");
  });

  it("release deletes our own lease file, and only ours", async () => {
    const a = lease();
    await a.acquire();
    await a.release();
    expect(await leaseFile()).toBeNull();

    const b = lease();
    await b.acquire();
    await writeForeignLease(); // someone took it over meanwhile
    await b.release();
    expect((await leaseFile())?.owner).toBe("other-host:4242:deadbeef");
  });

  it("is lost when another owner overwrote it: writes stop and the other's lease is left alone", async () => {
    const lost: LeaseLostError[] = [];
    const a = lease(60_000, new LocalStorage("target"), (e) => lost.push(e));
    await a.acquire();
    await writeForeignLease();
    await a.renew();
    expect(() => a.assertHeld()).toThrow(LeaseLostError);
    expect(() => a.assertHeld()).toThrow(/now held by other-host:4242:deadbeef/);
    expect(lost).toHaveLength(1);
    await a.renew(); // a lost lease is never renewed again
    await a.release();
    expect((await leaseFile())?.owner).toBe("other-host:4242:deadbeef");
    expect(lost).toHaveLength(1);
  });

  it("lapses while renewals fail (writes pause) and resumes with the next successful renewal", async () => {
    const flaky = flakyStorage();
    const lost: LeaseLostError[] = [];
    const a = lease(300, flaky.storage, (e) => lost.push(e));
    await a.acquire();
    flaky.setDown(true);
    await sleep(450); // the background renewals (every 100 ms) all fail
    expect(() => a.assertHeld()).toThrow(LeaseLostError);
    expect(() => a.assertHeld()).toThrow(/not renewed within its ttl/);
    flaky.setDown(false);
    await a.renew();
    expect(() => a.assertHeld()).not.toThrow();
    expect(lost).toEqual([]); // a lapse is not a loss: nobody else took it
    expect((await leaseFile())?.owner).toBe(a.owner);
  });
});
