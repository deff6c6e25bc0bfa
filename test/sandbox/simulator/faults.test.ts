// Fault paths of the simulator: a failing state write or `_metadata` write, an
// abort in the middle of a checkpoint, failing deletes during subsumption, an
// occupied job directory and invalid options. After a failure the tree holds
// only retained checkpoints and the next checkpoint works.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CheckpointAbortedError,
  FlinkJobSimulator,
  SimulatorConflictError,
  SimulatorError,
  type SimulatorOptions,
} from "../../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../../src/storage/local.js";
import { StorageError } from "../../../src/storage/errors.js";
import { UsageError } from "../../../src/util/errors.js";
import { capturingLogger, fileTree, parsedClosure, RecordingStorage } from "./helpers.js";

let tmp: string;
let recording: RecordingStorage;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "simulator-faults-"));
  recording = new RecordingStorage(new LocalStorage("local"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const opts = (o: Partial<SimulatorOptions> = {}): SimulatorOptions => ({
  storage: recording,
  fsUri: "file:",
  root: `${tmp}/cp`,
  stateSizeBytes: 64 * 1024,
  intervalMs: 0,
  retained: 2,
  ...o,
});

/** The job tree holds exactly the retained checkpoints' files and `_metadata` files. */
async function expectOnlyRetained(sim: FlinkJobSimulator): Promise<void> {
  const expected = new Map<string, number>();
  for (const c of sim.retained()) {
    for (const f of c.files) expected.set(f.path, f.size);
    expected.set(c.metadataPath, c.metadataSize);
    expect(await parsedClosure(sim, recording, c)).toEqual(c.files.map(({ path, size }) => ({ path, size })));
  }
  expect(new Map([...(await fileTree(recording, sim.jobDir))].sort())).toEqual(new Map([...expected].sort()));
}

const diskFull = () => Object.assign(new Error("no space left on device"), { code: "ENOSPC" });

describe("simulator fault paths", () => {
  it("a failing state write fails the checkpoint with a typed error, removes its files, and the next checkpoint gets the next id", async () => {
    const sim = new FlinkJobSimulator(opts({ taskOwnedState: true }));
    await sim.checkpointOnce();
    let writes = 0;
    recording.fail = (c) => (c.op === "write" && c.path.includes("/shared/") && ++writes === 3 ? diskFull() : null);
    const err = await sim.checkpointOnce().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorError);
    const e = err as SimulatorError;
    expect(e).toMatchObject({ kind: "simulator", operation: "write", checkpointId: 2, jobId: sim.jobId });
    expect(e.path).toMatch(new RegExp(`^${sim.jobDir}/shared/[0-9a-f-]{36}$`));
    expect(e.message).toContain("no space left on device");
    expect(sim.retained().map((c) => c.id)).toEqual([1]);
    await expectOnlyRetained(sim);

    recording.fail = () => null;
    const next = await sim.checkpointOnce();
    expect(next.checkpointId).toBe(3);
    expect(sim.retained().map((c) => c.id)).toEqual([1, 3]);
    await expectOnlyRetained(sim);
  });

  it("a failing _metadata write leaves no checkpoint behind", async () => {
    const sim = new FlinkJobSimulator(opts());
    await sim.checkpointOnce();
    recording.fail = (c) => (c.op === "write" && c.path.endsWith("/chk-2/_metadata") ? diskFull() : null);
    const err = (await sim.checkpointOnce().catch((e: unknown) => e)) as SimulatorError;
    expect(err).toMatchObject({ operation: "write-metadata", path: `${sim.jobDir}/chk-2/_metadata`, checkpointId: 2 });
    await expectOnlyRetained(sim);
    expect((await fileTree(recording, sim.jobDir)).has(`${sim.jobDir}/chk-2`)).toBe(false);
  });

  it("the storage's own error (what failed, errno) stays reachable as the cause", async () => {
    const sim = new FlinkJobSimulator(opts());
    await sim.checkpointOnce();
    // make the next checkpoint's directory a file: the real mkdirs fails with the LocalStorage error
    await recording.inner.write(`${sim.jobDir}/chk-2`, Buffer.from("in the way"));
    const err = (await sim.checkpointOnce().catch((e: unknown) => e)) as SimulatorError;
    expect(err).toMatchObject({ operation: "mkdirs", path: `${sim.jobDir}/chk-2` });
    expect(err.cause).toBeInstanceOf(StorageError);
    expect(err.cause).toMatchObject({ reason: "exists", operation: "mkdirs" });
    expect((err.cause as StorageError).cause).toMatchObject({ code: "EEXIST" });
  });

  it("aborting in the middle of a checkpoint discards it; run() then resolves", async () => {
    const sim = new FlinkJobSimulator(opts({ stateSizeBytes: 8 * 1024 * 1024 }));
    await sim.checkpointOnce();
    const controller = new AbortController();
    let writes = 0;
    recording.onWrite = (path) => {
      if (path.includes("/chk-2/") || path.includes("/shared/")) if (++writes === 2) controller.abort();
    };
    const err = await sim.checkpointOnce(controller.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointAbortedError);
    expect(err).toMatchObject({ kind: "simulator-aborted", checkpointId: 2, jobId: sim.jobId });
    expect(sim.retained().map((c) => c.id)).toEqual([1]);
    await expectOnlyRetained(sim);

    const again = new AbortController();
    writes = 0;
    recording.onWrite = () => {
      if (++writes === 5) again.abort();
    };
    await expect(sim.run({ signal: again.signal })).resolves.toBeUndefined();
    await expectOnlyRetained(sim);
    await expect(sim.checkpointOnce(AbortSignal.abort())).rejects.toMatchObject({ kind: "simulator-aborted", checkpointId: null });
  });

  it("a failing delete during subsumption is logged and counted, and the job goes on", async () => {
    const { logger, lines } = capturingLogger();
    const subsumed: { checkpointId: number; failedDeletes: number }[] = [];
    const sim = new FlinkJobSimulator(opts({ retained: 1, logger, onSubsumed: (e) => subsumed.push(e) }));
    await sim.checkpointOnce();
    const victim = sim.retained()[0]!;
    const exclusive = victim.files.find((f) => !f.shared)!;
    recording.fail = (c) => (c.op === "delete" && c.path === exclusive.path ? Object.assign(new Error("permission denied"), { code: "EACCES" }) : null);
    await sim.checkpointOnce();
    // the exclusive file stays, so the non-recursive directory delete fails too
    expect(subsumed).toEqual([expect.objectContaining({ checkpointId: 1, failedDeletes: 2 })]);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((w) => w.path)).toEqual([exclusive.path, victim.dir]);
    expect(String(warnings[0]!.err)).toContain("permission denied");
    recording.fail = () => null;
    await expect(sim.checkpointOnce()).resolves.toMatchObject({ checkpointId: 3 });
  });

  it("refuses a job directory that already holds checkpoints", async () => {
    const first = new FlinkJobSimulator(opts({ seed: 5 }));
    await first.checkpointOnce();
    const second = new FlinkJobSimulator(opts({ seed: 5 }));
    const err = await second.checkpointOnce().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorConflictError);
    expect(err).toMatchObject({ jobDir: first.jobDir, existing: ["chk-1"] });
    const other = new FlinkJobSimulator(opts({ seed: 6 }));
    await expect(other.checkpointOnce()).resolves.toMatchObject({ checkpointId: 1 });
  });

  it("rejects a second checkpointOnce() while one is running", async () => {
    const sim = new FlinkJobSimulator(opts());
    const running = sim.checkpointOnce();
    await expect(sim.checkpointOnce()).rejects.toBeInstanceOf(UsageError);
    await running;
  });

  it.each<[string, Partial<SimulatorOptions>, RegExp]>([
    ["job id", { jobId: "ABC" }, /job id must be 32 lowercase hex/],
    ["format version 2", { formatVersion: 2 }, /formatVersion must be an integer from 3 to 7/],
    ["fs uri with a path", { fsUri: "hdfs://nn1/flink" }, /fsUri/],
    ["relative root", { root: "flink/cp" }, /root must be an absolute path/],
    ["reuse fraction", { sharedReuseFraction: 1.5 }, /sharedReuseFraction/],
    ["parallelism above max parallelism", { parallelism: 200, maxParallelism: 128 }, /maxParallelism/],
    ["path style", { paths: "weird" as "relative" }, /paths must be/],
  ])("rejects an invalid %s with a UsageError", (_name, bad, message) => {
    expect(() => new FlinkJobSimulator(opts(bad))).toThrow(UsageError);
    expect(() => new FlinkJobSimulator(opts(bad))).toThrow(message);
  });
});
