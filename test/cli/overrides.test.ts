// Issue #9 §4: rclone-style --bwlimit (a rate or a timetable) and --transfers
// for run and resync: parsing, the rate in force at a time of day, usage errors
// (exit 2), and a daemon that keeps them across config reloads.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { overridesOf, parseBwlimit, parseRate, rateAt } from "../../src/cli/overrides.js";
import { silentLogger } from "../../src/util/log.js";
import { oneLineError, runCli } from "../helpers/cli-run.js";

const MiB = 1024 * 1024;
const at = (hh: number, mm: number) => new Date(2026, 11, 1, hh, mm);

describe("--bwlimit", () => {
  it.each([
    ["10M", 10 * MiB],
    ["512K", 512 * 1024],
    ["1.5G", 1.5 * 1024 * MiB],
    ["10MiB", 10 * MiB],
    ["2048", 2048],
    ["off", 0],
    ["0", 0],
  ])("rate %s is %d bytes/s", (text, bytes) => expect(parseRate(text)).toBe(bytes));

  it("a timetable applies the rate of the latest time passed, wrapping around midnight", () => {
    const table = parseBwlimit("08:00,10M 12:30,512K 20:00,off");
    expect(rateAt(table, at(9, 0))).toBe(10 * MiB);
    expect(rateAt(table, at(12, 30))).toBe(512 * 1024);
    expect(rateAt(table, at(23, 59))).toBe(0);
    expect(rateAt(table, at(3, 0))).toBe(0); // before 08:00: the previous day's 20:00 entry
    expect(rateAt(parseBwlimit("4M"), at(3, 0))).toBe(4 * MiB);
  });

  it.each([
    ["fast", "--bwlimit fast: not a rate (examples: 10M, 512K, 1.5G, off)"],
    ["25:00,1M", '--bwlimit: "25:00,1M" has an invalid time of day'],
    ["08:00,1M 07:00,off", "--bwlimit: times must increase, but 07:00,off follows 08:00"],
    ["08:00 1M", '--bwlimit: "08:00" is not a timetable entry HH:MM,RATE (e.g. 08:00,10M)'],
  ])("rejects %s", (text, message) => expect(() => parseBwlimit(text)).toThrow(message));

  it("--transfers must be 1..256", () => {
    expect(() => overridesOf({ transfers: 0 })).toThrow("--transfers 0: must be a whole number from 1 to 256");
    expect(() => overridesOf({ transfers: 2.5 })).toThrow("--transfers 2.5");
  });
});

describe("overrides on the command line", () => {
  let tmp: string;
  let configPath: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "overrides-"));
    configPath = join(tmp, "r.yaml");
    await writeFile(
      configPath,
      `source: {name: src}\ntarget: {name: dr}\npaths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]\ncopy: {concurrency: 2, bandwidth: 1MiB}\nlease: {ttl: 5s}\nmetrics: false\nlog: {level: silent}\n`,
    );
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("a bad --bwlimit or --transfers is a usage error (exit 2) for run and resync", async () => {
    for (const cmd of ["run", "resync"]) {
      const r = await runCli([cmd, "--config", configPath, "--bwlimit", "08:00,1M 07:00,off"]);
      expect(r.code, cmd).toBe(2);
      expect(oneLineError(r)).toBe("ckpt-replicator: --bwlimit: times must increase, but 07:00,off follows 08:00");
      const t = await runCli([cmd, "--config", configPath, "--transfers", "0"]);
      expect(t.code, cmd).toBe(2);
    }
  });

  it("the daemon runs with the overrides and keeps them across a config reload", async () => {
    const config = await loadConfigFile(configPath, {});
    const o = overridesOf({ transfers: 7, bwlimit: "3M" });
    const daemon = new Daemon({ config, logger: silentLogger, stopDeadlineMs: 2000, transform: (c) => o.apply(c) });
    await daemon.start();
    try {
      expect(daemon.engine.status().bandwidth).toBe(3 * MiB);
      expect(daemon.engine.currentConfig.copy.concurrency).toBe(7);
      await writeFile(configPath, (await readFile(configPath, "utf8")).replace("bandwidth: 1MiB", "bandwidth: 2MiB"));
      expect(await daemon.reload()).toBe(true);
      expect(daemon.engine.status().bandwidth).toBe(3 * MiB);
      expect(daemon.engine.currentConfig.copy.concurrency).toBe(7);
    } finally {
      await daemon.stop();
    }
  });
});

