// Issue #9 §3: `check-config` (validates, asks each NameNode for its state,
// lists roots, jobs and the lease) and `jobs`/`status` (both sides' newest
// checkpoints), with the same exit codes as the other commands.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oneLineError, runCli } from "../helpers/cli-run.js";
import { startSandboxPair, SOURCE_ROOT, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
let good: string;
const JOB_A = "b1".repeat(16);
const JOB_B = "b2".repeat(16);

/** A config file derived from the pair's, edited as a user might get it wrong. */
const configWith = (name: string, edit: (c: Record<string, any>) => void, extra = ""): Promise<string> => pair.configFile(name, edit, extra); // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  pair = await startSandboxPair();
  good = join(pair.stateDir, "good.yaml");
  await writeFile(good, pair.configText());
  await pair.simulator({ seed: 4, jobId: JOB_A }).run({ count: 3 });
  await pair.simulator({ seed: 5, jobId: JOB_B }).run({ count: 2 });
});
afterAll(async () => {
  await pair?.close();
});

describe("check-config", () => {
  it("reports NameNode states, roots with their jobs and the lease; a target root not created yet is a warning, exit 0", async () => {
    const nn = pair.sandbox.endpoints.clusters;
    const r = await runCli(["check-config", "--config", good]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`config ${good}: valid (scan every 200ms, lease ttl 3s, retain 1..3)`);
    expect(r.stdout).toContain(`source hdfs1 (hdfs://hdfs1):\n  namenode ${nn.hdfs1!.namenodes[0]}: active\n  namenode ${nn.hdfs1!.namenodes[1]}: standby\n`);
    expect(r.stdout).toContain(`  root ${SOURCE_ROOT}: 2 job(s): ${JOB_A}, ${JOB_B}\n`);
    expect(r.stdout).toContain(`  root ${TARGET_ROOT}: DOES NOT EXIST`);
    expect(r.stdout).toContain(`warning: target root ${TARGET_ROOT} does not exist yet; the first run creates it`);
    expect(r.stdout).toContain(`lease ${TARGET_ROOT}/.ckpt-replicator/lease: free`);
  });

  it("exits 3 for a misspelt source root, 4 when the source NameNodes are down, 5 for the target, 78 for an invalid file", async () => {
    const misspelt = await configWith("cc-misspelt", (c) => (c.paths = [{ source: "/flink/chekpoints", target: TARGET_ROOT }]));
    const m = await runCli(["check-config", "--config", misspelt]);
    expect(m.code).toBe(3);
    expect(m.stdout).toContain(`  root /flink/chekpoints: DOES NOT EXIST (did you mean ${SOURCE_ROOT}?)`);

    const down = await configWith("cc-down", (c) => (c.source.namenodes = ["http://127.0.0.1:1"]));
    const d = await runCli(["check-config", "--config", down]);
    expect(d.code).toBe(4);
    expect(d.stdout).toMatch(/ {2}namenode http:\/\/127\.0\.0\.1:1: unreachable \(.*ECONNREFUSED/);

    const datanode = pair.sandbox.endpoints.clusters.hdfs2!.datanodes[0]!;
    const dn = await configWith("cc-dn", (c) => (c.target.namenodes = [datanode]));
    const t = await runCli(["check-config", "--config", dn]);
    expect(t.code).toBe(5);
    expect(t.stdout).toContain(`  namenode ${datanode}: error (`);
    expect(oneLineError(t)).toContain(`is ${datanode} the HTTP address of a NameNode?`);

    const bad = join(pair.stateDir, "cc-bad.yaml");
    await writeFile(bad, pair.configText("scan: {interval: 10}\n"));
    const b = await runCli(["check-config", "--config", bad]);
    expect(b.code).toBe(78);
    expect(oneLineError(b)).toBe(`ckpt-replicator: invalid configuration ${bad}: scan.interval: 10 has no unit; write a duration with its unit, e.g. 10ms or 10s`);
  });
});

describe("jobs / status", () => {
  it("lists every job with both sides' newest checkpoints and how far behind the target is", async () => {
    await runCli(["resync", "--config", good, "--job", JOB_A]);
    const r = await runCli(["jobs", "--config", good]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "JOB                               SOURCE (hdfs1)  TARGET (hdfs2)  BEHIND",
      `${JOB_A}  chk-3           chk-3           0`,
      `${JOB_B}  chk-2           -               2`,
      "",
    ]);
    const j = await runCli(["status", "--config", good, "--job", "b2b2", "--json"]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ jobs: [{ job: JOB_B, source: { newest: 2, checkpoints: 2 }, target: { newest: null, checkpoints: 0 }, behind: 2 }] });
  });

  it("an unreadable target is shown as such and exits 5, never a complete-looking table", async () => {
    const file = await configWith("jobs-down", (c) => (c.target.namenodes = ["http://127.0.0.1:1"]));
    const r = await runCli(["jobs", "--config", file]);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(`${JOB_A}  chk-3           UNREADABLE      ?`);
    expect(oneLineError(r)).toMatch(/^ckpt-replicator: cannot read the target hdfs2 \(\/dr\/flink\): unreachable/);
    const amb = await runCli(["jobs", "--config", good, "--job", "b"]);
    expect(amb.code).toBe(2);
    const none = await runCli(["jobs", "--config", good, "--job", "ffff"]);
    expect(none.code).toBe(3);
  });
});
