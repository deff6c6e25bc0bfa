// The single-writer lease on a real local directory: epoch files created
// exclusively, refusal of a second writer, takeover of an abandoned lease judged
// on the storage's clock, fencing (a stale holder never writes once a newer epoch
// exists), release, lapse and resumption while renewals fail, crash leftovers.

import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { epochFileName, Lease, LeaseHeldError, LeaseLostError, type LeaseContent } from "../../src/replication/lease.js";
import { LocalStorage } from "../../src/storage/local.js";
import { FencedStorage, type Storage } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";

let dir: string;
let path: string;
const leases: Lease[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lease-"));
  path = join(dir, ".ckpt-replicator", "lease");
});
afterEach(async () => {
  vi.useRealTimers();
  for (const l of leases.splice(0)) await l.release();
  await rm(dir, { recursive: true, force: true });
});

function lease(ttlMs = 60_000, storage: Storage = new LocalStorage("target"), onLost?: (e: LeaseLostError) => void): Lease {
  const l = new Lease(storage, path, ttlMs, silentLogger, onLost);
  leases.push(l);
  return l;
}

async function epochFiles(): Promise<string[]> {
  return (await readdir(path).catch(() => [] as string[])).filter((n) => n.startsWith("epoch-")).sort();
}

async function epochContent(epoch: number): Promise<LeaseContent | null> {
  try {
    return JSON.parse(await readFile(join(path, epochFileName(epoch)), "utf8")) as LeaseContent;
  } catch {
    return null;
  }
}

