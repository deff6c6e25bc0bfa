// Base class for every error the product raises on purpose. The CLI prints the
// message of a CkptError as one line (no stack); anything else is a bug and is
// printed with its stack.

export abstract class CkptError extends Error {
  /** Short stable identifier for logs and metrics labels (e.g. "webhdfs", "metadata-format"). */
  abstract readonly kind: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid user input that is neither config nor remote data (bad CLI arguments, bad path maps). */
export class UsageError extends CkptError {
  readonly kind = "usage";
}

export function isCkptError(err: unknown): err is CkptError {
  return err instanceof CkptError;
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
