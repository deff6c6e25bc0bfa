// The rpo config key: a default objective for every job and per-job overrides by
// Flink job id, validated with errors that name the key; the daemon exports each
// job's objective as ckpt_replicator_rpo_objective_seconds.

import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { rpoObjectiveMs } from "../../src/metrics/metrics.js";

const base = `source: {name: src}
target: {name: dr}
paths: [{source: "file:///tmp/rpo-src", target: "file:///tmp/rpo-dr"}]
`;

describe("config key rpo", () => {
  it("defaults to 15 minutes for every job", async () => {
    const c = await parseConfigText(base, "rpo.yaml", {});
    expect(c.rpo).toEqual({ objective: 15 * 60_000, jobs: {} });
    expect(rpoObjectiveMs(c.rpo, "any")).toBe(15 * 60_000);
  });

  it("takes a default objective and per-job overrides", async () => {
    const c = await parseConfigText(`${base}rpo: {objective: 30m, jobs: {a1b2c3d4e5f60718293a4b5c6d7e8f90: 5m, other: 90s}}\n`, "rpo.yaml", {});
    expect(rpoObjectiveMs(c.rpo, "a1b2c3d4e5f60718293a4b5c6d7e8f90")).toBe(5 * 60_000);
    expect(rpoObjectiveMs(c.rpo, "other")).toBe(90_000);
    expect(rpoObjectiveMs(c.rpo, "unlisted")).toBe(30 * 60_000);
  });

  it("rejects a bad objective or an unknown key, naming it", async () => {
    await expect(parseConfigText(`${base}rpo: {jobs: {abc: soon}}\n`, "rpo.yaml", {})).rejects.toThrow(/rpo\.jobs\.abc: "soon" is not a duration/);
    await expect(parseConfigText(`${base}rpo: {objectiv: 5m}\n`, "rpo.yaml", {})).rejects.toThrow(/rpo: unknown key "objectiv"/);
  });
});
