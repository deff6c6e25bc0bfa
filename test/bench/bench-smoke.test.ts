// Smoke test of the benchmark harness: the quick profile runs end to end against
// the in-process emulator and produces a well-formed table and results file;
// failures (a missed target, a benchmark that throws, bad arguments) are
// reported and turn into a non-zero exit code. Ratios are NOT checked here.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBenchmarks, type Benchmark } from "../../src/bench/harness.js";
import { QUICK_PROFILE } from "../../src/bench/profile.js";
import { formatTable } from "../../src/bench/report.js";
import { judge, type BenchResult } from "../../src/bench/result.js";
import { BENCHMARKS, main, parseBenchArgs, runBench } from "../../src/bench/run.js";
import { quantile } from "../../src/bench/steady-state.js";
import { UsageError } from "../../src/util/errors.js";

function sink(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ckpt-bench-test-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bench --quick", () => {
  // small-files, tree-scale, engine-scale, steady-state-rpo and fairness are left out: they would add
  // ~20 s or more to CI for no more harness coverage (tree-scale and engine-scale also need the compiled
  // child entries); `npm run bench -- --quick` runs them.
  const SMOKE = ["copy-throughput", "scan-requests", "catch-up", "memory-bound"];
  it("runs the benchmarks and writes well-formed results", async () => {
    const out = join(dir, "results.json");
    const stdout = sink();
    // The perf-only interop run (the 5,000-file case) is reported beside the main one.
    const perfOnly = join(dir, "interop-perf-results.json");
    const smallFiles = { files: 4963, bytes: 32244657, daemonSeconds: 81.4, daemonExit: 0, distcpSeconds: 146.9, distcpExit: 0, ratioDaemonOverDistcpThroughput: 1.8 };
    await writeFile(perfOnly, JSON.stringify({ startedAt: "2026-12-01T15:29:10.645Z", hadoop: "3.4.2", perf: { "small-files": smallFiles } }));
    const args = await parseBenchArgs(["--quick", "--out", out, "--emulator", "in-process", "--only", ...SMOKE, "--interop-perf-results", perfOnly]);
    const { code, run } = await runBench(args, stdout.stream);
    expect(stdout.text()).toContain(`from ${perfOnly}, measured 2026-12-01T15:29:10.645Z`);
    expect(stdout.text()).toMatch(/small-files: 4963 files, 31 MiB: daemon 81\.4 s, distcp 146\.9 s, ratio 1\.80/);
    const written = JSON.parse(await readFile(out, "utf8")) as { realStackPerfOnly?: { cases?: Array<{ name: string; files: number }> } };
    expect(written.realStackPerfOnly?.cases).toEqual([expect.objectContaining({ name: "small-files", files: 4963 })]);

    const doc = JSON.parse(await readFile(out, "utf8")) as { version: number; profile: string; emulator: string; passed: boolean; results: BenchResult[] };
    expect(doc.version).toBe(1);
    expect(doc.profile).toBe("quick");
    expect(doc.emulator).toBe("in-process");
    expect(doc.results.map((r) => r.id)).toEqual(["copy-throughput", "scan-requests", "scan-time", "catch-up", "memory-bound"]);
    for (const r of doc.results) {
      expect(r.error, `${r.id} error`).toBeUndefined();
      expect(r.value, r.id).toBeGreaterThan(0);
      expect(r.baseline, r.id).toBeGreaterThan(0);
      expect(r.ratio, r.id).toBeCloseTo(r.value / r.baseline, 9);
      expect(["ratio", "growth"]).toContain(r.target.on);
      expect(r.pass).toBe(judge(r).pass);
    }
    // The incremental scan of an unchanged tree asks less than the cold one; catch-up published only the newest.
    const byId = new Map(doc.results.map((r) => [r.id, r]));
    expect(byId.get("scan-requests")!.value).toBeLessThan(byId.get("scan-requests")!.baseline);
    expect(byId.get("catch-up")!.details.catchUpPublished).toBe(1);
    expect(byId.get("copy-throughput")!.details.replicatorFilesCopied).toBe((byId.get("copy-throughput")!.details.files as number) - 1);

    expect(doc.passed).toBe(run.passed);
    expect(code).toBe(doc.passed ? 0 : 1);
    const table = stdout.text();
    expect(table).toMatch(/benchmark\s+value\s+baseline\s+ratio\s+target\s+result/);
    for (const id of byId.keys()) expect(table).toMatch(new RegExp(`^${id}\\s`, "m"));
    expect(table).toContain(`results written to ${out}`);
  });
});

