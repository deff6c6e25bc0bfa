// Presenting a benchmark run: a fixed-width table for people (stdout) and the
// JSON document written to bench-results.json for machines.

import type { BenchRun } from "./harness.js";
import { describeTarget, type BenchResult } from "./result.js";

const COLUMNS = ["benchmark", "value", "baseline", "ratio", "target", "result"] as const;

function formatNumber(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "-";
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

function row(r: BenchResult): string[] {
  return [
    r.id,
    `${formatNumber(r.value)} ${r.unit}`,
    `${formatNumber(r.baseline)} ${r.unit}`,
    formatNumber(r.ratio),
    describeTarget(r.target, r.unit),
    r.pass ? "pass" : "FAIL",
  ];
}

/** The results as an aligned text table, followed by one line per error and a summary line. */
export function formatTable(run: BenchRun): string {
  const rows = [[...COLUMNS], ...run.results.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const out = [line(rows[0] ?? []), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)];
  for (const r of run.results) if (r.error) out.push(`${r.id}: error: ${r.error}`);
  const failed = run.results.filter((r) => !r.pass).length;
  out.push(
    `${run.profile} profile, ${(run.durationMs / 1000).toFixed(1)} s, node ${run.node}, ${run.cpus} CPU(s), emulator ${run.emulator}: ` +
      (failed === 0 ? "all targets met" : `${failed} of ${run.results.length} target(s) missed`),
  );
  return `${out.join("\n")}\n`;
}

/** The document written to bench-results.json (`extra`: sections beside the run, e.g. the real-stack figures). */
export function resultsDocument(run: BenchRun, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ version: 1, ...run, ...extra }, null, 2)}\n`;
}
