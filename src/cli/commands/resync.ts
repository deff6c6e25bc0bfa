// `ckpt-replicator resync --config FILE [--job ID] [--dry-run] [--json]`: one
// full reconcile with the daemon's engine, waiting until every job's sync is
// done. It publishes every complete source checkpoint the target keeps (the
// newest retain.max), not only the newest one as the daemon does. --dry-run
// runs the same selection and planning and reports every checkpoint it would
// publish with its files and bytes, writing nothing.
//
// It never reports success it did not see: the roots are probed first (a
// missing root exits 3, an unreadable source 4, an unreadable target 5), a
// job left with nothing restorable on the target while the source has
// checkpoints exits 6, deletions stopped at --max-delete exit 7, and any job
// that failed or stayed behind exits 1.
//
// SIGINT/SIGTERM stop it gracefully: no new copy starts, the copies in flight
// are aborted and their temporaries removed, nothing partial is published (a
// _metadata is written only after its whole closure is verified), the lease is
// released, one line says so, and it exits 130/143 (128 + the signal).

import type { CommandModule } from "yargs";
import type { Writable } from "node:stream";
import { combineHooks } from "../../metrics/metrics.js";
import { createEngine } from "../../daemon/runtime.js";
import { openSides } from "../../replication/sides.js";
import type { CycleReport, StopOutcome, JobStatus, PlannedUnit, TreeSnapshot } from "../../replication/index.js";
import { formatBytes } from "../../util/units.js";
import type { Config } from "../../config/load.js";
import { configOption, loadCommandConfig, withTermination } from "../context.js";
import { ProgressLine } from "../progress.js";
import { displayJob, InterruptedError, JobNotFoundError, MaxDeleteExceededError, mostSevere, NothingRestorableError, PartialFailureError, RootNotFoundError, SideUnreachableError, type Side } from "../exit-codes.js";
import { assertProbes, explainUnreadable, jobsOf, probeSide, resolveJob } from "../../replication/probe.js";
import { jobFilterOf, jobPatternOptions, overrideOptions, overridesOf, type JobPatternArgs, type OverrideArgs } from "../overrides.js";

/** Kept for callers that matched on it: a resync whose jobs are not all up to date. */
export class ResyncIncompleteError extends PartialFailureError {}

export interface ResyncArgs extends OverrideArgs, JobPatternArgs {
  config: string;
  job?: string | undefined;
  dryRun?: boolean;
  json?: boolean;
}

export type ResyncJobState = "up-to-date" | "behind" | "failed" | "nothing-restorable" | "no-source-checkpoint" | "deletions-aborted";

export interface ResyncJobSummary {
  job: string;
  state: ResyncJobState;
  newestSource: number | null;
  /** Newest checkpoint restorable on the target (after the run; before it for --dry-run). */
  newestPublished: number | null;
  /** Checkpoint ids the target is behind the source (0 when up to date). */
  behind: number;
  publishedNow: string[];
  upToDate: boolean;
  /** --dry-run: the first unit it would publish (kept for compatibility; see planned). */
  wouldCopy: PlannedUnit | null;
  /** --dry-run: every unit the real run would publish, with the files and bytes it would copy. */
  planned: PlannedUnit[];
  filesCopied: number;
  bytesCopied: number;
  error: string | null;
  /** The human summary line. */
  line: string;
}

/**
 * `stop` (SIGINT/SIGTERM from the CLI, its reason the signal's name) interrupts the run: see the header.
 */
