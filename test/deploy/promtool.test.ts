// The alert rules under Prometheus' own tooling: `promtool check rules` accepts
// them and `promtool test rules` runs their unit tests
// (deploy/prometheus/alerts.test.yaml): the RPO alerts fire during a target or
// source outage, a stopped job does not page, an unreachable target does not
// read as "nothing restorable". A deliberately broken copy of the rules must
// fail those unit tests, so they can fail.

import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { projectRoot, readProjectFile } from "./deploy-parsers.js";
import { requireTool } from "../helpers/tools.js";

const run = promisify(execFile);

async function promtool(bin: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(bin, args, { cwd, timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("promtool on deploy/prometheus", () => {
  const dir = join(projectRoot, "deploy", "prometheus");

  it("promtool check rules accepts alerts.yaml", async (ctx) => {
    const bin = requireTool(ctx, "promtool", "promtool check rules");
    const r = await promtool(bin, ["check", "rules", "alerts.yaml"], dir);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it("promtool test rules passes alerts.test.yaml", async (ctx) => {
    const bin = requireTool(ctx, "promtool", "promtool test rules");
    const r = await promtool(bin, ["test", "rules", "alerts.test.yaml"], dir);
    expect(r.out).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("the unit tests fail for an RPO rule that pages on age alone (a stopped job would page)", async (ctx) => {
    const bin = requireTool(ctx, "promtool", "promtool test rules (mutated rules)");
    const tmp = await mkdtemp(join(tmpdir(), "promtool-"));
    try {
      await copyFile(join(dir, "alerts.test.yaml"), join(tmp, "alerts.test.yaml"));
      const rules = parse(readProjectFile("deploy/prometheus/alerts.yaml")) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
      const all = rules.groups.flatMap((g) => g.rules);
      const missed = all.find((r) => r.alert === "CkptRpoObjectiveMissed");
      if (!missed) throw new Error("CkptRpoObjectiveMissed is gone");
      missed.expr = missed.expr.split("unless")[0] ?? missed.expr; // page on age alone
      await writeFile(join(tmp, "alerts.yaml"), stringify(rules));
      const r = await promtool(bin, ["test", "rules", "alerts.test.yaml"], tmp);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("stopped job");
      expect(r.out).toContain("CkptRpoObjectiveMissed");
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
