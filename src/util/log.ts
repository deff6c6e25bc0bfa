// Logging: one pino JSON logger per process, written to stderr so that command
// output on stdout stays machine-readable. Secrets are redacted by key.

import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
export const REDACTED_KEYS = [
  "delegation",
  "delegationToken",
  "token",
  "password",
  "authorization",
  "*.delegation",
  "*.delegationToken",
  "*.token",
  "*.password",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Destination file descriptor; 2 (stderr) by default. */
  fd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.CKPT_LOG_LEVEL as LevelWithSilent | undefined) ?? "info";
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACTED_KEYS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: options.fd ?? 2, sync: true }),
  );
}

/** A logger that drops everything; the default for library code used without one. */
export const silentLogger: Logger = pino({ level: "silent" });