export async function runResync(args: ResyncArgs, out: Writable & { isTTY?: boolean } = process.stdout, stop?: AbortSignal): Promise<ResyncJobSummary[]> {
  const overrides = overridesOf(args); // usage errors before anything is read
  const jobFilter = jobFilterOf(args);
  const loaded = await loadCommandConfig(args.config);
  const config = overrides.apply(loaded.config);
  const { logger } = loaded;
  const job = await preflight(config, logger, args.job, jobFilter);
  if (stop?.aborted) throw interrupted(stop, "before anything was copied", [], 0, null);

  let progress: ProgressLine | null = null;
  const engine = createEngine(config, logger, combineHooks({ onBytes: (_j, n) => progress?.addBytes(n) }), !args.dryRun);
  progress = new ProgressLine(process.stderr, () => engine.status());
  let inFlightAtStop = 0;
  const onStop = () => {
    inFlightAtStop = engine.status().copyQueue;
    logger.info({ signal: String(stop?.reason), inFlight: inFlightAtStop }, "resync interrupted: no new copy starts, the copies in flight are aborted");
    engine.abort(new Error(`interrupted by ${String(stop?.reason)}`));
  };
  stop?.addEventListener("abort", onStop, { once: true });
  let report: CycleReport | undefined;
  let stopOutcome: StopOutcome;
  try {
    await engine.start(engine.stopSignal);
    progress.start();
    report = await engine.cycle({ wait: true, complete: true, ...(args.dryRun ? { dryRun: true } : {}), ...(job !== undefined ? { job } : {}), ...(jobFilter ? { jobFilter } : {}) });
  } catch (err) {
    if (!stop?.aborted) throw err; // the stop's own aborts are reported below
  } finally {
    stop?.removeEventListener("abort", onStop);
    progress.stop();
    stopOutcome = await engine.stop(); // aborts what still runs (temporaries removed), waits for it, releases the lease
  }
  if (stop?.aborted || report === undefined) {
    const published = [...(report?.outcomes ?? [])].flatMap(([key, o]) => o.publishedNow.map((u) => `${displayJob(key)}/${u}`));
    throw interrupted(stop as AbortSignal, args.dryRun ? "during the dry run" : "", published, inFlightAtStop, stopOutcome);
  }
  const sideFailures = [...snapshotFailures("source", config, report.source), ...snapshotFailures("target", config, report.target)];
  const byJob = new Map<string, JobStatus>(engine.status().jobs.map((j) => [j.job, j]));
  const summaries = [...report.outcomes].map(([key, o]) => summarize(key, o, byJob.get(key), !!args.dryRun)).sort((a, b) => a.job.localeCompare(b.job));

  if (args.json) out.write(`${JSON.stringify({ dryRun: !!args.dryRun, jobs: summaries }, null, 2)}\n`);
  else out.write(summaries.length === 0 ? "no jobs found under the configured roots\n" : `${summaries.map((s) => s.line).join("\n")}\n`);

  const failures: unknown[] = [...sideFailures];
  const nothing = summaries.filter((s) => s.state === "nothing-restorable");
  if (nothing.length > 0) {
    failures.push(
      new NothingRestorableError(
        nothing.map((s) => s.job),
        `${nothing.length} job(s) have no restorable checkpoint on the target although the source has checkpoints: ${nothing.map((s) => displayJob(s.job)).join(", ")}`,
      ),
    );
  }
  const stopped = summaries.filter((s) => s.state === "deletions-aborted");
  if (stopped.length > 0) {
    const limit = report.deleteLimit;
    failures.push(
      new MaxDeleteExceededError(
        `deletions stopped at max-delete (${limit.max} paths for the run, ${limit.used} deleted): ${stopped.length} job(s) deleted nothing: ${stopped.map((s) => displayJob(s.job)).join(", ")}; their copies and publishes were done`,
      ),
    );
  }
  const bad = summaries.filter((s) => s.state === "failed" || (!args.dryRun && s.state === "behind"));
  if (bad.length > 0) {
    failures.push(new ResyncIncompleteError(`${bad.length} job(s) not up to date: ${bad.map((b) => `${displayJob(b.job)}${b.error ? ` (${b.error})` : ""}`).join(", ")}`));
  }
  if (failures.length > 0) throw mostSevere(failures);
  return summaries;
}

/**
 * The one line an interrupted resync ends with (exit 130 for SIGINT, 143 for SIGTERM). `when` names a stop
 * before anything could be written (then `stopped` is null when no engine had started); else the line says
 * what the engine's stop did with the copies in flight.
 */