describe("failures", () => {
  const fine: Benchmark = {
    id: "fine",
    title: "meets its target",
    unit: "x",
    target: () => ({ on: "ratio", op: "<=", limit: 1 }),
    run: async () => [{ id: "fine", title: "meets its target", unit: "x", value: 1, baseline: 2, target: { on: "ratio", op: "<=", limit: 1 }, details: {} }],
  };
  const missed: Benchmark = {
    ...fine,
    id: "missed",
    run: async () => [{ id: "missed", title: "misses", unit: "MiB", value: 300, baseline: 100, target: { on: "growth", op: "<", limit: 150 }, details: {} }],
  };
  const broken: Benchmark = {
    ...fine,
    id: "broken",
    run: async () => {
      throw new Error("emulator exploded");
    },
  };

  it("reports a missed target and a benchmark that throws, runs the rest, and fails the run", async () => {
    const run = await runBenchmarks([broken, missed, fine], { profile: QUICK_PROFILE, emulator: "in-process" });
    expect(run.results.map((r) => [r.id, r.pass])).toEqual([
      ["broken", false],
      ["missed", false],
      ["fine", true],
    ]);
    expect(run.results[0]!.error).toBe("emulator exploded");
    expect(run.results[1]!.ratio).toBe(3);
    expect(run.passed).toBe(false);
    const table = formatTable(run);
    expect(table).toMatch(/^missed\s.*growth < 150 MiB\s+FAIL$/m);
    expect(table).toContain("broken: error: emulator exploded");
    expect(table).toContain("2 of 3 target(s) missed");
  });

  it("judges targets on the ratio or on the growth; a zero baseline never passes a ratio target", () => {
    const base = { id: "t", title: "t", unit: "MiB", details: {} };
    expect(judge({ ...base, value: 0.79, baseline: 1, target: { on: "ratio", op: ">=", limit: 0.8 } }).pass).toBe(false);
    expect(judge({ ...base, value: 0.8, baseline: 1, target: { on: "ratio", op: ">=", limit: 0.8 } }).pass).toBe(true);
    expect(judge({ ...base, value: 249, baseline: 100, target: { on: "growth", op: "<", limit: 150 } }).pass).toBe(true);
    expect(judge({ ...base, value: 250, baseline: 100, target: { on: "growth", op: "<", limit: 150 } }).pass).toBe(false);
    const zero = judge({ ...base, value: 5, baseline: 0, target: { on: "ratio", op: "<=", limit: 0.1 } });
    expect(zero.ratio).toBeNull();
    expect(zero.pass).toBe(false);
  });

  it("rejects unknown options and benchmark ids (exit code 2)", async () => {
    await expect(parseBenchArgs(["--fast"])).rejects.toBeInstanceOf(UsageError);
    await expect(parseBenchArgs(["--only", "nope"])).rejects.toBeInstanceOf(UsageError);
    expect(await parseBenchArgs(["--only", "catch-up", "memory-bound"])).toMatchObject({ only: ["catch-up", "memory-bound"], quick: false, out: "./bench-results.json" });
    expect(await parseBenchArgs(["--only", "steady-state-rpo", "--rpo-duration", "300"])).toMatchObject({ rpoDuration: 300 });
    await expect(parseBenchArgs(["--rpo-duration", "0"])).rejects.toBeInstanceOf(UsageError);
    expect(await parseBenchArgs(["--only", "engine-scale", "--engine-max-old-space", "256"])).toMatchObject({ engineMaxOldSpaceMiB: 256 });
    await expect(parseBenchArgs(["--engine-max-old-space", "1.5"])).rejects.toBeInstanceOf(UsageError);
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(["--emulator", "elsewhere"])).toBe(2);
    } finally {
      process.stderr.write = stderr;
    }
  });

  it("takes the steady-state lag percentiles by nearest rank", () => {
    const lags = [5, 1, 4, 2, 3];
    expect(quantile(lags, 0.5)).toBe(3);
    expect(quantile(lags, 0.99)).toBe(5);
    expect(quantile(Array.from({ length: 200 }, (_, i) => i + 1), 0.99)).toBe(198);
    expect(quantile([], 0.99)).toBeNaN();
  });

  it("refuses a child-process emulator when running from sources, saying why", async () => {
    const run = await runBenchmarks(BENCHMARKS.slice(0, 1), { profile: QUICK_PROFILE, emulator: "child" }).catch((err: unknown) => err);
    expect(run).toBeInstanceOf(Error);
    expect((run as Error).message).toMatch(/child-process emulator needs the compiled harness/);
  });
});
