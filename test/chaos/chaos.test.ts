// The seeded chaos run (see test/chaos/README.md): a few fixed seeds in CI,
// one seed with CHAOS_SEED=<n>, a soak with CHAOS_SEEDS=<count> and/or
// CHAOS_SOAK_MINUTES=<m>. A failure prints the seed, the world, the fault
// schedule and every violation with its time.

import { describe, expect, inject, it } from "vitest";
import { formatResult, runChaos } from "./harness.js";
import { KNOWN_FAILING, strict } from "./known-failing.js";
import { worldForSeed } from "./world.js";

// 1-3 find bugs of issue #7 today (see KNOWN_FAILING); 7 passes today and guards against regressions.
const CI_SEEDS = [1, 2, 3, 7];
const DURATION_MS = Number(process.env.CHAOS_DURATION_MS ?? 40_000);

function seedsToRun(): number[] {
  if (process.env.CHAOS_SEED) return process.env.CHAOS_SEED.split(",").map((s) => Number(s.trim()));
  const extra = Number(process.env.CHAOS_SEEDS ?? 0);
  const base = process.env.CHAOS_BASE_SEED ? Number(process.env.CHAOS_BASE_SEED) : 1000;
  const seeds = [...CI_SEEDS];
  for (let i = 0; i < extra; i++) seeds.push(base + i);
  return seeds;
}

describe("chaos: independent checker against the real daemon under a seeded fault schedule", () => {
  const soakMinutes = Number(process.env.CHAOS_SOAK_MINUTES ?? 0);
  for (const seed of seedsToRun()) {
    it(`seed ${seed} (replay: CHAOS_SEED=${seed} npx vitest run test/chaos/chaos.test.ts)`, async (ctx) => {
      const world = worldForSeed(seed, DURATION_MS);
      const result = await runChaos(world, inject("cliBin"));
      const report = formatResult(result);
      process.stderr.write(`chaos seed ${seed}: ${result.violations.length} violation(s), ${result.samples} samples, ${Math.round(result.elapsedMs / 1000)} s\n`);
      if (process.env.CHAOS_VERBOSE) process.stderr.write(`${report}\n`);
      expect(result.samples, `the checker never read the target\n${report}`).toBeGreaterThan(5);
      const known = KNOWN_FAILING[`seed ${seed}`];
      if (known !== undefined && !strict()) {
        if (result.violations.length > 0) {
          const note = `KNOWN_FAILING seed ${seed}: ${known}; ${result.violations.length} violation(s), first: [${result.violations[0]!.invariant}] ${result.violations[0]!.message.split("\n")[0]}`;
          process.stderr.write(`${note}\n${report}\n`);
          ctx.skip(note);
          return;
        }
        process.stderr.write(`NOTE: seed ${seed} is in KNOWN_FAILING but found no violation this time (it may be timing-dependent); remove it once its bug is fixed\n`);
      }
      expect(result.violations, `CHAOS_SEED=${seed} replays this run\n${report}`).toEqual([]);
    }, DURATION_MS + 120_000);
  }
  if (soakMinutes > 0) {
    it(`soak for ${soakMinutes} min of consecutive seeds (CHAOS_SOAK_MINUTES)`, async () => {
      const until = Date.now() + soakMinutes * 60_000;
      const failures: string[] = [];
      for (let seed = Number(process.env.CHAOS_BASE_SEED ?? 5000); Date.now() < until; seed++) {
        const result = await runChaos(worldForSeed(seed, DURATION_MS), inject("cliBin"));
        process.stderr.write(`chaos soak seed ${seed}: ${result.violations.length} violation(s), ${Math.round(result.elapsedMs / 1000)} s\n`);
        if (result.violations.length > 0) failures.push(`CHAOS_SEED=${seed}\n${formatResult(result)}`);
      }
      expect(failures, failures.join("\n\n")).toEqual([]);
    }, soakMinutes * 60_000 + DURATION_MS + 180_000);
  }
});