export function interrupted(stop: AbortSignal, when: string, published: string[], inFlight: number, stopped: StopOutcome | null): InterruptedError {
  const signal = stop.reason === "SIGINT" ? "SIGINT" : "SIGTERM";
  const copies = `${inFlight} file cop${inFlight === 1 ? "y" : "ies"} in flight aborted`;
  const parts = [
    `resync interrupted by ${signal}${when ? ` ${when}` : ""}`,
    when || stopped === null ? "nothing was written" : `no new copy started, ${copies} and ${temporariesRemoved(stopped)}, nothing partial published, the lease released`,
    published.length > 0 ? `published before the stop: ${published.slice(0, 10).join(", ")}${published.length > 10 ? `, ... ${published.length - 10} more` : ""}` : "nothing was published",
  ];
  return new InterruptedError(signal, `${parts.join("; ")}; run it again to finish`);
}

/** What the stop says of the aborted copies' temporaries: removed, or how many it could not remove. */
function temporariesRemoved(stopped: StopOutcome): string {
  const left = stopped.temporariesLeft.length + stopped.temporariesLeftUnlisted;
  if (stopped.drained && left === 0) return "their temporaries removed";
  const parts: string[] = [];
  if (left > 0) parts.push(`${left} temporar${left === 1 ? "y" : "ies"} could not be removed (hidden names, listed in the log)`);
  if (!stopped.drained) parts.push("some copies were still running at the stop's deadline and may have left theirs");
  return `${parts.join(" and ")}; a later run removes them once stale`;
}

/** Probes both sides (a missing source root: 3, unreadable source: 4, unreadable target: 5) and resolves --job. */
async function preflight(
  config: Config,
  logger: import("../../util/log.js").Logger,
  jobQuery: string | undefined,
  jobFilter: ((job: string) => boolean) | undefined,
): Promise<string | undefined> {
  const sides = openSides(config, logger);
  try {
    const [source, target] = await Promise.all([probeSide(config, "source", sides.source.storage), probeSide(config, "target", sides.target.storage)]);
    assertProbes(source);
    assertProbes(target, { missingOk: true }); // a target root that does not exist yet is created
    const where = `the configured roots (${config.paths.map((p) => p.source).join(", ")})`;
    const known = jobsOf(source, target);
    if (jobFilter && known.length > 0 && !known.some(jobFilter)) throw new JobNotFoundError("matching --include-job/--exclude-job", where, known);
    if (jobQuery === undefined) return undefined;
    return resolveJob(jobQuery, known, where);
  } finally {
    sides.close();
  }
}

/** What the engine's own scans saw: a root that went missing or unreadable while it ran is a failure too. */
function snapshotFailures(side: Side, config: Config, snapshot: TreeSnapshot): Error[] {
  const out: Error[] = [];
  for (const r of snapshot.roots) {
    if (r.reason === "missing" && side === "source") out.push(new RootNotFoundError(side, config[side].name, r.root));
    else if (r.reason === "unreadable") out.push(new SideUnreachableError(side, config[side].name, r.root, explainUnreadable(r.error), { cause: r.error }));
    else if (r.reason === "emptied") out.push(new PartialFailureError(`the ${side} root ${r.root} looks wiped: ${r.problem ?? "it holds no job"}; nothing was deleted on the target`));
  }
  return out;
}

function summarize(job: string, o: import("../../replication/index.js").SyncOutcome, s: JobStatus | undefined, dryRun: boolean): ResyncJobSummary {
  const newestSource = s?.newestSourceCheckpoint ?? null;
  const newestPublished = s?.newestPublishedCheckpoint ?? null;
  const error = s?.lastError ?? null;
  const behind = newestSource === null ? 0 : Math.max(0, newestSource - (newestPublished ?? 0));
  const sourceHasCheckpoints = o.sourceComplete.length > 0;
  let state: ResyncJobState;
  if (o.deletionsAborted !== undefined) state = "deletions-aborted";
  else if (error !== null) state = "failed";
  else if (!dryRun && ((newestSource !== null && newestPublished === null) || (sourceHasCheckpoints && (s?.publishedOnTarget ?? 0) === 0))) {
    state = "nothing-restorable";
  }
  else if (o.upToDate) state = sourceHasCheckpoints || newestPublished !== null ? "up-to-date" : "no-source-checkpoint";
  else state = "behind";
  const summary: Omit<ResyncJobSummary, "line"> = {
    job,
    state,
    newestSource,
    newestPublished,
    behind,
    publishedNow: o.publishedNow,
    upToDate: state === "up-to-date" || state === "no-source-checkpoint",
    wouldCopy: o.wouldCopy,
    planned: o.planned,
    filesCopied: s?.totals.filesCopied ?? 0,
    bytesCopied: s?.totals.bytesCopied ?? 0,
    error,
  };
  return { ...summary, line: summaryLine(summary, dryRun) };
}

