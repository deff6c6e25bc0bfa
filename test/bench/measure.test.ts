import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cpuDuring, stealTicks } from "../../src/bench/measure.js";
import { reportedRound } from "../../src/bench/small-files.js";

describe("bench measuring helpers", () => {
  it("stealTicks reads the host's steal share from /proc/stat (Linux), a percentage of the time since", async () => {
    const steal = stealTicks();
    if (!existsSync("/proc/stat")) {
      expect(steal).toBeNull();
      return;
    }
    expect(steal).not.toBeNull();
    const end = Date.now() + 50;
    while (Date.now() < end); // some CPU ticks pass
    await new Promise((r) => setTimeout(r, 30));
    const pct = steal!.sincePct();
    expect(pct).toBeGreaterThanOrEqual(0);
    expect(pct).toBeLessThanOrEqual(100);
  });

  it("cpuDuring counts this process's CPU, and the emulator's only when one is given that runs apart", async () => {
    // Spins until this process has used 30 ms of CPU (not wall time: a busy host may give it less).
    const busy = () => {
      const start = process.cpuUsage();
      for (;;) {
        const used = process.cpuUsage(start);
        if (used.user + used.system >= 30_000) break;
      }
      return Promise.resolve(7);
    };
    const alone = await cpuDuring(busy);
    expect(alone.result).toBe(7);
    expect(alone.cpuMs).toBeGreaterThanOrEqual(30);
    expect(alone.emulatorCpuMs).toBeNull();
    let calls = 0;
    const child = { emulatorCpuMs: () => Promise.resolve(calls++ === 0 ? 1000 : 1250) };
    expect((await cpuDuring(busy, child)).emulatorCpuMs).toBe(250);
    const inProcess = { emulatorCpuMs: () => Promise.resolve(null) };
    expect((await cpuDuring(busy, inProcess)).emulatorCpuMs).toBeNull();
  });
});

describe("small-files: the reported round", () => {
  const round = (stealPct: number | null, npmMs: number, replicatorMs: number) => ({ stealPct, npm: { ms: npmMs }, replicator: { ms: replicatorMs } });
  it("is the round the hypervisor took the least CPU from, or the median ratio without steal figures", () => {
    const rounds = [round(30, 80_000, 30_000), round(2, 28_000, 12_000), round(15, 40_000, 14_000)];
    expect(reportedRound(rounds)).toBe(rounds[1]);
    const noSteal = [round(null, 80_000, 30_000), round(null, 28_000, 12_000), round(null, 40_000, 14_000)];
    // ratios 2.67, 2.33, 2.86: the median is the first
    expect(reportedRound(noSteal)).toBe(noSteal[0]);
    expect(() => reportedRound([])).toThrow(/no round/);
  });
});
