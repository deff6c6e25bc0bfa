// planReap(): which target paths the reaper deletes, in which order, and when it
// holds back. Pure: built from hand-made scanner output, no storage involved.

import { describe, expect, it } from "vitest";
import { planReap, type PublishedUnit, type ReapInput } from "../../src/replication/reap.js";
import type { TreeUnit } from "../../src/replication/scan.js";
import { chk, file, job, ROOTS, savepoint, SOURCE_ROOT, TARGET_ROOT, targetShared, targetUnitDir } from "./tree-builders.js";

const NOW = 1_000_000;
const GRACE = 60_000;
const record = (id: number) => `${TARGET_ROOT}/.ckpt-replicator/records/j/chk-${id}.json`;
const published = (unit: TreeUnit, refs: string[] | null = []): PublishedUnit => ({ unit, references: refs === null ? null : new Set(refs) });

function input(o: Partial<ReapInput> & Pick<ReapInput, "targetJob" | "published">): ReapInput {
  const sourceJob = o.sourceJob === undefined && "sourceJob" in o ? undefined : (o.sourceJob ?? job(SOURCE_ROOT, []));
  return {
    sourceJob,
    sourceHealthy: true,
    // A source unit's completion time is its _metadata time (the builders give both sides the same one).
    sourceCompleted: new Map((sourceJob?.units ?? []).filter((u) => u.metadata).map((u) => [u.name, u.metadata!.mtime])),
    records: new Set(),
    targetRoot: TARGET_ROOT,
    roots: ROOTS,
    unreadable: [],
    retain: { min: 1, max: 3 },
    tempGraceMs: GRACE,
    now: NOW,
    ...o,
  };
}

const paths = (plan: { deletions: { path: string }[] }) => plan.deletions.map((d) => d.path);

describe("planReap: retention", () => {
  it("keeps the newest retain.min checkpoints even when the source has subsumed them all", () => {
    const units = [chk(TARGET_ROOT, 3), chk(TARGET_ROOT, 4), chk(TARGET_ROOT, 5)];
    const plan = planReap(
      input({ targetJob: job(TARGET_ROOT, units), published: units.map((u) => published(u)), retain: { min: 2, max: 3 }, sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 9)]) }),
    );
    expect(plan.held).toBeNull();
    expect(plan.kept.map((u) => u.name)).toEqual(["chk-5", "chk-4"]);
    // chk-3 goes record -> _metadata -> directory, so a reader never sees a record or _metadata without its files.
    expect(plan.deletions).toEqual([
      { path: record(3), recursive: false, reason: "subsumed on the source", unit: "chk-3" },
      { path: `${targetUnitDir(3)}/_metadata`, recursive: false, reason: "subsumed on the source", unit: "chk-3" },
      { path: targetUnitDir(3), recursive: true, reason: "subsumed on the source", unit: "chk-3" },
    ]);
  });

  it("caps the checkpoints kept at retain.max even while the source still has them", () => {
    const ids = [1, 2, 3, 4, 5];
    const units = ids.map((id) => chk(TARGET_ROOT, id));
    const plan = planReap(
      input({ targetJob: job(TARGET_ROOT, units), published: units.map((u) => published(u)), sourceJob: job(SOURCE_ROOT, ids.map((id) => chk(SOURCE_ROOT, id))) }),
    );
    expect(plan.kept.map((u) => u.name)).toEqual(["chk-5", "chk-4", "chk-3"]);
    expect(new Set(plan.deletions.map((d) => d.unit))).toEqual(new Set(["chk-1", "chk-2"]));
    expect(plan.deletions.every((d) => d.reason === "beyond retain.max (3)")).toBe(true);
    for (const id of [1, 2]) {
      const at = (p: string) => paths(plan).indexOf(p);
      expect(at(record(id))).toBeGreaterThanOrEqual(0);
      expect(at(record(id))).toBeLessThan(at(`${targetUnitDir(id)}/_metadata`));
      expect(at(`${targetUnitDir(id)}/_metadata`)).toBeLessThan(at(targetUnitDir(id)));
    }
  });

  it("keeps checkpoints between retain.min and retain.max only while the source has them", () => {
    const units = [chk(TARGET_ROOT, 3), chk(TARGET_ROOT, 4), chk(TARGET_ROOT, 5)];
    const plan = planReap(
      input({ targetJob: job(TARGET_ROOT, units), published: units.map((u) => published(u)), sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 3), chk(SOURCE_ROOT, 5)]) }),
    );
    expect(plan.kept.map((u) => u.name)).toEqual(["chk-5", "chk-3"]);
    expect(new Set(plan.deletions.map((d) => d.unit))).toEqual(new Set(["chk-4"]));
  });

  it("does not delete a dropped checkpoint's directory recursively when it holds a file a kept checkpoint references", () => {
    const old = chk(TARGET_ROOT, 3, { entries: [file("borrowed-state")] });
    const kept = chk(TARGET_ROOT, 5);
    const plan = planReap(
      input({ targetJob: job(TARGET_ROOT, [old, kept]), published: [published(old), published(kept, [`${targetUnitDir(3)}/borrowed-state`])] }),
    );
    expect(paths(plan)).toEqual([record(3), `${targetUnitDir(3)}/_metadata`]);
    expect(plan.deletions.some((d) => d.recursive)).toBe(false);
  });
});

