// The operator's commands against the emulated pair: resync (and --dry-run),
// verify (restorable / broken with the missing file), latest (path, json,
// flink) and inspect of an hdfs:// _metadata, with their exit semantics.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exitCodeFor, main } from "../../src/cli/main.js";
import { runResync } from "../../src/cli/commands/resync.js";
import { JobNotFoundError } from "../../src/cli/exit-codes.js";
import { BrokenCheckpointsError, runVerify } from "../../src/cli/commands/verify.js";
import { runLatest } from "../../src/cli/commands/latest.js";
import { NoRestorableCheckpointError } from "../../src/replication/latest.js";
import { runInspectCommand } from "../../src/cli/commands/inspect.js";
import { remoteMetadataSource } from "../../src/cli/remote-metadata.js";
import { Engine, LeaseHeldError } from "../../src/replication/index.js";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
let configFile: string;
const JOB = "7".repeat(32);

function capture(): { out: PassThrough; text(): string } {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

beforeEach(async () => {
  pair = await startSandboxPair();
  configFile = join(pair.stateDir, "ops.yaml");
  await writeFile(configFile, pair.configText());
  await pair.simulator({ seed: 77, jobId: JOB }).run({ count: 3 });
});
afterEach(async () => {
  await pair.close();
});

describe("operator commands", () => {
  it("resync --dry-run reports what it would copy and writes nothing", async () => {
    const c = capture();
    const jobs = await runResync({ config: configFile, dryRun: true, json: true }, c.out);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.wouldCopy?.unit).toBe("chk-3");
    expect(jobs[0]!.wouldCopy!.files).toBeGreaterThan(0);
    expect(JSON.parse(c.text()).dryRun).toBe(true);
    expect(await pair.storage("hdfs2").stat(TARGET_ROOT)).toBeNull();
  });

  it("resync publishes every complete checkpoint the source retains; verify and latest then agree", async () => {
    const r = capture();
    const jobs = await runResync({ config: configFile }, r.out);
    expect(jobs[0]).toMatchObject({ job: JOB, newestSource: 3, newestPublished: 3, publishedNow: ["chk-3", "chk-2"], upToDate: true });
    expect(r.text()).toMatch(new RegExp(`^${JOB}: target chk-3 \\(restorable\\), source chk-3: up to date, published chk-3, chk-2 \\(\\d+ files copied, [\\d.]+ [KM]iB\\)$`, "m"));

    const v = capture();
    const verdicts = await runVerify({ config: configFile }, v.out);
    expect(verdicts.map((x) => [x.unit, x.state])).toEqual([
      ["chk-3", "restorable"],
      ["chk-2", "restorable"],
    ]);
    expect(v.text()).toMatch(/^restorable {2}7+\/chk-3 {2}\(\d+ files, [\d.]+ [KM]iB\)$/m);

    const p = capture();
    await runLatest({ config: configFile, job: JOB, format: "path" }, p.out);
    expect(p.text()).toBe(`hdfs://hdfs2${TARGET_ROOT}/${JOB}/chk-3\n`);
    const j = capture();
    const latest = await runLatest({ config: configFile, job: JOB, format: "json" }, j.out);
    expect(JSON.parse(j.text())).toMatchObject({ job: JOB, checkpoint: "chk-3", checkpointId: 3 });
    expect(latest.sourceCompletedAt).not.toBeNull();
    const f = capture();
    await runLatest({ config: configFile, job: JOB, format: "flink" }, f.out);
    expect(f.text()).toContain(`flink run --fromSavepoint hdfs://hdfs2${TARGET_ROOT}/${JOB}/chk-3 --restoreMode no_claim`);
    expect(f.text()).toContain("execution.state-recovery.claim-mode: NO_CLAIM");
  });

  it("verify names the missing file of a broken checkpoint and fails; latest then finds nothing restorable", async () => {
    await runResync({ config: configFile }, capture().out);
    const config = await pair.config();
    const target = createStorage(config.target, silentLogger); // as the replicator's user, who owns the copy
    const shared = ((await target.list(`${TARGET_ROOT}/${JOB}/shared`)) ?? []).filter((e) => !e.name.startsWith("."));
    const victim = `${TARGET_ROOT}/${JOB}/shared/${shared[0]!.name}`;
    await target.delete(victim);
    const v = capture();
    const err = await runVerify({ config: configFile }, v.out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokenCheckpointsError);
    expect(exitCodeFor(err)).toBe(1);
    expect((err as Error).message).toContain(`${JOB}/chk-3`);
    expect(v.text()).toContain(`BROKEN      ${JOB}/chk-3`);
    expect(v.text()).toContain(`${victim} is missing`);
    await expect(runLatest({ config: configFile, job: JOB }, capture().out)).rejects.toBeInstanceOf(NoRestorableCheckpointError);
    target.close();
  });

  it("resync refuses to run beside a daemon holding the target lease", async () => {
    const config = await pair.config();
    const holder = new Engine({ config, source: createStorage(config.source, silentLogger), target: createStorage(config.target, silentLogger), logger: silentLogger });
    await holder.start();
    try {
      await expect(runResync({ config: configFile }, capture().out)).rejects.toBeInstanceOf(LeaseHeldError);
      // A dry run takes no lease and still works.
      await expect(runResync({ config: configFile, dryRun: true }, capture().out)).resolves.toHaveLength(1);
    } finally {
      await holder.stop();
    }
  });

  it("resync of an unknown job fails with a clear message", async () => {
    const err = await runResync({ config: configFile, job: "nope" }, capture().out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobNotFoundError);
    expect(exitCodeFor(err)).toBe(3);
    expect((err as Error).message).toBe(`no job nope under the configured roots (/flink/checkpoints); jobs there: ${JOB}`);
  });

  it("inspect reads a _metadata from hdfs:// through the configured cluster", async () => {
    await runResync({ config: configFile }, capture().out);
    const c = capture();
    const uri = `hdfs://hdfs2${TARGET_ROOT}/${JOB}/chk-3/_metadata`;
    await runInspectCommand({ file: uri, json: true }, { stdout: c.out, source: remoteMetadataSource({ config: configFile }) });
    const report = JSON.parse(c.text()) as { version: number; checkpointId: number; files: { path: string }[] };
    expect(report.checkpointId).toBe(3);
    expect(report.files.filter((f) => f.path.startsWith("hdfs://")).every((f) => f.path.startsWith(`hdfs://hdfs2${TARGET_ROOT}/`))).toBe(true);
    await expect(remoteMetadataSource({})(uri)).rejects.toThrow(/needs --namenode URL/);
  });

  it("bad usage exits 2 with a one-line reason", async () => {
    const err = await main(["latest", "--config", configFile]).catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(2);
    expect((err as Error).message).toMatch(/Missing required argument: job/);
  });
});
