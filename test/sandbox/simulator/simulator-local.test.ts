// The simulator against a local directory: what it writes parses as Flink
// metadata whose closure is exactly the files it wrote, subsumption in Flink's
// discard order without orphans, determinism by seed, format versions, path
// styles and the optional kinds of state.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { handleTypeCounts, inlineStateSummary, referenceClosure } from "../../../src/flink/index.js";
import { FlinkJobSimulator, type SimulatorOptions } from "../../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../../src/storage/local.js";
import { dirTree, fileTree, parsedClosure, readMetadata, RecordingStorage, treeDigests } from "./helpers.js";

let tmp: string;
let storage: LocalStorage;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "simulator-"));
  storage = new LocalStorage("local");
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const small = (o: Partial<SimulatorOptions> = {}): SimulatorOptions => ({
  storage,
  fsUri: "file:",
  root: `${tmp}/cp`,
  stateSizeBytes: 64 * 1024,
  intervalMs: 0,
  ...o,
});

/** Checks that every retained checkpoint's parsed closure equals what the simulator says it wrote and the files exist with those sizes. */
async function expectClosuresMatch(sim: FlinkJobSimulator, s = storage as Parameters<typeof parsedClosure>[1]): Promise<void> {
  const tree = await fileTree(s, sim.jobDir);
  for (const c of sim.retained()) {
    const closure = await parsedClosure(sim, s, c);
    expect(closure).toEqual(c.files.map(({ path, size }) => ({ path, size })));
    for (const f of c.files) expect(tree.get(f.path), f.path).toBe(f.size);
    expect(tree.get(c.metadataPath)).toBe(c.metadataSize);
  }
}

