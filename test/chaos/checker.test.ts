// The chaos checker must be able to fail: each invariant is shown catching a
// planted violation on a real emulator, without any daemon (the "replication"
// is done by hand with the checker's own probe).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/emulator/index.js";
import { FlinkJobSimulator, type RetainedCheckpoint } from "../../src/sandbox/simulator/index.js";
import { WebHdfsStorage } from "../../src/storage/webhdfs.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { Checker, GroundTruth } from "./checker.js";
import { Probe } from "./probe.js";

const ROOT = "/flink/checkpoints";
let sandbox: Sandbox;
let stateDir: string;
let storage: WebHdfsStorage;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "ckpt-chaos-checker-"));
  sandbox = await startSandbox({ stateDir, userGroups: { copier: ["supergroup"], "ckpt-d1": ["supergroup"], "ckpt-d2": ["supergroup"] } });
  storage = new WebHdfsStorage(new WebHdfsClient({ name: "hdfs1", namenodes: sandbox.endpoints.clusters.hdfs1!.namenodes, user: "flink" }));
});
afterEach(async () => {
  storage.close();
  await sandbox.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function world(repairWindowMs = 60_000) {
  const nn = sandbox.endpoints.clusters;
  const truth = new GroundTruth();
  const sim = new FlinkJobSimulator({
    storage,
    fsUri: "hdfs://hdfs1",
    root: ROOT,
    jobId: "a".repeat(32),
    paths: "absolute",
    stateSizeBytes: 64 * 1024,
    retained: 1,
    onPlanned: (c) => truth.add(c.metadataSha256, { jobId: c.jobId, checkpointId: c.id, run: 1, metadataPath: c.metadataPath, files: c.files }),
  });
  await sim.checkpointOnce();
  const chk = sim.retained()[0] as RetainedCheckpoint;
  const source = new Probe("hdfs1", nn.hdfs1!.namenodes, "flink");
  const copier = new Probe("hdfs2", nn.hdfs2!.namenodes, "copier");
  // Replicate by hand: every file, then the _metadata with hdfs://hdfs1 rewritten to hdfs://hdfs2.
  for (const f of chk.files) await copier.overwrite(f.path, (await source.read(f.path))!);
  const meta = (await source.read(chk.metadataPath))!;
  await copier.overwrite(chk.metadataPath, Buffer.from(meta.toString("latin1").replaceAll("hdfs://hdfs1/", "hdfs://hdfs2/"), "latin1"));
  const daemons = ["ckpt-d1", "ckpt-d2"];
  const checker = new Checker({
    probe: new Probe("hdfs2", nn.hdfs2!.namenodes, "checker"),
    sourceRoot: ROOT,
    targetRoot: ROOT,
    sourceUri: "hdfs://hdfs1",
    targetUri: "hdfs://hdfs2",
    truth,
    sourceRetained: () => sim.retained().length,
    sourceRetains: (_job, _run, id) => sim.retained().some((c) => c.id === id),
    retainMin: 1,
    repairWindowMs,
    sourceWriters: new Set(["flink"]),
    daemonUsers: () => daemons,
    harnessUsers: new Set(["copier", "checker"]),
    startedAt: Date.now(),
  });
  const unobserve = sandbox.faults.observe((r) => checker.onRequest(r));
  return { chk, checker, copier, unobserve, nn };
}

describe("chaos checker", () => {
  it("accepts a correctly replicated checkpoint, and flags a shared file deleted by someone else (closure)", async () => {
    const { chk, checker, copier, unobserve } = await world();
    try {
      const first = await checker.sample();
      expect(first.verdicts.map((v) => [v.checkpointId, v.restorable, v.problems])).toEqual([[chk.id, true, []]]);
      expect(checker.violations).toEqual([]);
      const shared = chk.files.find((f) => f.shared)!;
      await copier.delete(shared.path); // not recorded as our tampering: nobody may do this
      await checker.sample();
      expect(checker.violations.map((v) => v.invariant)).toContain("closure");
      expect(checker.violations[0]!.message).toContain(`missing ${shared.path}`);
    } finally {
      unobserve();
    }
  });

  it("gives a tampered checkpoint its repair window, then flags it; counts its loss as ours (newest)", async () => {
    const { chk, checker, copier, unobserve } = await world(400);
    try {
      await checker.sample();
      const file = chk.files[0]!;
      checker.recordTamper("truncate-shared", file.path);
      await copier.overwrite(file.path, Buffer.alloc(1));
      await checker.sample();
      expect(checker.violations).toEqual([]); // within the window
      await new Promise((r) => setTimeout(r, 500));
      await checker.sample();
      expect(checker.violations.map((v) => v.invariant)).toEqual(["closure"]);
      expect(checker.violations[0]!.message).toMatch(/broken by tampering .* still visible and broken/);
    } finally {
      unobserve();
    }
  });

  it("counts the repair window on the service clock: time with no daemon serving does not use it up", async () => {
    const { chk, checker, copier, unobserve } = await world(400);
    try {
      await checker.sample();
      const file = chk.files[0]!;
      checker.recordTamper("truncate-shared", file.path);
      await copier.overwrite(file.path, Buffer.alloc(1));
      checker.tick(false);
      // 600 ms pass with the daemon down (killed, not restarted yet): the window does not run.
      await new Promise((r) => setTimeout(r, 600));
      checker.tick(true);
      await checker.sample();
      expect(checker.violations).toEqual([]);
      // Then 500 ms with a daemon serving that does not repair it: flagged.
      await new Promise((r) => setTimeout(r, 500));
      checker.tick(false);
      await checker.sample();
      expect(checker.violations.map((v) => v.invariant)).toEqual(["closure"]);
      expect(checker.violations[0]!.message).toMatch(/ms of them with a daemon serving/);
    } finally {
      unobserve();
    }
  });

  it("flags the newest restorable checkpoint disappearing while the source still has it (newest)", async () => {
    const { chk, checker, copier, unobserve } = await world();
    try {
      await checker.sample();
      await copier.delete(chk.metadataPath);
      await checker.sample();
      expect(checker.violations.map((v) => v.invariant).sort()).toEqual(["newest", "retain"]);
    } finally {
      unobserve();
    }
  });

  it("flags any write to the source by anyone but Flink (source), and a stale writer after a newer one (writer)", async () => {
    const { checker, unobserve, nn } = await world();
    try {
      await new Probe("hdfs1", nn.hdfs1!.namenodes, "ckpt-d1").overwrite(`${ROOT}/oops`, Buffer.from("x"));
      await new Probe("hdfs2", nn.hdfs2!.namenodes, "ckpt-d1").overwrite(`${ROOT}/one`, Buffer.from("1"));
      await new Probe("hdfs2", nn.hdfs2!.namenodes, "ckpt-d2").overwrite(`${ROOT}/two`, Buffer.from("2"));
      await new Probe("hdfs2", nn.hdfs2!.namenodes, "ckpt-d1").overwrite(`${ROOT}/three`, Buffer.from("3"));
      await checker.sample();
      const kinds = checker.violations.map((v) => v.invariant).sort();
      expect(kinds).toEqual(["source", "writer"]);
      expect(checker.violations.find((v) => v.invariant === "writer")!.message).toMatch(/ckpt-d1 \(daemon #1\) wrote CREATE .*three.* after ckpt-d2/);
    } finally {
      unobserve();
    }
  });

  it("lets a stale instance renew its own superseded lease epoch (a renewal racing the takeover), not write another epoch (writer)", async () => {
    const { checker, unobserve, nn } = await world();
    const lease = `${ROOT}/.ckpt-replicator/lease`;
    const d1 = new Probe("hdfs2", nn.hdfs2!.namenodes, "ckpt-d1");
    const d2 = new Probe("hdfs2", nn.hdfs2!.namenodes, "ckpt-d2");
    const renew = async (who: Probe, epoch: string): Promise<void> => {
      // As the lease renews: a temporary, then rename2 OVERWRITE onto the epoch file.
      const temp = `${lease}/.${epoch}.ckpt-tmp.0123abcd`;
      await who.overwrite(temp, Buffer.from("{}"));
      await who.rename(temp, `${lease}/${epoch}`);
    };
    try {
      await d1.overwrite(`${lease}/epoch-000000000001.json`, Buffer.from("{}"));
      await d2.overwrite(`${lease}/epoch-000000000002.json`, Buffer.from("{}"));
      // The stale instance's renewal of epoch 1 lands after the takeover: exempt.
      await renew(d1, "epoch-000000000001.json");
      await checker.sample();
      expect(checker.violations).toEqual([]);
      // Its write onto the newer holder's epoch file is not.
      await renew(d1, "epoch-000000000002.json");
      await checker.sample();
      expect(checker.violations.map((v) => v.invariant)).toEqual(["writer"]);
      expect(checker.violations[0]!.message).toMatch(/ckpt-d1 \(daemon #1\) wrote RENAME .*after ckpt-d2/);
    } finally {
      unobserve();
    }
  });

  it("flags a daemon instance publishing the same _metadata twice while the first is in place (republish), not after a deletion", async () => {
    const { chk, checker, copier, unobserve, nn } = await world();
    try {
      const d1 = new Probe("hdfs2", nn.hdfs2!.namenodes, "ckpt-d1");
      const meta = (await copier.read(chk.metadataPath))!;
      const publish = async () => {
        const temp = `${chk.dir}/._metadata.ckpt-tmp.0001`;
        await d1.overwrite(temp, meta);
        await d1.rename(temp, chk.metadataPath);
      };
      await publish();
      await copier.delete(chk.metadataPath); // someone removed it: publishing it again is right
      await publish();
      await checker.sample();
      expect(checker.violations.filter((v) => v.invariant === "republish")).toEqual([]);
      await publish();
      await checker.sample();
      expect(checker.violations.filter((v) => v.invariant === "republish").map((v) => v.message)).toEqual([
        expect.stringMatching(/ckpt-d1 published .*chk-1\/_metadata again/),
      ]);
    } finally {
      unobserve();
    }
  });

  it("flags a restorable gauge that claims more than the target holds for longer than the window (metrics)", async () => {
    const { checker, unobserve } = await world(300);
    try {
      await checker.sample();
      const text = `ckpt_restorable_checkpoints{flink_job="${"a".repeat(32)}"} 2\n`;
      checker.checkMetrics(text);
      expect(checker.violations).toEqual([]);
      await new Promise((r) => setTimeout(r, 400));
      checker.checkMetrics(text);
      expect(checker.violations.map((v) => v.invariant)).toEqual(["metrics"]);
      checker.checkMetrics(`ckpt_restorable_checkpoints{flink_job="${"a".repeat(32)}"} 1\n`);
      expect(checker.violations).toHaveLength(1);
    } finally {
      unobserve();
    }
  });
});