describe("planReap: savepoints", () => {
  const savepoints = (root: string, suffixes: string[]) => suffixes.map((s, i) => savepoint(root, s, 1000 * (i + 1)));
  const rootJob = (root: string, units: TreeUnit[]) => ({ ...job(root, units), key: "", dir: root });

  it("keeps every savepoint the source still has, beyond retain.max (else it would be copied again next cycle)", () => {
    const target = savepoints(TARGET_ROOT, ["a", "b", "c", "d", "e"]);
    const plan = planReap(
      input({ sourceJob: rootJob(SOURCE_ROOT, savepoints(SOURCE_ROOT, ["a", "b", "c", "d", "e"])), targetJob: rootJob(TARGET_ROOT, target), published: target.map((u) => published(u)) }),
    );
    expect(plan.deletions).toEqual([]);
    expect(plan.kept).toHaveLength(5);
  });

  it("deletes a savepoint once the source deleted it, keeping the newest retain.min", () => {
    const target = savepoints(TARGET_ROOT, ["a", "b", "c"]);
    const plan = planReap(
      input({ sourceJob: rootJob(SOURCE_ROOT, savepoints(SOURCE_ROOT, ["b"])), targetJob: rootJob(TARGET_ROOT, target), published: target.map((u) => published(u)) }),
    );
    // c is the newest (kept by retain.min), b is still on the source, a is gone from it.
    expect(plan.kept.map((u) => u.name)).toEqual(["savepoint-c", "savepoint-b"]);
    expect(plan.deletions.map((d) => d.path)).toEqual([
      `${TARGET_ROOT}/.ckpt-replicator/records/_root/savepoint-a.json`,
      `${TARGET_ROOT}/savepoint-a/_metadata`,
      `${TARGET_ROOT}/savepoint-a`,
    ]);
  });
});

describe("planReap: shared files", () => {
  it("deletes a shared file only when no kept checkpoint references it and the source no longer has it", () => {
    const kept = chk(TARGET_ROOT, 5);
    const dropped = chk(TARGET_ROOT, 2);
    const plan = planReap(
      input({
        sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 5)], ["on-source-unreferenced"]),
        targetJob: job(TARGET_ROOT, [dropped, kept], ["referenced", "on-source-unreferenced", "orphan", "only-dropped-needs-it"]),
        published: [published(kept, [targetShared("referenced")]), published(dropped, [targetShared("only-dropped-needs-it")])],
      }),
    );
    const sharedDeletions = plan.deletions.filter((d) => d.path.includes("/shared/"));
    expect(sharedDeletions.map((d) => d.path).sort()).toEqual([targetShared("only-dropped-needs-it"), targetShared("orphan")]);
    expect(sharedDeletions.every((d) => !d.recursive)).toBe(true);
  });

  it("keeps a shared file another job's checkpoint references (a job restored from this one)", () => {
    const kept = chk(TARGET_ROOT, 5);
    const plan = planReap(
      input({
        targetJob: job(TARGET_ROOT, [kept], ["used-by-other-job", "orphan"]),
        published: [published(kept, [])],
        otherJobs: { referenced: new Set([targetShared("used-by-other-job")]), known: true },
      }),
    );
    expect(paths(plan)).toContain(targetShared("orphan"));
    expect(paths(plan)).not.toContain(targetShared("used-by-other-job"));
  });

  it("deletes nothing of its own while another job's references are unknown", () => {
    const kept = chk(TARGET_ROOT, 5);
    const plan = planReap(
      input({ targetJob: job(TARGET_ROOT, [kept], ["orphan"]), published: [published(kept, [])], otherJobs: { referenced: new Set(), known: false } }),
    );
    expect(paths(plan)).not.toContain(targetShared("orphan"));
    expect(plan.held).toMatch(/references are unknown/);
  });

  it("keeps every shared file while a kept checkpoint's references are unknown", () => {
    const kept = chk(TARGET_ROOT, 5);
    const plan = planReap(input({ targetJob: job(TARGET_ROOT, [kept], ["orphan"]), published: [published(kept, null)] }));
    expect(paths(plan)).not.toContain(targetShared("orphan"));
    expect(plan.held).toMatch(/references are unknown/);
  });
});