describe("checkpoints written by the simulator", () => {
  it("writes the Flink layout and a _metadata whose closure is exactly the files written, with their sizes", async () => {
    const sim = new FlinkJobSimulator(small({ retained: 10 }));
    expect(sim.jobId).toMatch(/^[0-9a-f]{32}$/);
    const events = [];
    for (let i = 0; i < 3; i++) events.push(await sim.checkpointOnce());
    expect(events.map((e) => e.checkpointId)).toEqual([1, 2, 3]);
    expect(sim.retained().map((c) => c.dir)).toEqual([1, 2, 3].map((n) => `${tmp}/cp/${sim.jobId}/chk-${n}`));
    await expectClosuresMatch(sim);

    const tree = await fileTree(storage, sim.jobDir);
    const relative = [...tree.keys()].map((p) => p.slice(sim.jobDir.length + 1));
    expect(relative.every((p) => /^(chk-[123]\/([0-9a-f-]{36}|_metadata)|shared\/[0-9a-f-]{36})$/.test(p)), relative.join("\n")).toBe(true);
    for (const e of events) {
      expect(e.files).toBe(sim.retained()[e.checkpointId - 1]!.files.length);
      expect(e.newBytes).toBeGreaterThan(0);
      expect(e.bytes).toBeGreaterThanOrEqual(e.newBytes);
    }
    // the first checkpoint wrote everything it references; later ones reuse SSTs
    expect(events[0]!.newFiles).toBe(events[0]!.files);
    expect(events[2]!.newFiles).toBeLessThan(events[2]!.files);
  });

  it("models RocksDB incremental state: per-subtask backends, SSTs reused by fraction, private files in chk-<n>", async () => {
    const sim = new FlinkJobSimulator(small({ retained: 5, operators: 2, parallelism: 3, newSharedFilesPerSubtask: 2, sharedReuseFraction: 0.5 }));
    await sim.checkpointOnce();
    await sim.checkpointOnce();
    const [c1, c2] = sim.retained();
    const md = await readMetadata(storage, c2!);
    expect(md.operators).toHaveLength(2);
    expect(handleTypeCounts(md)["IncrementalRemoteKeyedStateHandle(v2)"]).toBe(6);
    const shared1 = new Set(c1!.files.filter((f) => f.shared).map((f) => f.path));
    const shared2 = c2!.files.filter((f) => f.shared).map((f) => f.path);
    const reused = shared2.filter((p) => shared1.has(p));
    expect(reused.length).toBeGreaterThan(0);
    expect(reused.length).toBeLessThan(shared1.size);
    expect(shared2.length - reused.length).toBe(2 * 3 * 2);
    for (const op of md.operators) {
      for (const st of op.subtasks) {
        const keyed = st.state!.managedKeyedState;
        if (keyed.type !== "incremental") throw new Error("expected incremental keyed state");
        expect(keyed.checkpointId).toBe(2n);
        expect(keyed.privateState.map((e) => e.localPath.replace(/\d+/, "N"))).toEqual(["MANIFEST-N", "CURRENT", "OPTIONS-N"]);
        expect(keyed.sharedState.every((e) => /^\d{6}\.sst$/.test(e.localPath))).toBe(true);
      }
    }
    // key groups of one operator's subtasks tile [0, maxParallelism)
    const ranges = md.operators[0]!.subtasks.map((s) => (s.state!.managedKeyedState as { keyGroups: { start: number; count: number } }).keyGroups);
    expect(ranges).toEqual([{ start: 0, count: 43 }, { start: 43, count: 43 }, { start: 86, count: 42 }]);

    const none = new FlinkJobSimulator(small({ root: `${tmp}/none`, retained: 5, sharedReuseFraction: 0 }));
    await none.checkpointOnce();
    const e = await none.checkpointOnce();
    expect(e.newFiles).toBe(e.files);
    const all = new FlinkJobSimulator(small({ root: `${tmp}/all`, retained: 5, sharedReuseFraction: 1 }));
    const a1 = await all.checkpointOnce();
    const a2 = await all.checkpointOnce();
    const sharedOf = (i: number) => all.retained()[i]!.files.filter((f) => f.shared).length;
    expect(sharedOf(1)).toBe(sharedOf(0) * 2);
    expect(a2.files - a2.newFiles).toBe(sharedOf(0));
    expect(a1.checkpointId).toBe(1);
  });

  it("subsumption leaves exactly the retained closures and their _metadata files", async () => {
    const sim = new FlinkJobSimulator(small({ retained: 2, channelState: true, taskOwnedState: true }));
    const subsumed: number[] = [];
    const sim2 = new FlinkJobSimulator(small({ root: `${tmp}/cp2`, retained: 3, onSubsumed: (e) => subsumed.push(e.checkpointId) }));
    for (let i = 0; i < 6; i++) {
      await sim.checkpointOnce();
      await sim2.checkpointOnce();
    }
    expect(subsumed).toEqual([1, 2, 3]);
    for (const s of [sim, sim2]) {
      const retained = s.retained();
      const expected = new Map<string, number>();
      for (const c of retained) {
        for (const f of c.files) expected.set(f.path, f.size);
        expected.set(c.metadataPath, c.metadataSize);
      }
      expect(new Map([...(await fileTree(storage, s.jobDir))].sort())).toEqual(new Map([...expected].sort()));
      const chkDirs = (await dirTree(storage, s.jobDir)).filter((d) => /\/chk-\d+$/.test(d));
      expect(chkDirs).toEqual(retained.map((c) => c.dir).sort());
    }
    expect(sim.retained().map((c) => c.id)).toEqual([5, 6]);
    await expectClosuresMatch(sim);
  });

  it("discards in Flink's order: exclusive state files, then _metadata, then the directory, then unreferenced shared files", async () => {
    const recording = new RecordingStorage(storage);
    const events: string[] = [];
    const sim = new FlinkJobSimulator(
      small({ storage: recording, retained: 1, sharedReuseFraction: 0.5, onSubsumed: (e) => events.push(`subsumed ${e.checkpointId} ${e.deletedFiles}`) }),
    );
    await sim.checkpointOnce();
    const [first] = sim.retained();
    recording.calls.length = 0;
    const written = await sim.checkpointOnce();
    const [second] = sim.retained();
    const deletes = recording.calls.filter((c) => c.op === "delete");
    const exclusive = first!.files.filter((f) => !f.shared).map((f) => f.path);
    const stillUsed = new Set(second!.files.map((f) => f.path));
    const droppedShared = first!.files.filter((f) => f.shared && !stillUsed.has(f.path)).map((f) => f.path);
    expect(exclusive.length).toBeGreaterThan(0);
    expect(droppedShared.length).toBeGreaterThan(0);
    const paths = deletes.map((d) => d.path);
    expect(paths.slice(0, exclusive.length).sort()).toEqual(exclusive.sort());
    expect(paths[exclusive.length]).toBe(first!.metadataPath);
    expect(deletes[exclusive.length + 1]).toEqual({ op: "delete", path: first!.dir, recursive: false });
    expect(paths.slice(exclusive.length + 2).sort()).toEqual(droppedShared.sort());
    // every state write and the _metadata of checkpoint 2 happen before any delete
    const firstDelete = recording.calls.findIndex((c) => c.op === "delete");
    const metadataWrite = recording.calls.findIndex((c) => c.op === "write" && c.path === second!.metadataPath);
    expect(metadataWrite).toBeLessThan(firstDelete);
    expect(recording.calls.slice(0, metadataWrite).filter((c) => c.op === "write")).toHaveLength(written.newFiles);
    expect(events).toEqual([`subsumed 1 ${exclusive.length + droppedShared.length}`]);
  });

  it("is deterministic by seed: same ids, names and bytes; another seed differs", async () => {
    const run = async (seed: number) => {
      const root = `${tmp}/det`;
      const sim = new FlinkJobSimulator(small({ root, seed, retained: 2, channelState: true, taskOwnedState: true, fileSizeSpread: 1 }));
      await sim.run({ count: 3 });
      const digests = await treeDigests(storage, root);
      await rm(root, { recursive: true });
      return { jobId: sim.jobId, digests };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(Object.keys(a.digests).length).toBeGreaterThan(10);
    expect(b).toEqual(a);
    expect(c.jobId).not.toBe(a.jobId);
    expect(Object.values(c.digests).some((d) => Object.values(a.digests).includes(d))).toBe(false);
  });

  it.each([3, 4, 5, 6, 7])("writes format version %i that parses back with the same closure", async (version) => {
    const sim = new FlinkJobSimulator(small({ formatVersion: version, channelState: true, retained: 2 }));
    await sim.checkpointOnce();
    await sim.checkpointOnce();
    const md = await readMetadata(storage, sim.retained()[1]!);
    expect(md.version).toBe(version);
    expect(md.checkpointId).toBe(2n);
    expect(md.propertiesTrailer !== undefined).toBe(version >= 4);
    expect(md.operators[0]!.name).toBe(version >= 5 ? "Source: simulated" : undefined);
    await expectClosuresMatch(sim);
  });

  it("references exclusive files as relative handles or as absolute URIs", async () => {
    const rel = new FlinkJobSimulator(small({ paths: "relative" }));
    const abs = new FlinkJobSimulator(small({ root: `${tmp}/abs`, paths: "absolute", fsUri: "hdfs://hdfs1" }));
    await rel.checkpointOnce();
    await abs.checkpointOnce();
    const relRefs = referenceClosure(await readMetadata(storage, rel.retained()[0]!), rel.layout.uri(rel.retained()[0]!.dir));
    expect(relRefs.filter((r) => r.relative).map((r) => rel.layout.pathOf(r.location))).toEqual(
      rel.retained()[0]!.files.filter((f) => !f.shared).map((f) => f.path),
    );
    expect(relRefs.filter((r) => !r.relative).every((r) => r.location.startsWith(`file:${tmp}/cp/${rel.jobId}/shared/`))).toBe(true);

    const c = abs.retained()[0]!;
    const absRefs = referenceClosure(await readMetadata(storage, c), `hdfs://elsewhere/x`);
    expect(absRefs.some((r) => r.relative)).toBe(false);
    expect(absRefs.map((r) => r.location)).toEqual(c.files.map((f) => `hdfs://hdfs1${f.path}`));
    await expectClosuresMatch(abs);
  });

  it("channel state, task-owned segments and inline state can each be switched on and off", async () => {
    const on = new FlinkJobSimulator(small({ channelState: true, taskOwnedState: true, inlineState: true, operators: 3 }));
    const off = new FlinkJobSimulator(small({ root: `${tmp}/off`, channelState: false, taskOwnedState: false, inlineState: false, operators: 3 }));
    await on.checkpointOnce();
    await off.checkpointOnce();
    const mdOn = await readMetadata(storage, on.retained()[0]!);
    const mdOff = await readMetadata(storage, off.retained()[0]!);
    const countsOn = handleTypeCounts(mdOn);
    const countsOff = handleTypeCounts(mdOff);
    // 3 operators x 2 subtasks: inputs for operators 1 and 2, outputs for 0 and 1, one channel per upstream/downstream subtask
    expect(countsOn.InputChannelStateHandle).toBe(2 * 2 * 2);
    expect(countsOn.ResultSubpartitionStateHandle).toBe(2 * 2 * 2);
    expect(countsOn.SegmentFileStateHandle).toBeGreaterThan(0);
    expect(inlineStateSummary(mdOn).handles).toBeGreaterThanOrEqual(6); // at least every CURRENT file
    expect(countsOff.InputChannelStateHandle ?? 0).toBe(0);
    expect(countsOff.SegmentFileStateHandle ?? 0).toBe(0);
    expect(inlineStateSummary(mdOff).handles).toBe(1); // only the coordinator state, which Flink always keeps inline
    const taskOwned = on.retained()[0]!.files.filter((f) => f.path.startsWith(`${on.jobDir}/taskowned/`));
    expect(taskOwned).toHaveLength(3 * 2);
    expect((await dirTree(storage, off.jobDir)).map((d) => d.slice(off.jobDir.length))).toEqual(["/chk-1", "/shared", "/taskowned"]);
    await expectClosuresMatch(on);
    await expectClosuresMatch(off);
  });

  it("spreads sizes by the configured distribution and honours the state size", async () => {
    const even = new FlinkJobSimulator(small({ fileSizeSpread: 0, stateSizeBytes: 400_000, operators: 2, parallelism: 2, newSharedFilesPerSubtask: 2 }));
    await even.checkpointOnce();
    const sst = even.retained()[0]!.files.filter((f) => f.shared).map((f) => f.size);
    expect(sst).toEqual(new Array(8).fill(50_000));
    const spread = new FlinkJobSimulator(small({ root: `${tmp}/spread`, fileSizeSpread: 1, stateSizeBytes: 4_000_000, parallelism: 8, newSharedFilesPerSubtask: 4 }));
    await spread.checkpointOnce();
    const sizes = spread.retained()[0]!.files.filter((f) => f.shared).map((f) => f.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(new Set(sizes).size).toBe(sizes.length);
    expect(total).toBeGreaterThan(2_000_000);
    expect(total).toBeLessThan(8_000_000);
  });
});
