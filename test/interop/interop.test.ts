// The interop harness's own arithmetic (RPO, violations, expected restore positions), and the
// toolchain it needs. The real-stack run itself is `npm run interop` (slow: real HDFS, Flink and
// DistCp JVMs), which .ci/run runs as its own step; it is not part of `npm test`.

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { logEvent } from "../../src/replication/events.js";
import { checkpointsWithChannelState, chkOf, expectedFirstIndex, parseCompleted, parseSample, percentile, summarise, unpublishedByDaemon, type CheckerSample } from "./results.js";

const JOB = "0123456789abcdef0123456789abcdef";
const ROOT = "hdfs://hdfs2/flink/ckpt";

function sample(t: number, cps: Array<{ chk: number; ok: boolean; root?: string }>, listError = false): CheckerSample {
  return {
    t,
    checkpoints: listError
      ? [{ root: ROOT, listError: "java.net.ConnectException" }]
      : cps.map((c) => ({ root: c.root ?? ROOT, path: `${c.root ?? ROOT}/${JOB}/chk-${c.chk}`, ok: c.ok, ...(c.ok ? {} : { missing: ["hdfs://hdfs2/x (FileNotFoundException)"] }) })),
  };
}

describe("interop results", () => {
  it("counts the distinct checkpoints of a job seen with in-flight data, on that root only", () => {
    const other = "fedcba9876543210fedcba9876543210";
    const cp = (job: string, chk: number, handles: number, root = ROOT) => ({ root, path: `${root}/${job}/chk-${chk}`, ok: true, channelStateHandles: handles });
    const samples: CheckerSample[] = [
      { t: 1, checkpoints: [cp(JOB, 1, 0), cp(JOB, 2, 4), cp(other, 2, 4)] },
      { t: 2, checkpoints: [cp(JOB, 2, 4), cp(JOB, 3, 2), cp(JOB, 4, 3, "hdfs://hdfs2/elsewhere")] },
    ];
    expect(checkpointsWithChannelState(samples, ROOT, JOB)).toBe(2);
    expect(checkpointsWithChannelState(samples, ROOT, other)).toBe(1);
    expect(checkpointsWithChannelState([{ t: 1, checkpoints: [cp(JOB, 1, 0)] }], ROOT, JOB)).toBe(0);
  });

  it("reads the job id and checkpoint number from a checkpoint path", () => {
    expect(chkOf(`${ROOT}/${JOB}/chk-17`)).toEqual({ job: JOB, chk: 17 });
    expect(chkOf(`${ROOT}/${JOB}/savepoint-1`)).toBeNull();
  });

  it("computes RPO from the newest restorable copy and the job's own completion times", () => {
    const completed = new Map([[JOB, new Map([[1, 1000], [2, 3000], [3, 5000]])]]);
    const s = summarise([
      sample(2000, [{ chk: 1, ok: true }]),
      sample(4000, [{ chk: 1, ok: true }, { chk: 2, ok: true }]),
      sample(6000, [{ chk: 2, ok: true }, { chk: 3, ok: false }]), // chk-3 is broken: it does not count
    ], ROOT, completed);
    expect(s.rpoSeconds).toEqual([1, 1, 3]);
    expect(s.violations).toHaveLength(1);
    expect(s.violations[0]).toContain("chk-3");
  });

  it("counts an unreachable target as unavailable, not as a violation, and ignores other roots", () => {
    const completed = new Map([[JOB, new Map([[1, 0]])]]);
    const s = summarise([
      sample(1000, [], true),
      sample(2000, [{ chk: 1, ok: false, root: "hdfs://hdfs2/distcp/flink/ckpt" }, { chk: 1, ok: true }]),
    ], ROOT, completed);
    expect(s).toMatchObject({ samples: 2, unavailable: 1, violations: [], rpoSeconds: [2] });
  });

  it("counts a checkpoint the checker could not reach the cluster for as an unavailable sample, not a violation", () => {
    const completed = new Map([[JOB, new Map([[1, 0]])]]);
    const unreachable = { root: ROOT, path: `${ROOT}/${JOB}/chk-2`, unavailable: "ConnectException: Connection refused" };
    const s = summarise([
      { t: 1000, checkpoints: [{ root: ROOT, path: `${ROOT}/${JOB}/chk-1`, ok: true }, unreachable] },
      sample(2000, [{ chk: 1, ok: true }, { chk: 2, ok: false }]), // a file really missing stays a violation
    ], ROOT, completed);
    expect(s).toMatchObject({ samples: 2, unavailable: 1, rpoSeconds: [2] });
    expect(s.violations).toEqual([expect.stringContaining("chk-2")]);
  });

  it("gives a sample with no restorable copy the age of the job's first checkpoint as RPO", () => {
    const completed = new Map([[JOB, new Map([[1, 1000], [2, 2000]])]]);
    const s = summarise([sample(500, []), sample(3000, []), sample(4000, [{ chk: 2, ok: true }]), sample(5000, [{ chk: 1, ok: false }])], ROOT, completed);
    // 500 is before the first checkpoint and does not count; 3000 and 5000 have nothing restorable.
    expect(s.noneRestorable).toBe(2);
    expect(s.rpoSeconds).toEqual([2, 2, 4]);
  });

  it("takes percentiles by rank", () => {
    expect(percentile([], 99)).toBeNull();
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });

  it("expects a restore to resume one past the last index counted before the barrier", () => {
    expect(expectedFirstIndex([43999, 43995])).toBe(44000);
  });

  it("parses the checker's lines and the job's completion log, tolerating a torn last line", () => {
    expect(parseSample("log4j: noise")).toBeNull();
    expect(parseSample('{"t":5,"checkpoints":[]}')).toEqual({ t: 5, checkpoints: [] });
    expect([...parseCompleted('{"chk":1,"t":10}\n{"chk":2,"t":20}\n{"chk":3,')]).toEqual([[1, 10], [2, 20]]);
  });

  it("finds the daemon's unpublishes in its log by the event field of the product's own lines, not a dry run's", () => {
    // The run fails on any unpublish: a check that silently stopped matching would pass every run.
    const lines: string[] = [];
    const log = pino({ level: "debug" }, { write: (l: string) => void lines.push(l) }).child({ job: "j" });
    logEvent(log, { type: "broken", job: "j", unit: "chk-3", problems: ["chk-3/a missing"], dryRun: false });
    logEvent(log, { type: "broken", job: "j", unit: "chk-4", problems: ["chk-4/a missing"], dryRun: true });
    logEvent(log, { type: "abandoned", job: "j", unit: "chk-5", reason: "subsumed", path: "/p" });
    logEvent(log, { type: "deleted", job: "j", unit: "chk-2", path: "/p/chk-2", reason: "retention" });
    const found = unpublishedByDaemon(`${lines.join("")}log4j: noise\n{"level":50,"event":"bro`);
    expect(found.map((r) => [r.job, r.checkpoint])).toEqual([["j", "chk-3"]]);
  });
});

describe("interop toolchain", () => {
  it("has Java 17 and Maven (required under CI=true; skipped with the reason elsewhere)", (ctx) => {
    const java = spawnSync("java", ["-version"], { encoding: "utf8" });
    const mvn = spawnSync("mvn", ["-v"], { encoding: "utf8" });
    const missing = [java.error || java.status !== 0 ? "java" : null, mvn.error || mvn.status !== 0 ? "mvn" : null].filter(Boolean);
    if (missing.length > 0) {
      const reason = `SKIPPED: interop toolchain: ${missing.join(" and ")} not found (npm run interop needs Java 17 and Maven)`;
      if (process.env.CI === "true") throw new Error(`${reason}; under CI=true this is a failure`);
      process.stderr.write(`${reason}\n`);
      ctx.skip(reason);
      return;
    }
    expect(`${java.stdout}${java.stderr}`).toMatch(/version "17\./);
  });
});
