// `ckpt-replicator resync --config FILE [--job ID] [--dry-run] [--json]`: one
// full reconcile with the daemon's engine, waiting until every job's sync is
// done. It publishes every complete source checkpoint the target keeps (the
// newest retain.max), not only the newest one as the daemon does. Exit 0 when
// every complete checkpoint it saw is published (or was subsumed meanwhile).

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import { CkptError } from "../../util/errors.js";
import { combineHooks } from "../../metrics/metrics.js";
import { createEngine } from "../../daemon/runtime.js";
import type { CycleReport, JobStatus } from "../../replication/index.js";
import { configOption, loadCommandConfig } from "../context.js";
import { ProgressLine } from "../progress.js";

export class ResyncIncompleteError extends CkptError {
  readonly kind = "resync-incomplete";
}

export interface ResyncArgs {
  config: string;
  job?: string | undefined;
  dryRun?: boolean;
  json?: boolean;
}

export interface ResyncJobSummary {
  job: string;
  newestSource: number | null;
  newestPublished: number | null;
  publishedNow: string[];
  upToDate: boolean;
  wouldCopy: { unit: string; files: number; bytes: number } | null;
  error: string | null;
}

export async function runResync(args: ResyncArgs, out: Writable & { isTTY?: boolean } = process.stdout): Promise<ResyncJobSummary[]> {
  const { config, logger } = await loadCommandConfig(args.config);
  let progress: ProgressLine | null = null;
  const engine = createEngine(config, logger, combineHooks({ onBytes: (_j, n) => progress?.addBytes(n) }), !args.dryRun);
  progress = new ProgressLine(process.stderr, () => engine.status());
  let report: CycleReport;
  try {
    await engine.start();
    progress.start();
    report = await engine.cycle({ wait: true, complete: true, ...(args.dryRun ? { dryRun: true } : {}), ...(args.job !== undefined ? { job: args.job } : {}) });
  } finally {
    progress.stop();
    await engine.stop();
  }
  const byJob = new Map<string, JobStatus>(engine.status().jobs.map((j) => [j.job, j]));
  const summaries: ResyncJobSummary[] = [...report.outcomes].map(([job, o]) => {
    const s = byJob.get(job);
    return {
      job,
      newestSource: s?.newestSourceCheckpoint ?? null,
      newestPublished: s?.newestPublishedCheckpoint ?? null,
      publishedNow: o.publishedNow,
      upToDate: o.upToDate && !s?.lastError,
      wouldCopy: o.wouldCopy,
      error: s?.lastError ?? null,
    };
  });
  if (args.job !== undefined && summaries.length === 0) throw new ResyncIncompleteError(`no job ${args.job} under the configured source roots`);
  if (args.json) out.write(`${JSON.stringify({ dryRun: !!args.dryRun, jobs: summaries }, null, 2)}\n`);
  else out.write(formatSummary(summaries, !!args.dryRun));
  const behind = summaries.filter((s) => !s.upToDate);
  if (!args.dryRun && behind.length > 0) {
    throw new ResyncIncompleteError(`${behind.length} job(s) not up to date: ${behind.map((b) => `${b.job}${b.error ? ` (${b.error})` : ""}`).join(", ")}`);
  }
  return summaries;
}

function formatSummary(jobs: ResyncJobSummary[], dryRun: boolean): string {
  if (jobs.length === 0) return "no jobs found under the configured source roots\n";
  const lines = jobs.map((j) => {
    const state = j.error ? `ERROR ${j.error}` : j.upToDate ? "up to date" : "behind";
    const now = j.publishedNow.length > 0 ? ` published ${j.publishedNow.join(", ")}` : "";
    const would = dryRun && j.wouldCopy ? ` would copy ${j.wouldCopy.files} files (${j.wouldCopy.bytes} bytes) for ${j.wouldCopy.unit}` : "";
    return `${j.job || "(root savepoints)"}: source chk-${j.newestSource ?? "-"}, target chk-${j.newestPublished ?? "-"}, ${state}${now}${would}`;
  });
  return `${lines.join("\n")}\n`;
}

export const resyncCommand: CommandModule<object, { config: string; job?: string; "dry-run": boolean; json: boolean }> = {
  command: "resync",
  describe: "Run one full reconcile and wait for it; exit 0 when every complete source checkpoint it saw is published",
  builder: (y) =>
    y.options({
      ...configOption,
      job: { type: "string", describe: "Only this job (its directory name under the root)" },
      "dry-run": { type: "boolean", default: false, describe: "Plan only: report what would be copied, write nothing" },
      json: { type: "boolean", default: false, describe: "Print the summary as JSON" },
    }),
  handler: async (argv) => {
    await runResync({ config: argv.config, job: argv.job, dryRun: argv["dry-run"], json: argv.json });
  },
};
