// The bench's real-stack section: figures read from an interop results file, with the reason
// printed when there are none, and a comparison marked invalid when either side failed.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatRealStack, readRealStackFigures } from "../../src/bench/real-stack.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ckpt-real-stack-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const large = { files: 24, bytes: 1159091825, daemonSeconds: 13.8, daemonExit: 0, distcpSeconds: 20.5, distcpExit: 0, ratioDaemonOverDistcpThroughput: 1.48 };

describe("real-stack figures from interop-results.json", () => {
  it("reports each perf case with its ratio, date and Hadoop version, skipping notes", async () => {
    const f = join(dir, "ok.json");
    await writeFile(f, JSON.stringify({ startedAt: "2026-12-01T10:00:00.000Z", flink: ["2.3.0"], hadoop: "3.4.2",
      perf: { large, "small-files": { ...large, files: 5000, daemonSeconds: 100, distcpSeconds: 300, ratioDaemonOverDistcpThroughput: 3 }, note: "text" } }));
    const r = await readRealStackFigures(f);
    expect("cases" in r && r.cases.map((c) => [c.name, c.files, c.ratio, c.valid])).toEqual([["large", 24, 1.48, true], ["small-files", 5000, 3, true]]);
    const text = formatRealStack(r);
    expect(text).toContain("measured 2026-12-01T10:00:00.000Z, Hadoop 3.4.2");
    expect(text).toContain("large: 24 files, 1105 MiB: daemon 13.8 s, distcp 20.5 s, ratio 1.48");
    expect(text).toContain("small-files: 5000 files");
    expect(text).not.toContain("INVALID");
  });

  it("marks a case whose daemon or DistCp exited non-zero as invalid", async () => {
    const f = join(dir, "failed.json");
    await writeFile(f, JSON.stringify({ perf: { large: { ...large, distcpExit: 1 } } }));
    const r = await readRealStackFigures(f);
    expect("cases" in r && r.cases[0]?.valid).toBe(false);
    expect(formatRealStack(r)).toContain("INVALID: a side exited non-zero");
  });

  it("says when DistCp was stopped at the time limit and the ratio is one of file rates", async () => {
    const f = join(dir, "partial.json");
    await writeFile(f, JSON.stringify({ perf: { "small-files": { ...large, files: 5000, distcpExit: null, distcpTimedOut: true,
      ratioDaemonOverDistcpThroughput: 2.5, ratioNote: "DistCp stopped after 600 s with 1200 of 5000 files; ratio of file rates (a lower bound)" } } }));
    const r = await readRealStackFigures(f);
    expect("cases" in r && r.cases[0]?.valid).toBe(true);
    expect(formatRealStack(r)).toContain("ratio 2.50 (DistCp stopped after 600 s with 1200 of 5000 files; ratio of file rates (a lower bound))");
  });

  it("says why when there is no file, no perf section or a broken file", async () => {
    const missing = await readRealStackFigures(join(dir, "absent.json"));
    expect(formatRealStack(missing)).toMatch(/no interop results .*run npm run interop/);
    const skipped = join(dir, "skipped.json");
    await writeFile(skipped, JSON.stringify({ perf: { skipped: true } }));
    expect(formatRealStack(await readRealStackFigures(skipped))).toContain("no perf figures");
    const broken = join(dir, "broken.json");
    await writeFile(broken, "{not json");
    expect(formatRealStack(await readRealStackFigures(broken))).toContain("unreadable interop results");
  });
});
