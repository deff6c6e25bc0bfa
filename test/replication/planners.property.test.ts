// Property-based tests of the pure planners (issue 7): whatever the listings,
// records, retention and health say, the reap plan never deletes a kept or the
// newest restorable checkpoint, nor a file a kept checkpoint (of this job or
// another) references; it holds back when the view is doubtful; and the publish
// selection agrees with a plain reference model. The properties are judged by
// code written here, not by the planners' own helpers.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planReap, type PublishedUnit, type ReapInput } from "../../src/replication/reap.js";
import { selectForPublishing, type SourceUnit, type TargetUnit } from "../../src/replication/selection.js";
import { lagSecondsOf } from "../../src/replication/job.js";
import { newJobStatus } from "../../src/replication/status.js";
import type { Entry } from "../../src/storage/types.js";
import type { TreeJob, TreeUnit } from "../../src/replication/scan.js";

const SRC = "/flink/checkpoints";
const DST = "/dr/flink";
const JOB = "j";
const NOW = 10_000_000;

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

interface World {
  input: ReapInput;
  /** Every kept candidate's references, for the judge. */
  allReferences: Map<string, Set<string>>;
}

const unitArb = fc.record({
  id: fc.integer({ min: 1, max: 30 }),
  completedAt: fc.integer({ min: 1_000, max: 9_000_000 }),
  hasMetadata: fc.boolean(),
  published: fc.boolean(),
  onSource: fc.constantFrom("same", "other-run", "absent", "in-progress"),
  hasRecord: fc.boolean(),
  exclusive: fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 2 }),
  sharedRefs: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 4 }),
  unknownRefs: fc.boolean(),
});

const worldArb = fc
  .record({
    units: fc.uniqueArray(unitArb, { selector: (u) => u.id, minLength: 0, maxLength: 8 }),
    sharedOnTarget: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 10 }),
    sharedOnSource: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 10 }),
    otherJobRefs: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
    otherKnown: fc.boolean(),
    retainMin: fc.integer({ min: 1, max: 3 }),
    retainExtra: fc.integer({ min: 0, max: 3 }),
    sourceHealthy: fc.boolean(),
    sourceComplete: fc.boolean(),
    targetComplete: fc.boolean(),
    temps: fc.array(fc.record({ old: fc.boolean(), shared: fc.boolean() }), { maxLength: 3 }),
  })
  .map((w): World => {
    const file = (name: string, mtime = 1_000, length = 10): Entry => ({ name, type: "file", length, mtime });
    const shared = (n: number) => `${DST}/${JOB}/shared/sst-${n}`;
    const targetUnits: TreeUnit[] = [];
    const published: PublishedUnit[] = [];
    const sourceUnits: TreeUnit[] = [];
    const sourceCompleted = new Map<string, number>();
    const records = new Set<string>();
    const allReferences = new Map<string, Set<string>>();
    for (const u of w.units) {
      const name = `chk-${u.id}`;
      const dir = `${DST}/${JOB}/${name}`;
      const metadata = u.hasMetadata ? file("_metadata", u.completedAt, 100) : null;
      const entries = [...(metadata ? [metadata] : []), ...u.exclusive.map((e) => file(e))];
      const unit: TreeUnit = { jobKey: JOB, root: DST, kind: "checkpoint", name, checkpointId: u.id, dir, metadata, entries };
      targetUnits.push(unit);
      if (u.hasRecord) records.add(name);
      if (metadata && u.published) {
        const refs = new Set([...u.exclusive.map((e) => `${dir}/${e}`), ...u.sharedRefs.map(shared)]);
        allReferences.set(dir, refs);
        published.push({ unit, references: u.unknownRefs ? null : refs });
      }
      if (u.onSource !== "absent") {
        const at = u.onSource === "same" ? u.completedAt : u.completedAt + 77_777;
        const srcMeta = u.onSource === "in-progress" ? null : file("_metadata", at, 100);
        sourceUnits.push({ jobKey: JOB, root: SRC, kind: "checkpoint", name, checkpointId: u.id, dir: `${SRC}/${JOB}/${name}`, metadata: srcMeta, entries: srcMeta ? [srcMeta] : [] });
        if (srcMeta) sourceCompleted.set(name, at);
      }
    }
    // Unreadable target _metadata: those with metadata that are not "published" (parse failed).
    const unreadable = targetUnits.filter((u) => u.metadata !== null && !published.some((p) => p.unit.dir === u.dir));
    const targetShared = new Map<string, Entry>();
    for (const n of w.sharedOnTarget) targetShared.set(shared(n), file(`sst-${n}`));
    w.temps.forEach((t, i) => {
      const name = `.x${i}.ckpt-tmp.00000000000${i}`;
      const e = file(name, t.old ? 1 : NOW - 10);
      if (t.shared || targetUnits.length === 0) targetShared.set(`${DST}/${JOB}/shared/${name}`, e);
      else targetUnits[i % targetUnits.length]!.entries.push(e);
    });
    const sourceShared = new Map<string, Entry>();
    for (const n of w.sharedOnSource) sourceShared.set(`${SRC}/${JOB}/shared/sst-${n}`, file(`sst-${n}`));
    const targetJob: TreeJob = { key: JOB, root: DST, dir: `${DST}/${JOB}`, units: targetUnits, sharedFiles: targetShared, complete: w.targetComplete, problems: [] };
    const sourceJob: TreeJob = { key: JOB, root: SRC, dir: `${SRC}/${JOB}`, units: sourceUnits, sharedFiles: sourceShared, complete: w.sourceComplete, problems: [] };
    const input: ReapInput = {
      sourceJob,
      sourceHealthy: w.sourceHealthy,
      sourceCompleted,
      targetJob,
      targetRoot: DST,
      roots: [{ source: SRC, target: DST }],
      published,
      unreadable,
      records,
      retain: { min: w.retainMin, max: w.retainMin + w.retainExtra },
      tempGraceMs: 1_000,
      now: NOW,
      otherJobs: { referenced: new Set(w.otherJobRefs.map(shared)), known: w.otherKnown },
    };
    return { input, allReferences };
  });