/** `<job>: target chk-10 (restorable), source chk-12: 2 behind, would copy 37 files (2.7 MiB) for chk-12, chk-11` */
export function summaryLine(j: Omit<ResyncJobSummary, "line">, dryRun: boolean): string {
  const target = j.newestPublished === null ? "target no restorable checkpoint" : `target chk-${j.newestPublished} (restorable)`;
  const source = j.newestSource === null ? "source no complete checkpoint" : `source chk-${j.newestSource}`;
  const head = `${displayJob(j.job)}: ${target}, ${source}`;
  if (j.state === "failed") return `${head}: FAILED: ${j.error}`;
  if (j.state === "deletions-aborted") {
    const now = j.publishedNow.length > 0 ? `published ${j.publishedNow.join(", ")}, ` : "";
    return `${head}: ${now}DELETIONS ABORTED: ${j.error}`;
  }
  if (j.state === "nothing-restorable") {
    return `${head}: NOTHING RESTORABLE: no checkpoint could be published (each was subsumed or lost on the source before its copy finished; try a lower scan.interval or more bandwidth)`;
  }
  if (j.state === "no-source-checkpoint") return `${head}: nothing to replicate yet`;
  const position = j.behind > 0 ? `${j.behind} behind` : "up to date";
  if (dryRun) {
    if (j.planned.length === 0) return `${head}: ${position}, nothing to copy`;
    const files = j.planned.reduce((n, p) => n + p.files, 0);
    const bytes = j.planned.reduce((n, p) => n + p.bytes, 0);
    return `${head}: ${position}, would copy ${files} files (${formatBytes(bytes)}) to publish ${j.planned.map((p) => p.unit).join(", ")}`;
  }
  const now = j.publishedNow.length > 0 ? `, published ${j.publishedNow.join(", ")} (${j.filesCopied} files copied, ${formatBytes(j.bytesCopied)})` : "";
  return `${head}: ${j.state === "behind" ? `BEHIND (${position})` : position}${now}`;
}

interface ResyncArgv {
  config: string;
  job?: string;
  "dry-run": boolean;
  json: boolean;
  transfers?: number;
  bwlimit?: string;
  "max-delete"?: string;
  "include-job"?: string[];
  "exclude-job"?: string[];
}

export const resyncCommand: CommandModule<object, ResyncArgv> = {
  command: "resync",
  describe: "Run one full reconcile and wait for it; exit 0 only when every complete source checkpoint it saw is published",
  builder: (y) =>
    y.options({
      ...configOption,
      job: { type: "string", describe: "Only this job (its directory name under the root, or a unique prefix)" },
      "dry-run": { type: "boolean", default: false, describe: "Plan only: every checkpoint the real run would publish, with files and bytes; write nothing" },
      json: { type: "boolean", default: false, describe: "Print the summary as JSON" },
      ...overrideOptions,
      ...jobPatternOptions,
    }),
  handler: async (argv) => {
    await withTermination((stop) =>
      runResync(
        { config: argv.config, job: argv.job, dryRun: argv["dry-run"], json: argv.json, transfers: argv.transfers, bwlimit: argv.bwlimit, maxDelete: argv["max-delete"], includeJob: argv["include-job"], excludeJob: argv["exclude-job"] },
        process.stdout,
        stop,
      ),
    );
  },
};
