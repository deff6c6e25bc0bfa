// Logging: one pino JSON logger per process, written to stderr so that command
// output on stdout stays machine-readable. Secrets are redacted by key.

import { writeSync } from "node:fs";
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
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
  "tls.key",
  "*.tls.key",
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Destination file descriptor; 2 (stderr) by default. */
  fd?: number;
  /** json (pino lines) or text (one readable line per event); default: setLogFormat's, else text on a TTY. */
  format?: LogFormat;
}

export type LogFormat = "text" | "json";

let processLogFormat: LogFormat | undefined;

/** The --log-format of this process (set once by the CLI before any command runs). */
export function setLogFormat(format: LogFormat | undefined): void {
  processLogFormat = format;
}

function defaultFormat(fd: number): LogFormat {
  if (processLogFormat) return processLogFormat;
  const stream = fd === 2 ? process.stderr : fd === 1 ? process.stdout : null;
  return stream?.isTTY ? "text" : "json";
}

const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/**
 * Formats one pino JSON line as `2026-12-01T10:00:00.000Z INFO  message key=value ...` (values JSON-encoded
 * when they are not plain words). Redaction has already happened: pino redacts before serializing.
 */
export function textLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, pid: _pid, hostname: _h, ...rest } = o;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" && /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v)}`);
  return `${String(time ?? "")} ${(LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? "")}${fields.length ? ` ${fields.join(" ")}` : ""}\n`;
}

function textDestination(fd: number): DestinationStream {
  return {
    write(line: string) {
      const text = Buffer.from(line.split("\n").filter((l) => l !== "").map(textLine).join(""));
      let off = 0;
      for (let spins = 0; off < text.length && spins < 1000; spins++) {
        try {
          off += writeSync(fd, text, off);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err; // a non-blocking pipe that is full
        }
      }
    },
  };
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
    (options.format ?? defaultFormat(options.fd ?? 2)) === "text" ? textDestination(options.fd ?? 2) : pino.destination({ fd: options.fd ?? 2, sync: true }),
  );
}

/** A logger that drops everything; the default for library code used without one. */
export const silentLogger: Logger = pino({ level: "silent" });
