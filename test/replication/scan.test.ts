// TreeScanner on a real local tree: what it finds (jobs, units, shared files,
// savepoints), what a repeated scan costs, how it sees a _metadata written in
// place, and when it declares a root unhealthy or a job incomplete.

import { appendFile, mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LISTING_SETTLE_MS, TreeScanner, type ScannerOptions } from "../../src/replication/scan.js";
import { LocalStorage } from "../../src/storage/local.js";
import type { Storage } from "../../src/storage/types.js";
import { recordingStorage } from "../helpers/replication.js";

let base: string;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "scan-"));
  root = join(base, "cp");
  for (const id of [1, 2]) {
    await mkdir(join(root, "job-a", `chk-${id}`), { recursive: true });
    await writeFile(join(root, "job-a", `chk-${id}`, "_metadata"), Buffer.alloc(50 + id));
    await writeFile(join(root, "job-a", `chk-${id}`, "exclusive"), Buffer.alloc(7));
  }
  await mkdir(join(root, "job-a", "shared", "nested"), { recursive: true });
  await mkdir(join(root, "job-a", "taskowned"), { recursive: true });
  await writeFile(join(root, "job-a", "shared", "sst-1"), Buffer.alloc(11));
  await writeFile(join(root, "job-a", "shared", "nested", "sst-2"), Buffer.alloc(12));
  await writeFile(join(root, "job-a", "taskowned", "seg"), Buffer.alloc(13));
  await mkdir(join(root, ".ckpt-replicator"));
  await mkdir(join(root, "_hidden"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Backdates every directory below `dir` by a minute, as for a tree that has not changed lately. */
async function settle(dir: string): Promise<void> {
  const old = new Date(Date.now() - 60_000);
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await settle(join(dir, e.name));
  await utimes(dir, old, old);
}

function scanner(storage: Storage = new LocalStorage("src"), o: Partial<ScannerOptions> = {}) {
  return new TreeScanner({ storage, roots: [root], listConcurrency: 4, fullRescanEvery: 1000, ...o });
}

describe("TreeScanner: what it finds", () => {
  it("finds jobs, checkpoints with their _metadata and entries, and shared/taskowned files at depth", async () => {
    const snap = await scanner().scan();
    expect(snap.roots).toEqual([{ root, healthy: true, jobCount: 1 }]);
    expect([...snap.jobs.keys()]).toEqual([join(root, "job-a")]);
    const job = snap.jobs.get(join(root, "job-a"))!;
    expect(job.complete).toBe(true);
    const units = job.units.sort((a, b) => a.checkpointId - b.checkpointId);
    expect(units.map((u) => [u.name, u.kind, u.checkpointId, u.metadata?.length])).toEqual([
      ["chk-1", "checkpoint", 1, 51],
      ["chk-2", "checkpoint", 2, 52],
    ]);
    expect(units[0]!.entries.map((e) => e.name).sort()).toEqual(["_metadata", "exclusive"]);
    expect(new Map([...job.sharedFiles].map(([p, e]) => [p, e.length]))).toEqual(
      new Map([
        [join(root, "job-a", "shared", "sst-1"), 11],
        [join(root, "job-a", "shared", "nested", "sst-2"), 12],
        [join(root, "job-a", "taskowned", "seg"), 13],
      ]),
    );
  });

  it("treats savepoint-* directories as units, directly under the root or under a job", async () => {
    await mkdir(join(root, "savepoint-abcdef-0123456789ab"));
    await writeFile(join(root, "savepoint-abcdef-0123456789ab", "_metadata"), Buffer.alloc(5));
    await mkdir(join(root, "job-a", "savepoint-fedcba-ba9876543210"));
    const snap = await scanner().scan();
    const atRoot = snap.jobs.get(root)!;
    expect(atRoot.key).toBe("");
    expect(atRoot.units.map((u) => [u.name, u.kind, u.metadata?.length])).toEqual([["savepoint-abcdef-0123456789ab", "savepoint", 5]]);
    const inJob = snap.jobs.get(join(root, "job-a"))!.units.find((u) => u.kind === "savepoint");
    expect(inJob).toMatchObject({ name: "savepoint-fedcba-ba9876543210", metadata: null });
    expect(snap.roots[0]!.jobCount).toBe(1); // a savepoint is not a job
  });
});

describe("TreeScanner: cost of repeated scans", () => {
  it("an unchanged tree costs one listing per root, per job and per directory below a shared directory", async () => {
    await settle(root);
    const { storage, calls } = recordingStorage(new LocalStorage("src"));
    const s = scanner(storage);
    const first = await s.scan();
    const firstLists = calls.get("list")!;
    expect(firstLists).toBe(1 + 1 + 2 + 3); // root, job, two checkpoints, shared + nested + taskowned
    expect(first.requests).toBe(firstLists);
    const second = await s.scan();
    // Root and job-a (their entries' times vouch for the checkpoint and shared directories), and shared/nested:
    // its time comes from the cached listing of shared/, which vouches for nothing.
    expect(calls.get("list")! - firstLists).toBe(3);
    expect(second.requests).toBe(3);
    // ...and the cached view is the same view.
    expect(second.jobs.get(join(root, "job-a"))!.units.length).toBe(2);
    expect(second.jobs.get(join(root, "job-a"))!.sharedFiles.size).toBe(3);
  });

  it("re-lists a job directory that changed, and only what changed", async () => {
    await settle(root);
    const { storage, calls } = recordingStorage(new LocalStorage("src"));
    const s = scanner(storage);
    await s.scan();
    await mkdir(join(root, "job-a", "chk-3"));
    await writeFile(join(root, "job-a", "chk-3", "_metadata"), Buffer.alloc(9));
    const before = calls.get("list")!;
    const snap = await s.scan();
    expect(calls.get("list")! - before).toBe(4); // root, job-a, chk-3 (and shared/nested, as on every scan)
    expect(snap.jobs.get(join(root, "job-a"))!.units.map((u) => u.name).sort()).toEqual(["chk-1", "chk-2", "chk-3"]);
  });

  it("sees a file renamed into a checkpoint directory although the job directory did not change (issue 7, bug 1)", async () => {
    await settle(root);
    const jobDir = join(root, "job-a");
    const { storage } = recordingStorage(new LocalStorage("src"));
    const s = scanner(storage);
    const first = await s.scan();
    const chk2 = first.jobs.get(jobDir)!.units.find((u) => u.name === "chk-2")!;
    const jobMtime = (await storage.stat(jobDir))!.mtime;
    // What publishing does: a temporary written in chk-2, renamed to _metadata. chk-2 changes, job-a does not.
    await new Promise((r) => setTimeout(r, LISTING_SETTLE_MS + 20));
    await writeFile(join(jobDir, "chk-2", ".new.tmp"), Buffer.alloc(5));
    await rename(join(jobDir, "chk-2", ".new.tmp"), join(jobDir, "chk-2", "added-later"));
    expect((await storage.stat(jobDir))!.mtime).toBe(jobMtime);
    const second = await s.scan();
    const seen = second.jobs.get(jobDir)!.units.find((u) => u.name === "chk-2")!;
    expect(seen.entries.map((e) => e.name).sort()).toEqual([...chk2.entries.map((e) => e.name), "added-later"].sort());
    // A second unchanged scan still sees it, from the cache.
    const third = await s.scan();
    expect(third.jobs.get(jobDir)!.units.find((u) => u.name === "chk-2")!.entries.map((e) => e.name)).toContain("added-later");
  });

  it("scanJob lists one job afresh at every level, whatever the cache holds", async () => {
    await settle(root);
    const { storage, calls } = recordingStorage(new LocalStorage("src"));
    const s = scanner(storage);
    await s.scan();
    await s.scan();
    const before = calls.get("list")!;
    const job = await s.scanJob(root, "job-a");
    expect(calls.get("list")! - before).toBe(1 + 2 + 3); // job, two checkpoints, shared + nested + taskowned
    expect(job.complete).toBe(true);
    expect(job.units.map((u) => u.name).sort()).toEqual(["chk-1", "chk-2"]);
    expect(job.sharedFiles.size).toBe(3);
    expect(job.listings?.get(join(root, "job-a", "chk-1"))?.has("_metadata")).toBe(true);
  });

  it("lists everything again every fullRescanEvery scans", async () => {
    await settle(root);
    const { storage, calls } = recordingStorage(new LocalStorage("src"));
    const s = scanner(storage, { fullRescanEvery: 2 });
    await s.scan();
    await s.scan();
    const before = calls.get("list")!;
    await s.scan();
    expect(calls.get("list")! - before).toBe(7);
  });

  it("does not trust a listing taken in the same clock tick as the directory's last change", async () => {
    const { storage, calls } = recordingStorage(new LocalStorage("src"));
    const s = scanner(storage);
    const jobDir = join(root, "job-a");
    const tick = Math.floor(Date.now() / 1000); // whole seconds: set and restored exactly
    await utimes(jobDir, tick, tick);
    // The first scan lists job-a within the tick of its last change...
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(tick * 1000 + 1);
    try {
      await s.scan();
    } finally {
      vi.useRealTimers();
    }
    // ...then a checkpoint is added in that same tick: the directory's mtime does not move.
    await mkdir(join(jobDir, "chk-3"));
    await writeFile(join(jobDir, "chk-3", "_metadata"), Buffer.alloc(9));
    await utimes(jobDir, tick, tick);
    expect((await storage.stat(jobDir))!.mtime).toBe(tick * 1000);
    const before = calls.get("list")!;
    const snap = await s.scan();
    expect(snap.jobs.get(jobDir)!.units.map((u) => u.name).sort()).toEqual(["chk-1", "chk-2", "chk-3"]);
    expect(calls.get("list")! - before).toBeGreaterThanOrEqual(3); // root, job-a, chk-3
  });

  it("sees a _metadata written in place (listed empty, complete later, directory unchanged) through refreshMetadata", async () => {
    const unit = join(root, "job-a", "chk-9");
    await mkdir(unit);
    await writeFile(join(unit, "_metadata"), "");
    await settle(root);
    const asked: Array<[string, number]> = [];
    const refreshing = scanner(new LocalStorage("src"), {
      refreshMetadata: (dir, listed) => {
        asked.push([dir, listed.length]);
        return true;
      },
    });
    const plain = scanner();
    for (const s of [refreshing, plain]) {
      const snap = await s.scan();
      expect(snap.jobs.get(join(root, "job-a"))!.units.find((u) => u.name === "chk-9")!.metadata!.length).toBe(0);
    }
    await appendFile(join(unit, "_metadata"), Buffer.alloc(321)); // the directory's child list does not change
    const refreshed = await refreshing.scan();
    expect(refreshed.jobs.get(join(root, "job-a"))!.units.find((u) => u.name === "chk-9")!.metadata!.length).toBe(321);
    expect(asked).toContainEqual([unit, 0]);
    // Without the hook the cached listing still says 0 bytes: this is what the hook is for.
    const stale = await plain.scan();
    expect(stale.jobs.get(join(root, "job-a"))!.units.find((u) => u.name === "chk-9")!.metadata!.length).toBe(0);
  });
});

describe("TreeScanner: unhealthy roots and incomplete jobs", () => {
  it("marks a missing root unhealthy", async () => {
    await rm(root, { recursive: true });
    const snap = await scanner().scan();
    expect(snap.roots[0]).toMatchObject({ healthy: false, problem: `${root} does not exist` });
    expect(snap.jobs.size).toBe(0);
  });

  it("marks a root that cannot be listed unhealthy", async () => {
    const failing = failingList(new LocalStorage("src"), (p) => p === root);
    const snap = await scanner(failing).scan();
    expect(snap.roots[0]!.healthy).toBe(false);
    expect(snap.roots[0]!.problem).toMatch(/^cannot list .*: listing refused$/);
  });

  it("marks a root unhealthy when it is empty but held jobs in the previous scan", async () => {
    const s = scanner();
    expect((await s.scan()).roots[0]!.healthy).toBe(true);
    await rm(join(root, "job-a"), { recursive: true });
    const snap = await s.scan();
    expect(snap.roots[0]).toMatchObject({ healthy: false, problem: `${root} is empty but held 1 job(s) in the previous scan` });
  });

  it("finds an always-empty root healthy", async () => {
    await rm(join(root, "job-a"), { recursive: true });
    const s = scanner();
    expect((await s.scan()).roots[0]!.healthy).toBe(true);
    expect((await s.scan()).roots[0]!.healthy).toBe(true);
  });

  it("marks a job incomplete when one of its listings fails", async () => {
    const failing = failingList(new LocalStorage("src"), (p) => p.endsWith("/shared/nested"));
    const snap = await scanner(failing).scan();
    const job = snap.jobs.get(join(root, "job-a"))!;
    expect(job.complete).toBe(false);
    expect(job.problems).toEqual([expect.stringMatching(/cannot list .*shared\/nested: listing refused/)]);
    expect(snap.roots[0]!.healthy).toBe(true);
  });
});

function failingList(inner: Storage, fails: (path: string) => boolean): Storage {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === "list") {
        return (path: string) => (fails(path) ? Promise.reject(new Error("listing refused")) : target.list(path));
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
