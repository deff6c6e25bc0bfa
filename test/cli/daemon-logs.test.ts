// Issue #9 §4: the daemon logs a periodic one-line stats summary (copied,
// pending, per-job RPO), keeps per-file chatter at debug, and a SIGTERM in the
// middle of a copy stops it cleanly: exit 0 and no error logged.

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";
import { waitFor } from "../helpers/child.js";
import { logRecords } from "../helpers/log-lines.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "daemon-logs-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("daemon logs", () => {
  it("logs a stats line, and SIGTERM mid-copy exits 0 without an error line", async () => {
    const job = "d4".repeat(16);
    const sim = new FlinkJobSimulator({ storage: new LocalStorage("src"), fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: 4 * 1024 * 1024, retained: 2, seed: 8, jobId: job });
    await sim.run({ count: 1 });
    const config = join(tmp, "d.yaml");
    await writeFile(
      config,
      `source: {name: src}\ntarget: {name: dr}\npaths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]\nscan: {interval: 200ms}\n` +
        `copy: {bandwidth: 512KiB, concurrency: 2}\nlease: {ttl: 5s}\nmetrics: false\nlog: {level: info, statsInterval: 1s}\n`,
    );
    const child = spawn(process.execPath, [inject("cliBin"), "run", "--config", config], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CKPT_LOG_LEVEL: "" } });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<{ code: number | null }>((resolve) => child.on("exit", (code) => resolve({ code })));
    try {
      const lines = () => logRecords(err);
      await waitFor(() => lines().some((l) => String(l.msg).startsWith("stats: ")), 15_000, "a stats line");
      const stats = lines().find((l) => String(l.msg).startsWith("stats: "))!;
      expect(stats.msg).toMatch(/^stats: copied \d+ files \([\d.]+ (B|KiB|MiB), [\d.]+ (B|KiB|MiB)\/s\) in \ds, published \d+, deleted \d+; pending \d+ files \([\d.]+ (B|KiB|MiB)\) of \d+ checkpoint\(s\), \d+ queued \([\d.]+ (B|KiB|MiB) in flight\); 1 job\(s\), 0 failing, worst RPO -, 1 with nothing restorable$/);
      expect(stats).toMatchObject({ level: 30, jobs: 1, failingJobs: 0, rpoSeconds: { [job]: null } });
      child.kill("SIGTERM"); // the 4 MiB checkpoint at 512 KiB/s is still being copied
      expect((await exited).code).toBe(0);
      const levels = lines().map((l) => Number(l.level));
      expect(lines().filter((l) => Number(l.level) >= 50), err).toEqual([]);
      expect(levels.length).toBeGreaterThan(0);
      expect(lines().some((l) => l.msg === "replicator stopped")).toBe(true);
      expect(lines().some((l) => l.msg === "job sync interrupted by the stop"), err).toBe(true); // it was mid-copy
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
