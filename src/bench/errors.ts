// Errors a benchmark raises on purpose: a step that did not reach its expected
// state (the engine never published, a file was missing), with the benchmark and
// the step named so a failed run says what went wrong where.

import { CkptError } from "../util/errors.js";

export class BenchmarkError extends CkptError {
  readonly kind = "benchmark";
  constructor(
    readonly benchmark: string,
    readonly step: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`benchmark ${benchmark}: ${step}: ${problem}`, options);
  }
}
