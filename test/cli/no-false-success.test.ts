// Issue #9 §1: the commands never report success that did not happen. Each
// case runs the real CLI against the emulated pair and checks what the
// operator sees: the exit code from the README's table and one clear line.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/child.js";
import { oneLineError, runCli } from "../helpers/cli-run.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
let good: string;
const JOB_A = "a1".repeat(16);
const JOB_B = "a2".repeat(16);

/** A config file derived from the pair's, edited as a user might get it wrong. */
const configWith = (name: string, edit: (c: Record<string, any>) => void, extra = ""): Promise<string> => pair.configFile(name, edit, extra); // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  pair = await startSandboxPair();
  good = join(pair.stateDir, "good.yaml");
  await writeFile(good, pair.configText());
  await pair.simulator({ seed: 1, jobId: JOB_A }).run({ count: 3 });
  await pair.simulator({ seed: 2, jobId: JOB_B }).run({ count: 2 });
});
afterAll(async () => {
  await pair?.close();
});

describe("no false success (issue #9 §1)", () => {
  it("resync --dry-run plans exactly what the real run then does, with a readable summary in IEC units", async () => {
    const dry = await runCli(["resync", "--config", good, "--dry-run", "--job", JOB_A]);
    expect(dry.code).toBe(0);
    const planned = /^(?:a1)+: target no restorable checkpoint, source chk-3: 3 behind, would copy (\d+) files \((\d+\.\d [KM]iB)\) to publish chk-3, chk-2$/m.exec(dry.stdout);
    expect(planned, dry.stdout).not.toBeNull();
    expect(await pair.storage("hdfs2").stat(TARGET_ROOT)).toBeNull(); // wrote nothing

    const json = await runCli(["resync", "--config", good, "--dry-run", "--json", "--job", JOB_A]);
    const plan = (JSON.parse(json.stdout) as { jobs: { planned: { unit: string; files: number; bytes: number }[] }[] }).jobs[0]!.planned;
    expect(plan.map((p) => p.unit)).toEqual(["chk-3", "chk-2"]);

    const real = await runCli(["resync", "--config", good, "--job", JOB_A]);
    expect(real.code, real.stderr).toBe(0);
    const done = /^(?:a1)+: target chk-3 \(restorable\), source chk-3: up to date, published chk-3, chk-2 \((\d+) files copied, (\d+\.\d [KM]iB)\)$/m.exec(real.stdout);
    expect(done, real.stdout).not.toBeNull();
    expect(done![1]).toBe(planned![1]); // the same files ...
    expect(done![2]).toBe(planned![2]); // ... and bytes as planned
    expect(plan.reduce((n, p) => n + p.files, 0)).toBe(Number(done![1]));
  });

  it("an unreachable source NameNode exits 4, in dry-run and real runs, never 'up to date'", async () => {
    const file = await configWith("down", (c) => (c.source!.namenodes = ["http://127.0.0.1:1"]));
    for (const args of [["resync", "--config", file, "--dry-run"], ["resync", "--config", file]]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(4);
      expect(oneLineError(r)).toMatch(/cannot read the source hdfs1 \(\/flink\/checkpoints\): unreachable .*ECONNREFUSED/);
      expect(r.stdout).not.toMatch(/up to date/);
    }
  });

  it("a misspelt source root exits 3 and suggests the real one", async () => {
    const file = await configWith("misspelt", (c) => (c.paths = [{ source: "/flink/chekpoints", target: TARGET_ROOT }]));
    const r = await runCli(["resync", "--config", file, "--dry-run"]);
    expect(r.code).toBe(3);
    expect(oneLineError(r)).toBe(`ckpt-replicator: the source root /flink/chekpoints does not exist on hdfs1 (did you mean ${SOURCE_ROOT}?)`);
    const v = await runCli(["verify", "--config", file, "--side", "source"]);
    expect(v.code).toBe(3);
  });

  it("a DataNode URL given as NameNode exits 4 and says what it probably is", async () => {
    const datanode = pair.sandbox.endpoints.clusters.hdfs1!.datanodes[0]!;
    const file = await configWith("datanode", (c) => (c.source!.namenodes = [datanode]));
    const r = await runCli(["resync", "--config", file]);
    expect(r.code).toBe(4);
    expect(oneLineError(r)).toContain(`is ${datanode} the HTTP address of a NameNode?`);
  });

  it("verify and latest against an unreachable target exit 5", async () => {
    const file = await configWith("target-down", (c) => (c.target!.namenodes = ["http://127.0.0.1:1"]));
    const v = await runCli(["verify", "--config", file]);
    expect(v.code).toBe(5);
    expect(oneLineError(v)).toMatch(/cannot read the target hdfs2 \(\/dr\/flink\): unreachable/);
    expect(v.stdout).not.toContain("no _metadata found");
    const l = await runCli(["latest", "--config", file, "--job", JOB_A]);
    expect(l.code).toBe(5);
  });

  it("an unknown --job exits 3 for verify, latest and resync and lists the jobs there", async () => {
    for (const cmd of ["verify", "latest", "resync"]) {
      const r = await runCli([cmd, "--config", good, "--job", "deadbeef"]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(3);
      expect(oneLineError(r)).toMatch(new RegExp(`no job deadbeef under .*jobs there: ${JOB_A}, ${JOB_B}`));
    }
  });

  it("job ids are accepted by unique prefix; an ambiguous prefix is a usage error listing the candidates", async () => {
    const r = await runCli(["latest", "--config", good, "--job", "a1a1a1a1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`hdfs://hdfs2${TARGET_ROOT}/${JOB_A}/chk-3\n`);
    const amb = await runCli(["verify", "--config", good, "--job", "a"]);
    expect(amb.code).toBe(2);
    expect(oneLineError(amb)).toBe(`ckpt-replicator: --job a is ambiguous: it is a prefix of 2 jobs: ${JOB_A}, ${JOB_B}`);
  });

  it("a job with nothing on the target: verify --job and latest exit 6", async () => {
    const v = await runCli(["verify", "--config", good, "--job", JOB_B]);
    expect(v.code, v.stderr).toBe(6);
    expect(oneLineError(v)).toBe(`ckpt-replicator: job ${JOB_B} has no _metadata on the target: nothing is restorable`);
    const l = await runCli(["latest", "--config", good, "--job", JOB_B.slice(0, 8)]);
    expect(l.code).toBe(6);
    expect(oneLineError(l)).toBe(`ckpt-replicator: no checkpoint or savepoint of job ${JOB_B} on the target hdfs2: nothing to restore from`);
  });
});

describe("a resync that published nothing while the source has checkpoints", () => {
  it("exits 6 with NOTHING RESTORABLE when every checkpoint it saw was subsumed mid-copy", async () => {
    const job = "c3".repeat(16);
    await pair.simulator({ seed: 3, jobId: job, retained: 1 }).run({ count: 1 });
    // Reads of the job's shared files stall, and meanwhile Flink "subsumes" chk-1 (here: the test deletes
    // it, _metadata and all), so the copy finds its files gone and abandons the checkpoint as subsumed.
    const fault = pair.sandbox.faults.add({
      cluster: "hdfs1",
      role: "datanode",
      op: "OPEN",
      pathPrefix: `${SOURCE_ROOT}/${job}/shared`,
      action: { kind: "latency", ms: 3000 },
      times: "always",
    });
    try {
      const running = runCli(["resync", "--config", good, "--job", job]);
      // The copy has begun (so the scan saw chk-1) once the target has the job's directory.
      const target = pair.storage("hdfs2");
      await waitFor(async () => (await target.stat(`${TARGET_ROOT}/${job}`)) !== null, 10_000, "the copy to start");
      const flink = pair.storage("hdfs1");
      await flink.delete(`${SOURCE_ROOT}/${job}/chk-1`, { recursive: true });
      await flink.delete(`${SOURCE_ROOT}/${job}/shared`, { recursive: true });
      const r = await running;
      expect(r.code, r.stdout + r.stderr).toBe(6);
      expect(r.stdout).toMatch(new RegExp(`^${job}: target no restorable checkpoint, source chk-1: NOTHING RESTORABLE`, "m"));
      expect(r.stdout).not.toMatch(/up to date/);
      expect(oneLineError(r)).toBe(`ckpt-replicator: 1 job(s) have no restorable checkpoint on the target although the source has checkpoints: ${job}`);
    } finally {
      pair.sandbox.faults.remove(fault);
    }
  });
});
