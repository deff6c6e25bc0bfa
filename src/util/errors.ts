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

/** An environment variable the process reads has a value it cannot use (e.g. CKPT_LOG_LEVEL=verbose). */
export class EnvironmentError extends CkptError {
  readonly kind = "environment";
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`environment variable ${variable}=${JSON.stringify(value)} is not valid: expected ${expected}`);
  }
}

/** A local file operation failed (reading an input, writing an output): what, which path, the errno code. */
export class LocalFileError extends CkptError {
  readonly kind = "local-file";
  constructor(
    readonly operation: "read" | "write",
    readonly path: string,
    readonly code: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot ${operation} ${path}: ${detail}`, options);
  }

  /** True when the file (or, for a write, its directory) does not exist. */
  get notFound(): boolean {
    return this.code === "ENOENT" || this.code === "ENOTDIR";
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a parent is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  EROFS: "read-only filesystem",
  ENOSPC: "no space left on the device",
  EEXIST: "already exists",
};

/** Wraps a Node fs error as a LocalFileError; anything that is not an fs error is returned unchanged. */
export function localFileError(operation: "read" | "write", path: string, err: unknown, what?: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== "string") return err;
  const text = ERRNO_TEXT[code] ?? code;
  return new LocalFileError(operation, path, code, what ? `${what} (${text})` : text, { cause: err });
}