describe("planReap: holding back", () => {
  // A target with something to reap of every kind: a dropped checkpoint, an orphan shared file, an
  // unpublished leftover, and one stale and one fresh temporary.
  const dropped = chk(TARGET_ROOT, 2, { entries: [file(".state.ckpt-tmp.aaaaaa", { mtime: NOW - GRACE - 1 })] });
  const leftover = chk(TARGET_ROOT, 1, { metadata: false });
  const kept = chk(TARGET_ROOT, 5);
  const staleTemp = file(".x.ckpt-tmp.bbbbbb", { mtime: NOW - GRACE - 1 });
  const freshTemp = file(".y.ckpt-tmp.cccccc", { mtime: NOW - 5 });
  const targetUnits = [leftover, dropped, kept];
  const base = {
    targetJob: job(TARGET_ROOT, targetUnits, ["orphan", staleTemp, freshTemp]),
    published: [published(dropped), published(kept)],
    sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 5)]),
  };
  const onlyStaleTemps = [`${targetUnitDir(2)}/.state.ckpt-tmp.aaaaaa`, targetShared(staleTemp.name)];

  it("reaps everything when the views are healthy and complete (the baseline for the cases below)", () => {
    const plan = planReap(input(base));
    expect(plan.held).toBeNull();
    expect(paths(plan)).toEqual(expect.arrayContaining([record(2), targetUnitDir(2), targetUnitDir(1), targetShared("orphan"), targetShared(staleTemp.name)]));
    // The temporary inside chk-2 goes with its directory; the fresh temporary stays.
    expect(paths(plan)).not.toContain(`${targetUnitDir(2)}/.state.ckpt-tmp.aaaaaa`);
    expect(paths(plan)).not.toContain(targetShared(freshTemp.name));
  });

  it.each([
    ["the source root is unhealthy", { sourceHealthy: false }, /source root looks unhealthy/],
    ["the source job listing is incomplete", { sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 5)], [], false) }, /source listing of .* is incomplete/],
    ["the target job listing is incomplete", { targetJob: job(TARGET_ROOT, targetUnits, ["orphan", staleTemp, freshTemp], false) }, /target listing of .* is incomplete/],
    ["a target _metadata is unreadable", { unreadable: [chk(TARGET_ROOT, 6)] }, /references are unknown/],
  ])("deletes nothing but stale temporaries when %s", (_why, override, heldReason) => {
    const plan = planReap(input({ ...base, ...override }));
    expect(plan.held).toMatch(heldReason);
    expect(paths(plan).sort()).toEqual([...onlyStaleTemps].sort());
    expect(plan.deletions.every((d) => d.reason === "stale temporary file")).toBe(true);
  });
});