/** Newest first by completion, then id: written here, independently of the planner's ordering. */
function byCompletion(units: PublishedUnit[]): PublishedUnit[] {
  return [...units].sort((a, b) => (b.unit.metadata!.mtime - a.unit.metadata!.mtime) || (b.unit.checkpointId - a.unit.checkpointId));
}

describe("planReap, whatever the view says", () => {
  it("never deletes the newest retain.min restorable checkpoints, anything a kept checkpoint or another job references, or a readable-but-unknown _metadata", () => {
    fc.assert(
      fc.property(worldArb, ({ input }) => {
        const plan = planReap(input);
        const protectedDirs = byCompletion(input.published).slice(0, input.retain.min).map((p) => p.unit.dir);
        const keptDirs = new Set(plan.kept.map((u) => u.dir));
        const referenced = new Set<string>(input.otherJobs?.referenced ?? []);
        for (const p of input.published) if (keptDirs.has(p.unit.dir)) for (const r of p.references ?? []) referenced.add(r);
        const isTemp = (d: { path: string; recursive: boolean }) => !d.recursive && /\/\.[^/]*\.ckpt-tmp\.[0-9a-f]+$/.test(d.path);
        for (const d of plan.deletions) {
          if (isTemp(d)) continue; // stale temporaries are ours to remove anywhere
          for (const dir of protectedDirs) {
            expect(under(d.path, dir) || (d.recursive && under(dir, d.path)), `${d.path} touches the protected ${dir}`).toBe(false);
            expect(d.unit === dir.slice(dir.lastIndexOf("/") + 1) && d.path.includes("/.ckpt-replicator/records/"), `record of protected ${dir}`).toBe(false);
          }
          for (const r of referenced) expect(d.path === r || (d.recursive && under(r, d.path)), `${d.path} removes referenced ${r}`).toBe(false);
          for (const u of input.unreadable) expect(under(d.path, u.dir) && !/\.ckpt-tmp\./.test(d.path), `${d.path} is in unreadable ${u.dir}`).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("deletes nothing but stale temporaries when the source is unhealthy, a listing incomplete or references unknown", () => {
    fc.assert(
      fc.property(worldArb, ({ input }) => {
        const plan = planReap(input);
        const doubtful =
          !input.sourceHealthy ||
          !input.sourceJob!.complete ||
          !input.targetJob.complete ||
          input.unreadable.length > 0 ||
          input.otherJobs?.known === false;
        if (!doubtful) return;
        for (const d of plan.deletions) {
          expect(/\/\.[^/]*\.ckpt-tmp\.[0-9a-f]+$/.test(d.path), `${d.path} deleted while the view is doubtful`).toBe(true);
          expect(d.recursive).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("removes a checkpoint record first, then its _metadata, then its directory; never a fresh temporary", () => {
    fc.assert(
      fc.property(worldArb, ({ input }) => {
        const plan = planReap(input);
        const at = (p: string) => plan.deletions.findIndex((d) => d.path === p);
        for (const u of input.targetJob.units) {
          const rec = at(`${DST}/.ckpt-replicator/records/${JOB}/${u.name}.json`);
          const md = at(`${u.dir}/_metadata`);
          const dir = at(u.dir);
          if (md >= 0 && rec >= 0) expect(rec).toBeLessThan(md);
          if (dir >= 0 && md >= 0) expect(md).toBeLessThan(dir);
          if (dir >= 0 && rec >= 0) expect(rec).toBeLessThan(dir);
          if (u.metadata !== null && dir >= 0) expect(md, `${u.dir} deleted with its _metadata still there`).toBeGreaterThanOrEqual(0);
        }
        for (const d of plan.deletions) {
          if (/\.ckpt-tmp\./.test(d.path)) {
            const e = [...input.targetJob.sharedFiles.entries()].find(([p]) => p === d.path)?.[1] ?? input.targetJob.units.flatMap((u) => u.entries.map((x) => ({ p: `${u.dir}/${x.name}`, x }))).find((y) => y.p === d.path)?.x;
            if (e) expect(NOW - e.mtime).toBeGreaterThan(input.tempGraceMs);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- publish selection against a reference model ----

const unitsArb = fc.uniqueArray(
  fc.record({ id: fc.integer({ min: 1, max: 40 }), completedAt: fc.integer({ min: 1, max: 1_000_000 }).map((t) => t * 2000) }),
  { selector: (u) => u.id, maxLength: 8 },
);

function model(source: SourceUnit[], restorable: TargetUnit[], lost: Set<string>, retainMax: number, complete: boolean) {
  const same = (s: SourceUnit, t: TargetUnit) => s.name === t.name && Math.abs(s.completedAt - t.completedAt) <= 1000;
  const isRestorable = (s: SourceUnit) => restorable.some((t) => same(s, t));
  const newestTargetAt = Math.max(Number.NEGATIVE_INFINITY, ...restorable.filter((t) => t.kind === "checkpoint").map((t) => t.completedAt));
  const ordered = [...source].filter((s) => s.kind === "checkpoint").sort((a, b) => b.completedAt - a.completedAt || b.checkpointId - a.checkpointId);
  const kept = ordered.slice(0, Math.max(1, retainMax)).map((s) => s.name);
  const newer: string[] = [];
  for (const s of ordered) if (!isRestorable(s) && s.completedAt > newestTargetAt && (!complete || kept.includes(s.name))) newer.push(s.name);
  const backfill: string[] = [];
  for (const s of ordered) if (kept.includes(s.name) && !isRestorable(s) && !newer.includes(s.name) && (complete || lost.has(s.name))) backfill.push(s.name);
  return { newer, backfill };
}

describe("selectForPublishing", () => {
  it("agrees with the reference model", () => {
    fc.assert(
      fc.property(
        unitsArb,
        unitsArb,
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        (src, tgt, lostIds, retainMax, complete, copyTimes) => {
          const source: SourceUnit[] = src.map((u) => ({ name: `chk-${u.id}`, kind: "checkpoint", checkpointId: u.id, completedAt: u.completedAt }));
          // Some target units are copies of source units (same completion time), others of another run.
          const restorable: TargetUnit[] = tgt.map((u) => {
            const twin = copyTimes ? source.find((s) => s.checkpointId === u.id) : undefined;
            return { name: `chk-${u.id}`, kind: "checkpoint", checkpointId: u.id, completedAt: twin?.completedAt ?? u.completedAt };
          });
          const lost = new Set(lostIds.map((i) => `chk-${i}`));
          const got = selectForPublishing({ source, restorable, lost, retainMax, complete });
          const want = model(source, restorable, lost, retainMax, complete);
          expect(got.newer.map((s) => s.name)).toEqual(want.newer);
          expect(got.backfill.map((s) => s.name).sort()).toEqual([...want.backfill].sort());
          // Never selects what is already restorable there.
          for (const s of [...got.newer, ...got.backfill]) expect(restorable.some((t) => t.name === s.name && Math.abs(t.completedAt - s.completedAt) <= 1000)).toBe(false);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("detects a new run: newer by completion, lower id", () => {
    const sel = selectForPublishing({
      source: [{ name: "chk-1", kind: "checkpoint", checkpointId: 1, completedAt: 90_000 }],
      restorable: [{ name: "chk-15", kind: "checkpoint", checkpointId: 15, completedAt: 50_000 }],
      lost: new Set(),
      retainMax: 2,
      complete: false,
    });
    expect(sel.newer.map((s) => s.name)).toEqual(["chk-1"]);
    expect(sel.newRun).toEqual({ newestId: 1, previousId: 15 });
  });
});

describe("lag (issue 7, bug 8)", () => {
  const status = (o: { behindSince: number | null; newestSourceCompletedAt: number | null }) => ({ ...newJobStatus("j", "/s", "/t"), ...o });

  it("is 0 only when caught up", () => {
    expect(lagSecondsOf(status({ behindSince: null, newestSourceCompletedAt: 5_000 }), 9_000)).toBe(0);
    expect(lagSecondsOf(status({ behindSince: 5_000, newestSourceCompletedAt: 5_000 }), 5_000)).toBeGreaterThan(0);
  });

  it("never reads 0 while behind, even with the daemon's clock 5 minutes behind the NameNodes", () => {
    const restorableAt = 1_000_000;
    const sourceNewestAt = restorableAt + 4_000;
    const daemonNow = sourceNewestAt - 5 * 60_000;
    expect(lagSecondsOf(status({ behindSince: restorableAt, newestSourceCompletedAt: sourceNewestAt }), daemonNow)).toBe(4);
  });

  it("grows with time while the target cannot be seen", () => {
    const s = status({ behindSince: 1_000_000, newestSourceCompletedAt: 1_002_000 });
    expect(lagSecondsOf(s, 1_025_000)).toBe(25);
    expect(lagSecondsOf(s, 1_060_000)).toBe(60);
  });
});
