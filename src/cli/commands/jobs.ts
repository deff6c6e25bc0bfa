// `ckpt-replicator jobs --config FILE [--job ID] [--json]` (alias `status`):
// every job under the configured roots with the newest checkpoint on each
// side and how far the target is behind. It lists what it can see; a side it
// cannot read is marked so and the command then fails (4 source, 5 target), a
// missing source root exits 3 — never a table that looks complete but is not.
// The source's newest is the newest chk-N with a non-empty _metadata (Flink
// writes it last); on the target every _metadata is published, so restorable
// (`verify` checks the files themselves).

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import type { Config } from "../../config/load.js";
import { newestFirst, type TreeSnapshot } from "../../replication/scan.js";
import { openSides } from "../../replication/sides.js";
import { targetPathFor } from "../../replication/locations.js";
import { configOption, loadCommandConfig } from "../context.js";
import { displayJob, mostSevere, RootNotFoundError, SideUnreachableError, type Side } from "../exit-codes.js";
import { explainUnreadable, resolveJob } from "../../replication/probe.js";

export interface JobRow {
  job: string;
  source: { newest: number | null; checkpoints: number; completedAt: string | null } | null;
  target: { newest: number | null; checkpoints: number; completedAt: string | null } | null;
  /** Checkpoint ids the target is behind the source; null when a side is unknown. */
  behind: number | null;
}

function sideFailures(side: Side, config: Config, s: TreeSnapshot): Error[] {
  const out: Error[] = [];
  for (const r of s.roots) {
    if (r.reason === "missing" && side === "source") out.push(new RootNotFoundError(side, config[side].name, r.root));
    if (r.reason === "unreadable") out.push(new SideUnreachableError(side, config[side].name, r.root, explainUnreadable(r.error), { cause: r.error }));
  }
  return out;
}

function newestOf(s: TreeSnapshot, dir: string, needsBytes: boolean): { newest: number | null; checkpoints: number; completedAt: string | null } {
  const job = s.jobs.get(dir);
  const units = (job?.units ?? []).filter((u) => u.kind === "checkpoint" && u.metadata !== null && (!needsBytes || u.metadata.length > 0)).sort(newestFirst);
  const first = units[0];
  return { newest: first?.checkpointId ?? null, checkpoints: units.length, completedAt: first?.metadata ? new Date(first.metadata.mtime).toISOString() : null };
}

export async function listJobs(config: Config, logger: import("../../util/log.js").Logger, jobQuery?: string): Promise<{ rows: JobRow[]; failures: Error[] }> {
  const sides = openSides(config, logger);
  try {
    const [source, target] = await Promise.all([sides.source.scanner.scan(), sides.target.scanner.scan()]);
    const failures = [...sideFailures("source", config, source), ...sideFailures("target", config, target)];
    const sourceOk = source.roots.every((r) => r.reason !== "unreadable");
    const targetOk = target.roots.every((r) => r.reason !== "unreadable");
    const byKey = new Map<string, { sourceDir?: string; targetDir?: string }>();
    for (const j of source.jobs.values()) {
      const t = targetPathFor(j.dir, config.paths);
      byKey.set(j.key, { ...byKey.get(j.key), sourceDir: j.dir, ...(t !== null ? { targetDir: t } : {}) });
    }
    for (const j of target.jobs.values()) byKey.set(j.key, { ...byKey.get(j.key), targetDir: j.dir });
    let keys = [...byKey.keys()].sort();
    if (jobQuery !== undefined) keys = [resolveJob(jobQuery, keys, `the configured roots (${config.paths.map((p) => p.source).join(", ")})`)];
    const rows = keys.map((key): JobRow => {
      const e = byKey.get(key)!;
      const s = sourceOk ? newestOf(source, e.sourceDir ?? "", true) : null;
      const t = targetOk ? newestOf(target, e.targetDir ?? "", false) : null;
      const behind = s === null || t === null ? null : s.newest === null ? 0 : Math.max(0, s.newest - (t.newest ?? 0));
      return { job: key, source: s, target: t, behind };
    });
    return { rows, failures };
  } finally {
    sides.close();
  }
}

export function formatJobs(rows: JobRow[], config: Config): string {
  if (rows.length === 0) return "no jobs under the configured roots\n";
  const cell = (x: JobRow["source"]) => (x === null ? "UNREADABLE" : x.newest === null ? "-" : `chk-${x.newest}`);
  const table = [["JOB", `SOURCE (${config.source.name})`, `TARGET (${config.target.name})`, "BEHIND"]];
  for (const r of rows) table.push([displayJob(r.job), cell(r.source), cell(r.target), r.behind === null ? "?" : String(r.behind)]);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return `${table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")}\n`;
}

export async function runJobs(args: { config: string; job?: string | undefined; json?: boolean }, out: Writable = process.stdout): Promise<JobRow[]> {
  const { config, logger } = await loadCommandConfig(args.config);
  const { rows, failures } = await listJobs(config, logger, args.job);
  out.write(args.json ? `${JSON.stringify({ jobs: rows }, null, 2)}\n` : formatJobs(rows, config));
  if (failures.length > 0) throw mostSevere(failures);
  return rows;
}

export const jobsCommand: CommandModule<object, { config: string; job?: string; json: boolean }> = {
  command: "jobs",
  aliases: ["status"],
  describe: "List the jobs with the newest checkpoint on each side and how far the target is behind",
  builder: (y) =>
    y.options({
      ...configOption,
      job: { type: "string", describe: "Only this job (or a unique prefix of its id)" },
      json: { type: "boolean", default: false, describe: "Print the list as JSON" },
    }),
  handler: async (argv) => {
    await runJobs({ config: argv.config, job: argv.job, json: argv.json });
  },
};