describe("planReap: unpublished leftovers and temporaries", () => {
  it("removes copies without _metadata older than the newest published one and outside retain.max, or gone from the source; keeps the rest", () => {
    const kept = chk(TARGET_ROOT, 5);
    const older = chk(TARGET_ROOT, 3, { metadata: false });
    const inProgress = chk(TARGET_ROOT, 7, { metadata: false });
    const abortedOnSource = chk(TARGET_ROOT, 8, { metadata: false });
    const plan = planReap(
      input({
        sourceJob: job(SOURCE_ROOT, [3, 5, 7].map((id) => chk(SOURCE_ROOT, id))),
        targetJob: job(TARGET_ROOT, [older, kept, inProgress, abortedOnSource]),
        published: [published(kept)],
        retain: { min: 1, max: 2 },
      }),
    );
    expect(plan.deletions).toEqual([
      { path: targetUnitDir(3), recursive: true, reason: "unpublished copy of a superseded checkpoint", unit: "chk-3" },
      { path: targetUnitDir(8), recursive: true, reason: "unpublished copy of a checkpoint the source no longer has", unit: "chk-8" },
    ]);
  });

  it("keeps an unpublished copy of an older checkpoint the target would still keep (resync publishes it)", () => {
    const kept = chk(TARGET_ROOT, 5);
    const older = chk(TARGET_ROOT, 3, { metadata: false });
    const plan = planReap(
      input({ sourceJob: job(SOURCE_ROOT, [3, 5].map((id) => chk(SOURCE_ROOT, id))), targetJob: job(TARGET_ROOT, [older, kept]), published: [published(kept)] }),
    );
    expect(paths(plan)).toEqual([]);
  });

  it("removes the record of an unpublished copy before its directory (a lost _metadata the source no longer has)", () => {
    const kept = chk(TARGET_ROOT, 5);
    const lost = chk(TARGET_ROOT, 4, { metadata: false });
    const plan = planReap(
      input({ sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 5)]), targetJob: job(TARGET_ROOT, [lost, kept]), published: [published(kept)], records: new Set(["chk-4", "chk-5"]) }),
    );
    expect(paths(plan)).toEqual([record(4), targetUnitDir(4)]);
  });

  it("tells a reused job directory's chk-N from the previous run's: same name, other completion time", () => {
    // The target holds the old run's chk-2 and chk-3; the new run (ids from 1 again) has completed chk-1..chk-3.
    const oldRun = [2, 3].map((id) => chk(TARGET_ROOT, id));
    const newer = { ...chk(TARGET_ROOT, 1), metadata: file("_metadata", { length: 100, mtime: 50_000 }) };
    const source = [1, 2, 3].map((id) => ({ ...chk(SOURCE_ROOT, id), metadata: file("_metadata", { length: 100, mtime: 49_000 + id * 1000 }) }));
    const plan = planReap(
      input({
        sourceJob: job(SOURCE_ROOT, source),
        sourceCompleted: new Map(source.map((u) => [u.name, u.metadata.mtime])),
        targetJob: job(TARGET_ROOT, [...oldRun, newer]),
        published: [...oldRun, newer].map((u) => published(u)),
      }),
    );
    // Newest by completion is the new run's chk-1 (kept); the old run's checkpoints are not on the source.
    expect(plan.kept.map((u) => u.name)).toEqual(["chk-1"]);
    expect(new Set(plan.deletions.map((d) => d.unit))).toEqual(new Set(["chk-2", "chk-3"]));
    expect(plan.deletions.every((d) => d.reason === "subsumed on the source")).toBe(true);
  });

  it("never deletes an unpublished directory that holds a file a kept checkpoint references", () => {
    const kept = chk(TARGET_ROOT, 5);
    const older = chk(TARGET_ROOT, 3, { metadata: false, entries: [file("state")] });
    const plan = planReap(input({ targetJob: job(TARGET_ROOT, [older, kept]), published: [published(kept, [`${targetUnitDir(3)}/state`])] }));
    expect(paths(plan)).toEqual([]);
  });

  it("removes our temporaries only once they are older than tempGrace, and never other hidden files", () => {
    const kept = chk(TARGET_ROOT, 5, {
      entries: [file(".a.ckpt-tmp.000001", { mtime: NOW - GRACE - 1 }), file(".a.ckpt-tmp.000002", { mtime: NOW - GRACE + 1000 }), file(".hidden-by-someone", { mtime: 0 })],
    });
    const plan = planReap(
      input({
        sourceJob: job(SOURCE_ROOT, [chk(SOURCE_ROOT, 5)], [".s.ckpt-tmp.000003", ".s.ckpt-tmp.000004"]),
        targetJob: job(TARGET_ROOT, [kept], [file(".s.ckpt-tmp.000003", { mtime: 0 }), file(".s.ckpt-tmp.000004", { mtime: NOW })]),
        published: [published(kept)],
      }),
    );
    expect(paths(plan).sort()).toEqual([`${targetUnitDir(5)}/.a.ckpt-tmp.000001`, targetShared(".s.ckpt-tmp.000003")].sort());
  });

  it("removes a record write's temporary once stale, even while deletions are held (the records directory has no other sweeper)", () => {
    const kept = chk(TARGET_ROOT, 5);
    const recordsDir = `${TARGET_ROOT}/.ckpt-replicator/records/j`;
    const recordTemporaries = [
      { path: `${recordsDir}/.chk-4.json.ckpt-tmp.000005`, mtime: NOW - GRACE - 1 },
      { path: `${recordsDir}/.chk-5.json.ckpt-tmp.000006`, mtime: NOW - GRACE + 1000 },
    ];
    for (const sourceHealthy of [true, false]) {
      const plan = planReap(input({ targetJob: job(TARGET_ROOT, [kept]), published: [published(kept)], recordTemporaries, sourceHealthy }));
      expect(paths(plan)).toEqual([`${recordsDir}/.chk-4.json.ckpt-tmp.000005`]);
    }
  });
});
