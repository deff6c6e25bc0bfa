// The building blocks of configuration settings that the configuration file and
// the storage backends' own settings share: durations and sizes in human form
// (validated and normalized to milliseconds / bytes), secrets named by file or
// environment variable, and reading those secrets at load time. Every problem
// is phrased so that the caller can prefix it with its key.

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { formatDuration, parseDuration, parseSize } from "./units.js";

/**
 * A duration with its unit ("500ms", "10s", "5m"). A bare number is rejected: whether `60` meant seconds or
 * milliseconds cannot be told, and a ttl of 60 ms instead of 60 s is a config that fails all day.
 */
export const duration = (fallback: string, min?: { ms: number; why: string }) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      if (typeof v === "number" || /^\s*\d+(\.\d+)?\s*$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `${String(v).trim()} has no unit; write a duration with its unit, e.g. ${String(v).trim()}ms or ${String(v).trim()}s` });
        return z.NEVER;
      }
      const parsed = parseDuration(v);
      if (parsed === null) {
        ctx.addIssue({ code: "custom", message: `"${v}" is not a duration (examples: 500ms, 10s, 5m)` });
        return z.NEVER;
      }
      if (min !== undefined && parsed < min.ms) {
        ctx.addIssue({ code: "custom", message: `${v} is below the minimum of ${formatDuration(min.ms)}${min.why ? ` (${min.why})` : ""}` });
        return z.NEVER;
      }
      return parsed;
    });

/** A size in bytes ("0", "512KiB", "64MiB"), normalized to a number of bytes. */
export const size = (fallback: string | number) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const parsed = parseSize(v);
      if (parsed === null) {
        ctx.addIssue({ code: "custom", message: `"${v}" is not a size (examples: 0, 512KiB, 64MiB, 1GiB)` });
        return z.NEVER;
      }
      return parsed;
    });

/** Where a secret is read from: a file (its trimmed contents) or an environment variable. */
export const secretSource = z
  .strictObject({
    file: z.string().min(1).optional(),
    env: z.string().min(1).optional(),
  })
  .refine((t) => (t.file === undefined) !== (t.env === undefined), "give exactly one of file or env");

export type SecretSource = z.output<typeof secretSource>;

/** Reads the secret `source` (named `key` in problems); undefined, with a problem recorded, when it is missing or empty. */
export async function readSecret(key: string, source: SecretSource, env: NodeJS.ProcessEnv, problems: string[]): Promise<string | undefined> {
  if (source.env !== undefined) {
    const value = env[source.env]?.trim();
    if (!value) problems.push(`${key}.env: environment variable ${source.env} is not set or empty`);
    return value || undefined;
  }
  try {
    const value = (await readFile(source.file ?? "", "utf8")).trim();
    if (!value) problems.push(`${key}.file: ${source.file} is empty`);
    return value || undefined;
  } catch (err) {
    problems.push(`${key}.file: cannot read ${source.file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}
