// Helpers shared by the commands that read a config file: loading it, the
// process logger at the configured level, and waiting for SIGINT/SIGTERM.

import { loadConfigFile, type Config } from "../config/load.js";
import { createLogger, logLevelFromEnv, type Logger } from "../util/log.js";

export async function loadCommandConfig(file: string): Promise<{ config: Config; logger: Logger }> {
  const level = logLevelFromEnv("info"); // checked before the config is read: a bad value fails fast
  const config = await loadConfigFile(file);
  const logger = createLogger({ level: process.env.CKPT_LOG_LEVEL?.trim() ? level : config.log.level });
  return { config, logger };
}

/**
 * Runs `fn` with a signal that aborts at the first SIGINT or SIGTERM (its reason is the signal's name);
 * the handlers are removed when `fn` settles.
 */
export async function withTermination<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInt = () => controller.abort("SIGINT");
  const onTerm = () => controller.abort("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  try {
    return await fn(controller.signal);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}

export const configOption = {
  config: { type: "string", demandOption: true, describe: "Path of the YAML configuration file", alias: "c" },
} as const;
