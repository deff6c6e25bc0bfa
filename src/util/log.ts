// Logging: one pino JSON logger per process, written to stderr so that command
// output on stdout stays machine-readable. Secrets are redacted by key.

import { pino, type Logger, type LevelWithSilent } from "pino";
import { EnvironmentError } from "./errors.js";

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

export const LOG_LEVELS: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * The level CKPT_LOG_LEVEL asks for, or `fallback` when it is unset or empty. An unknown value is an
 * EnvironmentError (a clear one-line message), never pino's stack trace.
 */
export function logLevelFromEnv(fallback: LevelWithSilent, env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const value = env.CKPT_LOG_LEVEL?.trim();
  if (value === undefined || value === "") return fallback;
  const level = value.toLowerCase() as LevelWithSilent;
  if (!LOG_LEVELS.includes(level)) throw new EnvironmentError("CKPT_LOG_LEVEL", value, `one of ${LOG_LEVELS.join(", ")}`);
  return level;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? logLevelFromEnv("info");
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
