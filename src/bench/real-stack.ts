// The real-stack throughput figures in `npm run bench`'s report: the daemon's engine against real
// Hadoop DistCp on real HDFS clusters, read from the `perf` section of the latest `npm run interop`
// run (interop-results.json). The bench itself needs no Java; it says where the figures come from
// and when they were measured, or why there are none.

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { errorMessage } from "../util/errors.js";

const perfCase = z.object({
  files: z.number(),
  bytes: z.number(),
  daemonSeconds: z.number(),
  daemonExit: z.number().nullable(),
  distcpSeconds: z.number(),
  distcpExit: z.number().nullable(),
  ratioDaemonOverDistcpThroughput: z.number(),
  distcpTimedOut: z.boolean().optional(),
  ratioNote: z.string().optional(),
});

const interopDoc = z.object({
  startedAt: z.string().optional(),
  flink: z.array(z.string()).optional(),
  hadoop: z.string().optional(),
  perf: z.record(z.string(), z.unknown()).optional(),
});

export interface RealStackCase {
  name: string;
  files: number;
  bytes: number;
  daemonSeconds: number;
  distcpSeconds: number;
  /** DistCp's wall-clock time over the daemon's for the same files: > 1 means the daemon is faster. */
  ratio: number;
  /** False when either side exited non-zero: the figure is then not a valid comparison. */
  valid: boolean;
  /** Set when DistCp was stopped at the harness's time limit: the ratio is then one of file rates. */
  partial?: string;
}

export type RealStackFigures =
  | { source: string; measuredAt: string | null; hadoop: string | null; flink: string[]; cases: RealStackCase[] }
  | { source: string; unavailable: string };

/** Reads the real-stack perf figures of an interop results file; never throws. */
export async function readRealStackFigures(file: string): Promise<RealStackFigures> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    return { source: file, unavailable: `no interop results (${errorMessage(err)}); run npm run interop (needs Java 17 and Maven)` };
  }
  let doc: z.infer<typeof interopDoc>;
  try {
    doc = interopDoc.parse(JSON.parse(text));
  } catch (err) {
    return { source: file, unavailable: `unreadable interop results: ${errorMessage(err)}` };
  }
  const cases: RealStackCase[] = [];
  for (const [name, value] of Object.entries(doc.perf ?? {})) {
    const c = perfCase.safeParse(value);
    if (!c.success) continue; // notes, skipped or failed cases
    cases.push({
      name,
      files: c.data.files,
      bytes: c.data.bytes,
      daemonSeconds: c.data.daemonSeconds,
      distcpSeconds: c.data.distcpSeconds,
      ratio: c.data.ratioDaemonOverDistcpThroughput,
      valid: c.data.daemonExit === 0 && (c.data.distcpTimedOut === true || c.data.distcpExit === 0),
      ...(c.data.distcpTimedOut ? { partial: c.data.ratioNote ?? "DistCp stopped at the time limit; ratio of file rates" } : {}),
    });
  }
  if (cases.length === 0) return { source: file, unavailable: "the interop results hold no perf figures (run without --no-perf)" };
  return { source: file, measuredAt: doc.startedAt ?? null, hadoop: doc.hadoop ?? null, flink: doc.flink ?? [], cases };
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

/** The section printed under the bench table. */
export function formatRealStack(f: RealStackFigures): string {
  if ("unavailable" in f) return `real stack (daemon vs DistCp): ${f.unavailable}\n`;
  const lines = [
    `real stack (daemon vs DistCp on real HDFS, from ${f.source}, measured ${f.measuredAt ?? "at an unknown time"}, Hadoop ${f.hadoop ?? "?"}; npm run interop measures it):`,
  ];
  for (const c of f.cases) {
    lines.push(
      `  ${c.name}: ${c.files} files, ${mib(c.bytes)}: daemon ${c.daemonSeconds.toFixed(1)} s, distcp ${c.distcpSeconds.toFixed(1)} s, ` +
        `ratio ${c.ratio.toFixed(2)} (${c.partial ?? "distcp time / daemon time"})${c.valid ? "" : " INVALID: a side exited non-zero"}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