/** Another replicator's epoch file, last renewed `ageMs` ago. */
async function writeForeignEpoch(epoch: number, ageMs = 0): Promise<void> {
  await mkdir(path, { recursive: true });
  const file = join(path, epochFileName(epoch));
  await writeFile(file, JSON.stringify({ owner: "other-host:4242:deadbeef", host: "other-host", pid: 4242, epoch, acquiredAt: 0, ttlMs: 60_000 }));
  const t = (Date.now() - ageMs) / 1000;
  await utimes(file, t, t);
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
  it("is acquired by creating epoch 1, naming its owner", async () => {
    const a = lease();
    await a.acquire();
    expect(() => a.assertHeld()).not.toThrow();
    expect(await epochFiles()).toEqual([epochFileName(1)]);
    expect((await epochContent(1))?.owner).toBe(a.owner);
    expect(a.currentEpoch).toBe(1);
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
    expect(await epochFiles()).toEqual([epochFileName(1)]);
  });

  it("takes over a lease not renewed for a whole ttl, as a new epoch, and removes the old epoch file", async () => {
    await writeForeignEpoch(4, 5_000);
    const a = lease(1_000);
    await a.acquire();
    expect(a.currentEpoch).toBe(5);
    expect(await epochFiles()).toEqual([epochFileName(5)]);
    expect((await epochContent(5))?.owner).toBe(a.owner);
  });

  it("judges expiry on the storage's clock, not the daemon's: a daemon clock far ahead does not take over a fresh lease", async () => {
    await writeForeignEpoch(1, 0);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10 * 60_000); // this host's clock is 10 minutes ahead
    await expect(lease(1_000).acquire()).rejects.toBeInstanceOf(LeaseHeldError);
    vi.useRealTimers();
    expect(await epochFiles()).toEqual([epochFileName(1)]);
  });

  it("of two newcomers racing for an expired lease, exactly one gets the next epoch", async () => {
    await writeForeignEpoch(7, 10_000);
    const results = await Promise.allSettled([lease(1_000).acquire(), lease(1_000).acquire(), lease(1_000).acquire()]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LeaseHeldError);
    expect(await epochFiles()).toEqual([epochFileName(8)]);
  });

  it("release deletes our own epoch file, and leaves a newer holder's alone", async () => {
    const a = lease();
    await a.acquire();
    await a.release();
    expect(await epochFiles()).toEqual([]);

    const b = lease();
    await b.acquire();
    await writeForeignEpoch(2); // someone took it over meanwhile
    await b.release();
    expect(await epochFiles()).toEqual([epochFileName(1), epochFileName(2)]); // not the highest: left as it is
    expect((await epochContent(2))?.owner).toBe("other-host:4242:deadbeef");
  });

  it("is lost when a newer epoch exists: writes stop at once, and the holder's own file is all it ever rewrote", async () => {
    const lost: LeaseLostError[] = [];
    const a = lease(60_000, new LocalStorage("target"), (e) => lost.push(e));
    await a.acquire();
    await writeForeignEpoch(2);
    await a.renew();
    expect(() => a.assertHeld()).toThrow(LeaseLostError);
    expect(() => a.assertHeld()).toThrow(/epoch 2 is held by other-host:4242:deadbeef/);
    expect(lost).toHaveLength(1);
    await a.renew(); // a lost lease is never renewed again
    expect((await epochContent(2))?.owner).toBe("other-host:4242:deadbeef");
    expect(lost).toHaveLength(1);
  });

  it("confirm() before a batch of writes sees a newer epoch even between renewals", async () => {
    const a = lease();
    await a.acquire();
    await a.confirm();
    await writeForeignEpoch(2);
    await expect(a.confirm()).rejects.toBeInstanceOf(LeaseLostError);
    expect(() => a.assertHeld()).toThrow(LeaseLostError);
  });

  it("fences every write of a FencedStorage: none is attempted once the lease is lost", async () => {
    const a = lease();
    await a.acquire();
    const fencedStorage = new FencedStorage(new LocalStorage("target"), () => a.assertHeld());
    await fencedStorage.write(join(dir, "before"), Buffer.from("x"));
    await writeForeignEpoch(2);
    await a.renew();
    await expect(fencedStorage.write(join(dir, "after"), Buffer.from("x"))).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fencedStorage.mkdirs(join(dir, "d"))).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fencedStorage.delete(join(dir, "before"))).rejects.toBeInstanceOf(LeaseLostError);
    expect((await readdir(dir)).sort()).toEqual([".ckpt-replicator", "before"]);
  });

  it("lets through only the removal of the process's own temporary once the lease is lost (not a recursive one)", async () => {
    const a = lease();
    await a.acquire();
    const fencedStorage = new FencedStorage(new LocalStorage("target"), () => a.assertHeld());
    await fencedStorage.mkdirs(join(dir, "d"));
    for (const name of ["own-temp", "d/other"]) await fencedStorage.write(join(dir, name), Buffer.from("x"));
    await writeForeignEpoch(2);
    await a.renew();
    await expect(fencedStorage.delete(join(dir, "d"), { recursive: true, ownTemporary: true })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fencedStorage.delete(join(dir, "d/other"))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await fencedStorage.delete(join(dir, "own-temp"), { ownTemporary: true })).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([".ckpt-replicator", "d"]);
  });

  it("lapses while renewals fail (writes pause) and resumes with the next successful renewal", async () => {
    const flaky = flakyStorage();
    const lost: LeaseLostError[] = [];
    const a = lease(300, flaky.storage, (e) => lost.push(e));
    await a.acquire();
    flaky.setDown(true);
    await sleep(400); // the background renewals (every 75 ms) all fail
    expect(() => a.assertHeld()).toThrow(LeaseLostError);
    expect(() => a.assertHeld()).toThrow(/not renewed within half its ttl/);
    flaky.setDown(false);
    await a.renew();
    expect(() => a.assertHeld()).not.toThrow();
    expect(lost).toEqual([]); // a lapse is not a loss: nobody else took it
    expect((await epochContent(1))?.owner).toBe(a.owner);
  });

  it("stops writing at half its ttl after the last renewal, before anyone may take over at a whole ttl", async () => {
    const flaky = flakyStorage();
    const a = lease(400, flaky.storage);
    await a.acquire();
    flaky.setDown(true);
    await sleep(260);
    expect(() => a.assertHeld()).toThrow(LeaseLostError); // > ttl/2: paused
    await expect(lease(400).acquire()).rejects.toBeInstanceOf(LeaseHeldError); // < ttl: nobody takes over yet
  });

  it("removes renewal temporaries a crash left in the lease directory once they are older than a ttl (issue 7, bug 8)", async () => {
    await mkdir(path, { recursive: true });
    const leftover = join(path, `.${epochFileName(3)}.ckpt-tmp.0123456789ab`);
    await writeFile(leftover, "{}");
    const t = (Date.now() - 10_000) / 1000;
    await utimes(leftover, t, t);
    const fresh = join(path, `.${epochFileName(3)}.ckpt-tmp.ba9876543210`);
    await writeFile(fresh, "{}");
    await lease(1_000).acquire();
    const names = await readdir(path);
    expect(names).not.toContain(leftover.slice(path.length + 1));
    expect(names).toContain(fresh.slice(path.length + 1));
  });

  it("honours a lease file of the previous format until it expires, then replaces it with the epoch directory", async () => {
    await mkdir(join(dir, ".ckpt-replicator"), { recursive: true });
    await writeFile(path, JSON.stringify({ owner: "old", renewedAt: Date.now(), ttlMs: 1_000 }));
    await expect(lease(1_000).acquire()).rejects.toBeInstanceOf(LeaseHeldError);
    const t = (Date.now() - 5_000) / 1000;
    await utimes(path, t, t);
    await lease(1_000).acquire();
    expect(await epochFiles()).toEqual([epochFileName(1)]);
  });
});
