// The newest restore point of a job on the target (`latest`, the demo): the
// restorable checkpoint or savepoint that completed last on the source,
// verified now rather than taken from bookkeeping, and how to print it: as a
// path, JSON, or a ready Flink restore command in NO_CLAIM mode so the DR job
// never deletes replicated files.

import type { Config } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { NothingRestorableError, RootNotFoundError, SideUnreachableError } from "./failures.js";
import { assertProbes, explainUnreadable, jobsOf, probeSide, resolveJob } from "./probe.js";
import { readRecord, type ReplicationRecord } from "./records.js";
import { openSides, type ReplicationSide } from "./sides.js";
import { newestRestorable, verifyCheckpoints, type UnitVerdict } from "./verify.js";

/** A job with no restorable checkpoint on the target (exit 6). */
export class NoRestorableCheckpointError extends NothingRestorableError {}

export type LatestFormat = "path" | "json" | "flink";

export interface LatestResult {
  job: string;
  /** checkpoint or savepoint */
  kind: "checkpoint" | "savepoint";
  /** The directory name: chk-<n> or savepoint-<...>. */
  checkpoint: string;
  checkpointId: number;
  uri: string;
  path: string;
  files: number;
  bytes: number;
  sourceCompletedAt: string | null;
  publishedAt: string | null;
}

export async function findLatest(config: Config, jobQuery: string, logger: Logger, o: { checkpointsOnly?: boolean } = {}): Promise<LatestResult> {
  const sides = openSides(config, logger);
  try {
    // The target must be readable and its roots exist; the source only helps to tell "no such job"
    // from "a job with nothing restorable yet".
    const [targetProbes, sourceProbes] = await Promise.all([probeSide(config, "target", sides.target.storage), probeSide(config, "source", sides.source.storage)]);
    assertProbes(targetProbes);
    const job = resolveJob(jobQuery, jobsOf(targetProbes, sourceProbes), `the configured roots (${config.paths.map((p) => p.target).join(", ")} on ${config.target.name})`);
    const scanFailures: Error[] = [];
    const verdicts = await verifyCheckpoints({
      config,
      side: "target",
      bundle: sides.target,
      job,
      logger,
      onSnapshot: (snapshot) => {
        for (const r of snapshot.roots) {
          if (r.reason === "missing") scanFailures.push(new RootNotFoundError("target", config.target.name, r.root));
          if (r.reason === "unreadable") scanFailures.push(new SideUnreachableError("target", config.target.name, r.root, explainUnreadable(r.error), { cause: r.error }));
        }
      },
    });
    if (scanFailures[0]) throw scanFailures[0];
    const best = newestRestorable(verdicts, job, !o.checkpointsOnly);
    if (best === null) {
      const what = o.checkpointsOnly ? "checkpoint" : "checkpoint or savepoint";
      const seen = verdicts.filter((v) => v.job === job && (!o.checkpointsOnly || v.kind === "checkpoint")).length;
      throw new NoRestorableCheckpointError(
        [job],
        seen === 0
          ? `no ${what} of job ${job} on the target ${config.target.name}: nothing to restore from`
          : `none of the ${seen} ${what}(s) of job ${job} on the target is restorable (run verify for details)`,
      );
    }
    const pair = config.paths.find((p) => best.dir.startsWith(`${p.target}/`));
    const record: ReplicationRecord | null = pair ? await readRecord(sides.target.storage, pair.target, job, best.unit) : null;
    return toResult(best, sides.target, record);
  } finally {
    sides.close();
  }
}

function toResult(v: UnitVerdict, target: ReplicationSide, record: ReplicationRecord | null): LatestResult {
  const uri = target.uriOf(v.dir);
  return {
    job: v.job,
    kind: v.kind,
    checkpoint: v.unit,
    checkpointId: v.checkpointId,
    uri,
    path: v.dir,
    files: v.files,
    bytes: v.bytes,
    sourceCompletedAt: record?.source.completedAt ?? null,
    publishedAt: record?.publishedAt ?? null,
  };
}

export function formatLatest(r: LatestResult, format: LatestFormat): string {
  if (format === "path") return `${r.uri}\n`;
  if (format === "json") return `${JSON.stringify(r, null, 2)}\n`;
  return [
    `# Newest restore point of job ${r.job}: ${r.kind} ${r.checkpoint}${r.sourceCompletedAt ? ` (completed on the source at ${r.sourceCompletedAt})` : ""}`,
    `# NO_CLAIM: the restored job never deletes the replicated files; its own first checkpoint is a full one.`,
    `flink run --fromSavepoint ${r.uri} --restoreMode no_claim <your-job.jar> [job arguments]`,
    `# Flink 2.x: flink run --fromSavepoint ${r.uri} --claimMode NO_CLAIM <your-job.jar>`,
    `# Or in the job configuration: execution.state-recovery.path: ${r.uri}`,
    `#                              execution.state-recovery.claim-mode: NO_CLAIM`,
    "",
  ].join("\n");
}

