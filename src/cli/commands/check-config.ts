// `ckpt-replicator check-config --config FILE [--json]`: validates the file
// (exit 78 when invalid), asks every configured NameNode for its state
// (active, standby, unreachable, not a NameNode), lists each root with the
// jobs it holds, and shows who holds the target lease. Exit codes as for the
// other commands: a missing source root 3, a source that cannot be read 4, a
// target that cannot be read 5. A target root that does not exist yet is fine
// (the first run creates it) and is reported as such.

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import type { ClusterSide, Config } from "../../config/load.js";
import { formatDuration } from "../../util/units.js";
import { openSides } from "../../replication/sides.js";
import { ADMIN_DIR } from "../../replication/layout.js";
import { describeLease } from "../../replication/lease.js";
import { joinPath, type ReadOnlyStorage } from "../../storage/types.js";
import { errorMessage } from "../../util/errors.js";
import { configOption, loadCommandConfig } from "../context.js";
import { displayJob, mostSevere, type Side } from "../exit-codes.js";
import { explainUnreadable, probeFailure, probeSide, type RootProbe } from "../../replication/probe.js";

export type NameNodeState = "active" | "standby" | "unreachable" | "error";

export interface NameNodeCheck {
  url: string;
  state: NameNodeState;
  detail?: string;
}

export interface SideCheck {
  side: Side;
  name: string;
  kind: string;
  /** What serves the side, e.g. "HDFS over WebHDFS". */
  backend: string;
  uri: string | null;
  namenodes: NameNodeCheck[];
  roots: RootProbe[];
}

export interface CheckReport {
  file: string;
  sides: SideCheck[];
  lease: { path: string; state: "free" | "held" | "expired" | "unknown"; holder?: string; expiresAt?: string; detail?: string };
  warnings: string[];
}

export async function checkConfig(config: Config, logger: import("../../util/log.js").Logger): Promise<{ report: CheckReport; failures: Error[] }> {
  const sides = openSides(config, logger);
  const warnings: string[] = [];
  const failures: Error[] = [];
  try {
    const checks = await Promise.all(
      (["source", "target"] as const).map(async (side): Promise<SideCheck> => {
        const cfg = config[side];
        const [namenodes, roots] = await Promise.all([checkNameNodes(cfg), probeSide(config, side, sides[side].storage)]);
        return { side, name: cfg.name, kind: cfg.kind, backend: cfg.backend.label, uri: cfg.uri ?? null, namenodes, roots };
      }),
    );
    for (const c of checks) {
      const down = c.namenodes.filter((n) => n.state !== "active" && n.state !== "standby");
      if (down.length > 0 && down.length < c.namenodes.length) {
        warnings.push(`${c.side} ${c.name}: ${down.map((n) => `${n.url} is ${n.state}`).join(", ")}; the others answer, but HA has no spare`);
      }
      if (c.namenodes.length > 0 && !c.namenodes.some((n) => n.state === "active") && c.roots.every((r) => r.state !== "unreadable")) {
        warnings.push(`${c.side} ${c.name}: no NameNode answered as active`);
      }
      for (const r of c.roots) {
        const f = probeFailure(r, { missingOk: c.side === "target" });
        if (f) failures.push(f);
        else if (r.state === "missing") warnings.push(`target root ${r.root} does not exist yet; the first run creates it`);
      }
    }
    const lease = await leaseState(config, sides.target.storage);
    return { report: { file: config.file, sides: checks, lease, warnings }, failures };
  } finally {
    sides.close();
  }
}

/** The side's server endpoints (NameNodes), asked by its backend; none for a backend without servers to ask. */
async function checkNameNodes(side: ClusterSide): Promise<NameNodeCheck[]> {
  if (side.backend.probe === undefined) return [];
  const checks = await side.backend.probe(side);
  return checks.map((c) => ({
    url: c.url,
    state: c.state,
    ...(c.error === undefined ? {} : { detail: c.state === "unreachable" ? c.error.message : explainUnreadable(c.error) }),
  }));
}

async function leaseState(config: Config, target: ReadOnlyStorage): Promise<CheckReport["lease"]> {
  const path = config.lease.path ?? joinPath(joinPath((config.paths[0] as { target: string }).target, ADMIN_DIR), "lease");
  try {
    const d = await describeLease(target, path);
    return {
      path,
      state: d.state,
      ...(d.holder !== undefined ? { holder: `${d.holder} (epoch ${d.epoch})` } : {}),
      ...(d.expiresAt !== undefined ? { expiresAt: new Date(d.expiresAt).toISOString() } : {}),
      ...(d.detail !== undefined ? { detail: d.detail } : {}),
    };
  } catch (err) {
    return { path, state: "unknown", detail: errorMessage(err) };
  }
}

export function formatCheckReport(r: CheckReport, config: Config): string {
  const lines = [`config ${r.file}: valid (scan every ${formatDuration(config.scan.interval)}, lease ttl ${formatDuration(config.lease.ttl)}, retain ${config.retain.min}..${config.retain.max})`];
  for (const s of r.sides) {
    lines.push(`${s.side} ${s.name} (${s.uri !== null && s.uri !== `${config[s.side].backend.scheme}://` ? s.uri : s.backend}):`);
    for (const n of s.namenodes) lines.push(`  namenode ${n.url}: ${n.state}${n.detail && n.state !== "active" && n.state !== "standby" ? ` (${n.detail})` : ""}`);
    for (const root of s.roots) {
      if (root.state === "ok") {
        const shown = root.jobs.slice(0, 10).map(displayJob).join(", ");
        lines.push(`  root ${root.root}: ${root.jobs.length} job(s)${root.jobs.length > 0 ? `: ${shown}${root.jobs.length > 10 ? `, ... ${root.jobs.length - 10} more` : ""}` : ""}`);
      } else if (root.state === "missing") lines.push(`  root ${root.root}: DOES NOT EXIST${root.detail ? ` (${root.detail})` : ""}`);
      else lines.push(`  root ${root.root}: UNREADABLE: ${root.detail ?? ""}`);
    }
  }
  const l = r.lease;
  lines.push(`lease ${l.path}: ${l.state}${l.holder ? ` (${l.holder}, ${l.state === "held" ? "expires" : "expired"} ${l.expiresAt})` : ""}${l.detail ? ` (${l.detail})` : ""}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join("\n")}\n`;
}

export async function runCheckConfig(args: { config: string; json?: boolean }, out: Writable = process.stdout): Promise<CheckReport> {
  const { config, logger } = await loadCommandConfig(args.config);
  const { report, failures } = await checkConfig(config, logger);
  out.write(args.json ? `${JSON.stringify({ ...report, ok: failures.length === 0 }, null, 2)}\n` : formatCheckReport(report, config));
  if (failures.length > 0) throw mostSevere(failures);
  return report;
}

export const checkConfigCommand: CommandModule<object, { config: string; json: boolean }> = {
  command: "check-config",
  describe: "Validate the config, ask every NameNode for its state, list roots, jobs and the lease holder",
  builder: (y) => y.options({ ...configOption, json: { type: "boolean", default: false, describe: "Print the report as JSON" } }),
  handler: async (argv) => {
    await runCheckConfig({ config: argv.config, json: argv.json });
  },
};
