// Cross-check against real Flink files (../shared fixtures): the handle kinds and
// RocksDB file naming the simulator writes also occur in real RocksDB checkpoints,
// and shared files are named the way a real HDFS incremental checkpoint names them.

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { handleTypeCounts, parseMetadata, referenceClosure, walkHandles, type CheckpointMetadata } from "../../../src/flink/index.js";
import { FlinkJobSimulator } from "../../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../../src/storage/local.js";
import { describeWithShared } from "../../helpers/shared.js";
import { readMetadata } from "./helpers.js";

const REAL_ROCKSDB_CHECKPOINTS = [
  "flink-1.17-rocksdb-checkpoint-unaligned",
  "flink-1.19-rocksdb-checkpoint",
  "flink-1.20-rocksdb-checkpoint-broadcast",
  "realworld-flink-1.x-rocksdb-incremental-checkpoint-hdfs",
];

/** Local paths (RocksDB file names) of every incremental handle's shared and private entries. */
function rocksDbFileNames(md: CheckpointMetadata): string[] {
  const names: string[] = [];
  walkHandles(md, {
    keyed(h) {
      if (h.type === "incremental") names.push(...h.sharedState.map((e) => e.localPath), ...h.privateState.map((e) => e.localPath));
    },
  });
  return names;
}

describeWithShared("simulated checkpoints look like real Flink RocksDB checkpoints", (shared) => {
  let tmp: string;
  let simulated: CheckpointMetadata;
  let sim: FlinkJobSimulator;
  const real = REAL_ROCKSDB_CHECKPOINTS.map((name) => parseMetadata(readFileSync(join(shared, "fixtures", "flink-metadata", name, "_metadata"))));

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "simulator-real-"));
    const storage = new LocalStorage("local");
    sim = new FlinkJobSimulator({ storage, fsUri: "hdfs://hdfs1", root: `${tmp}/cp`, stateSizeBytes: 64 * 1024, channelState: true, retained: 3 });
    await sim.checkpointOnce();
    await sim.checkpointOnce();
    simulated = await readMetadata(storage, sim.retained()[1]!);
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("uses only handle kinds that real RocksDB checkpoints contain", () => {
    const realKinds = new Set(real.flatMap((md) => Object.keys(handleTypeCounts(md))));
    const ours = Object.keys(handleTypeCounts(simulated));
    expect(ours.length).toBeGreaterThanOrEqual(6);
    // the real unaligned checkpoint only had output buffers in flight; input channel handles share its layout (spec section 11)
    expect(ours.filter((k) => !realKinds.has(k) && k !== "InputChannelStateHandle")).toEqual([]);
    expect(realKinds.has("ResultSubpartitionStateHandle") && ours.includes("ResultSubpartitionStateHandle")).toBe(true);
  });

  it("names RocksDB files like real Flink does", () => {
    const pattern = /^(\d{6}\.sst|MANIFEST-\d{6}|OPTIONS-\d{6}|CURRENT)$/;
    const realNames = real.flatMap(rocksDbFileNames);
    expect(realNames.length).toBeGreaterThan(20);
    expect(realNames.filter((n) => !pattern.test(n))).toEqual([]);
    expect(rocksDbFileNames(simulated).filter((n) => !pattern.test(n))).toEqual([]);
  });

  it("places shared files as <job>/shared/<uuid> like the real HDFS incremental checkpoint", () => {
    const sharedName = /\/[0-9a-f]{32}\/shared\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const realShared = referenceClosure(real[3]!, "hdfs://x/chk-1").filter((r) => r.location.includes("/shared/"));
    expect(realShared.length).toBeGreaterThan(0);
    expect(realShared.filter((r) => !sharedName.test(r.location))).toEqual([]);
    const ours = referenceClosure(simulated, sim.layout.uri(sim.retained()[1]!.dir)).filter((r) => r.shared);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((r) => !sharedName.test(r.location) || !r.location.startsWith(`hdfs://hdfs1${sim.jobDir}/shared/`))).toEqual([]);
  });
});
