// What a benchmark reports: a measured value against a baseline measured in the
// same run, the ratio of the two, and the target that decides pass/fail. The
// target is on the ratio (value / baseline) or on the growth (value - baseline).

export type Comparison = ">=" | "<=" | "<";

export interface Target {
  on: "ratio" | "growth";
  op: Comparison;
  limit: number;
}

export interface BenchResult {
  /** Stable identifier, e.g. "copy-throughput". */
  id: string;
  title: string;
  unit: string;
  /** The measured figure (e.g. the replicator's MiB/s). */
  value: number;
  /** The same figure for the baseline (e.g. a bare WebHDFS copy). */
  baseline: number;
  /** value / baseline (null when the baseline is 0). */
  ratio: number | null;
  target: Target;
  pass: boolean;
  /** Set when the benchmark could not measure (it counts as failed). */
  error?: string;
  /** Sizes, counts and secondary figures that explain the result. */
  details: Record<string, number | string | boolean>;
}

/** A measurement before it is judged: the harness adds the ratio and pass/fail. */
export type Measurement = Omit<BenchResult, "ratio" | "pass" | "error">;

export function judge(m: Measurement): BenchResult {
  const ratio = m.baseline === 0 ? null : m.value / m.baseline;
  const subject = m.target.on === "ratio" ? ratio : m.value - m.baseline;
  return { ...m, ratio, pass: subject !== null && meets(subject, m.target.op, m.target.limit) };
}

export function meets(subject: number, op: Comparison, limit: number): boolean {
  if (!Number.isFinite(subject)) return false;
  switch (op) {
    case ">=":
      return subject >= limit;
    case "<=":
      return subject <= limit;
    case "<":
      return subject < limit;
  }
}

/** "ratio >= 0.8", "growth < 150 MiB". */
export function describeTarget(t: Target, unit: string): string {
  return t.on === "ratio" ? `ratio ${t.op} ${t.limit}` : `growth ${t.op} ${t.limit} ${unit}`;
}

/** A benchmark that could not measure: reported as failed with what went wrong. */
export function failedResult(id: string, title: string, target: Target, unit: string, error: string): BenchResult {
  return { id, title, unit, value: Number.NaN, baseline: Number.NaN, ratio: null, target, pass: false, error, details: {} };
}