describe("--include-job / --exclude-job", () => {
  it("keeps jobs matching an include and no exclude", async () => {
    const { jobFilterOf } = await import("../../src/cli/overrides.js");
    const f = jobFilterOf({ includeJob: ["ab*", "cd??"], excludeJob: ["abc*"] })!;
    expect(["ab12", "abc1", "cd12", "cd123", "x"].filter(f)).toEqual(["ab12", "cd12"]);
    expect(jobFilterOf({})).toBeUndefined();
    expect(jobFilterOf({ excludeJob: ["a.b"] })!("axb")).toBe(true); // "." is literal
  });

  it("resync replicates only the selected jobs; a pattern matching none exits 3", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "jobpat-"));
    try {
      const { FlinkJobSimulator } = await import("../../src/sandbox/simulator/index.js");
      const { LocalStorage } = await import("../../src/storage/local.js");
      for (const [jobId, seed] of [["e1".repeat(16), 1], ["f2".repeat(16), 2]] as const) {
        await new FlinkJobSimulator({ storage: new LocalStorage("s"), fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: 32 * 1024, retained: 1, seed, jobId }).run({ count: 1 });
      }
      const config = join(tmp, "r.yaml");
      await writeFile(config, `source: {name: src}\ntarget: {name: dr}\npaths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]\nlease: {ttl: 5s}\nmetrics: false\nlog: {level: silent}\n`);
      const r = await runCli(["resync", "--config", config, "--exclude-job", "e1*"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${"f2".repeat(16)}: target chk-1 (restorable), source chk-1: up to date, published chk-1 (${/\((\d+) files/.exec(r.stdout)![1]} files copied, ${/copied, (.+)\)/.exec(r.stdout)![1]})\n`);
      const none = await runCli(["resync", "--config", config, "--include-job", "zz*"]);
      expect(none.code).toBe(3);
      expect(oneLineError(none)).toContain("no job matching --include-job/--exclude-job under the configured roots");
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe("--max-delete (an abort threshold, like rclone's)", () => {
  it("a reap above the threshold deletes nothing and fails; below it, it proceeds", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "maxdel-"));
    try {
      const { FlinkJobSimulator } = await import("../../src/sandbox/simulator/index.js");
      const { LocalStorage } = await import("../../src/storage/local.js");
      const { existsSync } = await import("node:fs");
      const job = "9d".repeat(16);
      const sim = new FlinkJobSimulator({ storage: new LocalStorage("s"), fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: 32 * 1024, retained: 1, seed: 9, jobId: job });
      await sim.run({ count: 1 });
      const config = join(tmp, "r.yaml");
      await writeFile(config, `source: {name: src}\ntarget: {name: dr}\npaths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]\nretain: {min: 1, max: 1}\nlease: {ttl: 5s}\nmetrics: false\nlog: {level: silent}\n`);
      expect((await runCli(["resync", "--config", config])).code).toBe(0);
      await sim.run({ count: 1 }); // chk-2; Flink subsumes chk-1, so the target would drop it
      expect(existsSync(`${tmp}/src/${job}/chk-1`)).toBe(false);

      const r = await runCli(["resync", "--config", config, "--max-delete", "0"]);
      expect(r.code).toBe(7);
      expect(r.stdout).toMatch(
        new RegExp(`^${job}: target chk-2 \\(restorable\\), source chk-2: published chk-2, DELETIONS ABORTED: reap would delete \\d+ paths on the target, more than max-delete allows for the run \\(0\\): nothing deleted$`, "m"),
      );
      expect(oneLineError(r)).toMatch(/^ckpt-replicator: deletions stopped at max-delete \(0 paths for the run, 0 deleted\): 1 job\(s\) deleted nothing: (9d)+; their copies and publishes were done$/);
      expect(existsSync(`${tmp}/dr/${job}/chk-2/_metadata`)).toBe(true); // the copy went on
      expect(existsSync(`${tmp}/dr/${job}/chk-1/_metadata`)).toBe(true);

      const pct = await runCli(["resync", "--config", config, "--max-delete", "100%"]);
      expect(pct.code, pct.stdout + pct.stderr).toBe(0);
      expect(existsSync(`${tmp}/dr/${job}/chk-1`)).toBe(false);
      const bad = await runCli(["resync", "--config", config, "--max-delete", "lots"]);
      expect(bad.code).toBe(2);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("counts and percentages apply to the whole run across jobs; past them the deletions stop (exit 7), not the copies", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "maxdel-run-"));
    try {
      const { FlinkJobSimulator } = await import("../../src/sandbox/simulator/index.js");
      const { LocalStorage } = await import("../../src/storage/local.js");
      const { existsSync } = await import("node:fs");
      const { readdir } = await import("node:fs/promises");
      const sim = (jobId: string, seed: number, big = false) =>
        new FlinkJobSimulator({
          storage: new LocalStorage("s"), fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: 16 * 1024, retained: 1, seed, jobId,
          ...(big ? { parallelism: 4, operators: 2, newSharedFilesPerSubtask: 6 } : { parallelism: 1, operators: 1 }),
        });
      const [a, b, c] = ["a1".repeat(16), "b2".repeat(16), "c3".repeat(16)];
      const simA = sim(a, 1);
      const simB = sim(b, 2);
      for (const s of [simA, simB, sim(c, 3, true)]) await s.run({ count: 1 }); // c: many files, nothing to delete
      const config = join(tmp, "r.yaml");
      await writeFile(config, `source: {name: src}\ntarget: {name: dr}\npaths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]\nretain: {min: 1, max: 1}\nlease: {ttl: 5s}\nmetrics: false\nlog: {level: silent}\n`);
      expect((await runCli(["resync", "--config", config])).code).toBe(0);
      for (const s of [simA, simB]) await s.run({ count: 1 }); // chk-2 each: the target would drop their chk-1
      const resync = (limit: string) => runCli(["resync", "--config", config, "--max-delete", limit]);
      const lineOf = (out: string, job: string) => out.split("\n").find((l) => l.startsWith(`${job}:`)) ?? "";
      const wouldDelete = (line: string) => Number(/would delete (\d+) paths/.exec(line)?.[1]);
      const filesOnTarget = (out: string) => Number(/% of the (\d+) files on the target/.exec(out)?.[1]);

      // 0%: nothing may go; the first job to reap is refused, and every later one of the run with it.
      const zero = await resync("0%");
      expect(zero.code, zero.stdout + zero.stderr).toBe(7);
      const [dA, dB] = [wouldDelete(lineOf(zero.stdout, a)), wouldDelete(lineOf(zero.stdout, b))];
      expect(dA).toBeGreaterThan(0);
      expect(dB).toBeGreaterThan(0);
      expect(zero.stdout).toMatch(/DELETIONS ABORTED: deletions stopped for the rest of this run: job (a1|b2)+ would have taken them past max-delete/);
      expect(lineOf(zero.stdout, c)).toMatch(/up to date$/);
      expect(existsSync(`${tmp}/dr/${a}/chk-1/_metadata`) && existsSync(`${tmp}/dr/${b}/chk-1/_metadata`)).toBe(true);
      expect(existsSync(`${tmp}/dr/${a}/chk-2/_metadata`) && existsSync(`${tmp}/dr/${b}/chk-2/_metadata`)).toBe(true); // copies went on

      // A count that each job's reap fits alone but not both together: the first goes ahead, the second stops.
      const count = await resync(String(Math.max(dA, dB)));
      expect(count.code, count.stdout + count.stderr).toBe(7);
      expect(oneLineError(count)).toMatch(new RegExp(`^ckpt-replicator: deletions stopped at max-delete \\(${Math.max(dA, dB)} paths for the run, \\d+ deleted\\): 1 job\\(s\\) deleted nothing`));
      const kept = [a, b].filter((j) => existsSync(`${tmp}/dr/${j}/chk-1/_metadata`));
      expect(kept, "exactly one job's deletions stopped").toHaveLength(1);
      const left = kept[0]!;

      // A percentage is of every file on the target under the roots, not of the job's own files.
      const probe = await resync("0%");
      const all = filesOnTarget(probe.stdout);
      const countFiles = async (dir: string): Promise<number> => {
        let n = 0;
        for (const e of await readdir(dir, { withFileTypes: true })) n += e.isDirectory() ? await countFiles(join(dir, e.name)) : 1;
        return n;
      };
      const own = await countFiles(`${tmp}/dr/${left}`);
      const d = wouldDelete(lineOf(probe.stdout, left));
      const percent = (Math.ceil((10000 * d) / all) + 1) / 100;
      expect((100 * d) / own, "the job's own files would refuse this percentage").toBeGreaterThan(percent);
      const pct = await resync(`${percent}%`);
      expect(pct.code, pct.stdout + pct.stderr).toBe(0);
      expect(existsSync(`${tmp}/dr/${left}/chk-1`)).toBe(false);
      expect(existsSync(`${tmp}/dr/${left}/chk-2/_metadata`)).toBe(true);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 90_000);
});
