// Exit codes of every command, and the typed failures that map to them. A
// command never exits 0 for something it could not check: a side it cannot
// read, a root or job that does not exist, a job with nothing restorable each
// have their own code, so scripts and systemd can tell them apart; so do a run
// whose deletions stopped at --max-delete (7) and a resync stopped by a signal
// (130/143, 128 + the signal as shells report it). The table is
// documented in the README ("Exit codes"); the mapping is by error class, never
// by message text.

import { ConfigError } from "../config/load.js";
import { EnvironmentError, isCkptError, LocalFileError, UsageError } from "../util/errors.js";

export const ExitCode = {
  /** Everything the command set out to do happened (and was checked). */
  OK: 0,
  /** A reported failure: some job failed, a checkpoint is broken, the lease is held by another daemon. */
  FAILED: 1,
  /** Bad command-line usage (unknown option, ambiguous job prefix). */
  USAGE: 2,
  /** Something named does not exist: a configured root, a job, an input file or output directory. */
  NOT_FOUND: 3,
  /** The source cluster cannot be read (NameNodes unreachable, not a NameNode, permission denied). */
  SOURCE_UNREACHABLE: 4,
  /** The target cluster cannot be read or written. */
  TARGET_UNREACHABLE: 5,
  /** A job has no restorable checkpoint on the target (or nothing was found to restore at all). */
  NOTHING_RESTORABLE: 6,
  /**
   * Deletions stopped at the --max-delete / reap.maxDelete threshold of the run: copies and publishes
   * went on, nothing was deleted past the threshold (rclone ends such a run with its fatal-error code 7).
   */
  MAX_DELETE: 7,
  /** A bug: printed with its stack trace. */
  INTERNAL: 70,
  /** EX_CONFIG: the configuration file or environment is invalid; restarting does not help. */
  CONFIG: 78,
  /** A run stopped by SIGINT (128 + 2, the shell's convention): it finished nothing it had not finished. */
  INTERRUPTED_SIGINT: 130,
  /** A run stopped by SIGTERM (128 + 15). */
  INTERRUPTED_SIGTERM: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

import {
  InterruptedError,
  JobNotFoundError,
  MaxDeleteExceededError,
  NothingRestorableError,
  RootNotFoundError,
  SideUnreachableError,
} from "../replication/failures.js";

export {
  displayJob,
  InterruptedError,
  JobNotFoundError,
  MaxDeleteExceededError,
  NothingRestorableError,
  PartialFailureError,
  RootNotFoundError,
  SideUnreachableError,
  type Side,
} from "../replication/failures.js";

export function exitCodeFor(err: unknown): ExitCodeValue {
  if (err instanceof InterruptedError) return err.signal === "SIGINT" ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM;
  if (err instanceof UsageError) return ExitCode.USAGE;
  if (err instanceof ConfigError || err instanceof EnvironmentError) return ExitCode.CONFIG;
  if (err instanceof RootNotFoundError || err instanceof JobNotFoundError) return ExitCode.NOT_FOUND;
  if (err instanceof LocalFileError) return err.notFound ? ExitCode.NOT_FOUND : ExitCode.FAILED;
  if (err instanceof SideUnreachableError) return err.side === "source" ? ExitCode.SOURCE_UNREACHABLE : ExitCode.TARGET_UNREACHABLE;
  if (err instanceof NothingRestorableError) return ExitCode.NOTHING_RESTORABLE;
  if (err instanceof MaxDeleteExceededError) return ExitCode.MAX_DELETE;
  if (isCkptError(err)) return ExitCode.FAILED;
  return ExitCode.INTERNAL;
}

/**
 * The error to report when several failures happened at once: the most specific one, in the order of
 * the README's table (not found, source, target, nothing restorable, then any other).
 */
export function mostSevere(errors: unknown[]): unknown {
  const rank = (e: unknown) => {
    const code = exitCodeFor(e);
    const order: number[] = [
      ExitCode.INTERRUPTED_SIGINT, ExitCode.INTERRUPTED_SIGTERM, ExitCode.CONFIG, ExitCode.USAGE, ExitCode.NOT_FOUND, ExitCode.SOURCE_UNREACHABLE,
      ExitCode.TARGET_UNREACHABLE, ExitCode.NOTHING_RESTORABLE, ExitCode.MAX_DELETE, ExitCode.FAILED, ExitCode.INTERNAL,
    ];
    const i = order.indexOf(code);
    return i < 0 ? order.length : i;
  };
  return [...errors].sort((a, b) => rank(a) - rank(b))[0];
}
