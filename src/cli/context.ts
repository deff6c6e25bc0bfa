// Helpers shared by the commands that read a config file: loading it, the
// process logger at the configured level, and waiting for SIGINT/SIGTERM.

import { loadConfigFile, type Config } from "../config/load.js";
import { createLogger, type Logger } from "../util/log.js";

export async function loadCommandConfig(file: string): Promise<{ config: Config; logger: Logger }> {
  const config = await loadConfigFile(file);
  const logger = createLogger({ level: (process.env.CKPT_LOG_LEVEL as Config["log"]["level"] | undefined) ?? config.log.level });
  return { config, logger };
}

/** Resolves with the signal name at the first SIGINT or SIGTERM (or when `signal` aborts). */
export function untilTerminated(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (name: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(name);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    signal?.addEventListener("abort", () => done("abort"), { once: true });
  });
}

export const configOption = {
  config: { type: "string", demandOption: true, describe: "Path of the YAML configuration file", alias: "c" },
} as const;
