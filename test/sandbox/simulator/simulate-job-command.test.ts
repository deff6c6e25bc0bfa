// The simulate-job command: argument checks (UsageError -> exit 2), the --local
// tree, unit parsing of --interval/--state-size, and stopping on the signal.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import yargs from "yargs";
import { jobIdForSeed } from "../../../src/sandbox/simulator/index.js";
import { exitCodeFor } from "../../../src/cli/main.js";
import { runSimulateJob, simulateJobCommand, simulatorOptionsFromArgs, type SimulateJobArgs } from "../../../src/cli/commands/simulate-job.js";
import { handleTypeCounts, inlineStateSummary, parseMetadata } from "../../../src/flink/index.js";
import { readSmallFile } from "../../../src/storage/types.js";
import { LocalStorage } from "../../../src/storage/local.js";
import { UsageError } from "../../../src/util/errors.js";
import { silentLogger } from "../../../src/util/log.js";
import { fileTree } from "./helpers.js";

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "simulate-job-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function capture(): { stdout: Writable; text: () => string } {
  let out = "";
  return { stdout: new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }), text: () => out };
}

const run = (args: SimulateJobArgs, signal = new AbortController().signal) =>
  runSimulateJob(args, { signal, stdout: capture().stdout, logger: silentLogger });

describe("simulate-job command", () => {
  it("--local writes Flink checkpoints under DIR + --root with file: URIs", async () => {
    const out = capture();
    const sim = await runSimulateJob(
      { local: tmp, root: "/flink/checkpoints", count: 3, interval: "1ms", retained: 2, formatVersion: 3, seed: 9, jobId: "0123456789abcdef0123456789abcdef", paths: "absolute" },
      { signal: new AbortController().signal, stdout: out.stdout, logger: silentLogger },
    );
    expect(sim.jobId).toBe("0123456789abcdef0123456789abcdef");
    expect(sim.jobDir).toBe(`${tmp}/flink/checkpoints/0123456789abcdef0123456789abcdef`);
    expect(out.text()).toBe(
      `simulating job ${sim.jobId} in file:${sim.jobDir}\njob ${sim.jobId} stopped; retained: chk-2, chk-3\n`,
    );
    const md = parseMetadata(await readSmallFile(new LocalStorage("l"), sim.retained()[1]!.metadataPath, 1 << 24));
    expect(md.version).toBe(3);
    expect(md.checkpointId).toBe(3n);
  });

  it("stops when the signal aborts (SIGINT/SIGTERM in the real command), leaving only retained checkpoints", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const sim = await run({ local: tmp, root: "/cp", interval: "20ms" }, controller.signal);
    expect(sim.retained().length).toBeLessThanOrEqual(2);
    const expected = new Set(sim.retained().flatMap((c) => [c.metadataPath, ...c.files.map((f) => f.path)]));
    expect([...(await fileTree(new LocalStorage("l"), sim.jobDir)).keys()].sort()).toEqual([...expected].sort());
  });

  it("parses units and flags into simulator options", () => {
    expect(
      simulatorOptionsFromArgs({ root: "/r", interval: "2s", stateSize: "4MiB", channelState: true, taskOwned: true, inline: false, operators: 3, parallelism: 4 }),
    ).toMatchObject({ intervalMs: 2000, stateSizeBytes: 4 * 1024 * 1024, channelState: true, taskOwnedState: true, inlineState: false, operators: 3, parallelism: 4 });
  });

  it.each<[string, SimulateJobArgs, RegExp]>([
    ["neither --namenode nor --local", { root: "/cp" }, /either --namenode URL .* or --local DIR/],
    ["both --namenode and --local", { root: "/cp", namenode: ["http://nn:9870"], local: "/tmp/x" }, /either --namenode/],
    ["a namenode that is not a URL", { root: "/cp", namenode: ["nn:9870"] }, /--namenode must be an http/],
    ["a relative --root", { root: "cp", local: "/tmp/x" }, /--root must be an absolute path/],
    ["a bad --interval", { root: "/cp", local: "/tmp/x", interval: "soon" }, /--interval "soon" is not valid/],
    ["a bad --state-size", { root: "/cp", local: "/tmp/x", stateSize: "big" }, /--state-size "big" is not valid/],
    ["a bad --paths", { root: "/cp", local: "/tmp/x", paths: "both" }, /--paths must be relative or absolute/],
    ["a bad --job-id", { root: "/cp", local: "/tmp/x", jobId: "job-1" }, /job id must be 32 lowercase hex/],
  ])("rejects %s with a usage error (exit 2)", async (_name, args, message) => {
    const err = await run(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(exitCodeFor(err)).toBe(2);
    expect((err as Error).message).toMatch(message);
  });

  it("the yargs module maps the command line flags onto the run", async () => {
    const level = process.env.CKPT_LOG_LEVEL;
    process.env.CKPT_LOG_LEVEL = "silent";
    await yargs(["simulate-job", "--local", tmp, "--root", "/y", "--count", "2", "--interval", "1ms", "--seed", "4", "--format-version", "5",
      "--retained", "1", "--operators", "2", "--parallelism", "3", "--state-size", "16KiB", "--no-inline", "--channel-state"])
      .command(simulateJobCommand)
      .strict()
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseAsync()
      .finally(() => {
        if (level === undefined) delete process.env.CKPT_LOG_LEVEL;
        else process.env.CKPT_LOG_LEVEL = level;
      });
    const jobDir = `${tmp}/y/${jobIdForSeed(4)}`;
    const names = (await new LocalStorage("l").list(jobDir))!.map((e) => e.name);
    expect(names.sort()).toEqual(["chk-2", "shared", "taskowned"]);
    const md = parseMetadata(await readSmallFile(new LocalStorage("l"), `${jobDir}/chk-2/_metadata`, 1 << 24));
    expect(md.version).toBe(5);
    expect(md.operators.map((o) => o.subtasks.length)).toEqual([3, 3]);
    expect(handleTypeCounts(md).InputChannelStateHandle).toBe(3 * 3);
    expect(inlineStateSummary(md).handles).toBe(1);
  });
});
