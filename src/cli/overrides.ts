// Command-line overrides of the config for `run` and `resync`, with the
// spelling operators know from rclone: --transfers N (copy.concurrency) and
// --bwlimit RATE or an rclone-style timetable "08:00,10M 20:00,off" (the rate
// in force is the one of the latest time of day that has passed; before the
// first time, the last entry's rate carries over from the previous day).
// Rates: a number of bytes per second with an optional K/M/G/T suffix (powers
// of 1024, like rclone), "KiB"/"MiB" spellings, or "off"/0 for unlimited.

import type { Config } from "../config/load.js";
import { parseSize } from "../util/units.js";
import { parseMaxDelete } from "../config/schema.js";
import { UsageError } from "../util/errors.js";

export interface OverrideArgs {
  transfers?: number | undefined;
  bwlimit?: string | undefined;
  /** "100" or "10%": abort threshold of the run's deletions, all jobs together (reap.maxDelete). */
  maxDelete?: string | undefined;
}

export const overrideOptions = {
  transfers: { type: "number", describe: "Large files copied at once (overrides copy.concurrency; small files: copy.smallFiles.concurrency)" },
  "max-delete": {
    type: "string",
    describe: "Abort threshold for the run: once deleting would go past N paths (or N% of the files on the target under the roots), all jobs together, no more deletions (copies go on); resync exits 7 (overrides reap.maxDelete)",
  },
  bwlimit: {
    type: "string",
    describe: 'Bandwidth limit for all copies, e.g. 10M (MiB/s) or off; or a timetable "08:00,10M 20:00,off" (overrides copy.bandwidth)',
  },
} as const;

export interface TimetableEntry {
  /** Minutes after midnight (local time); null for a constant rate. */
  minute: number | null;
  /** Bytes per second; 0 = unlimited. */
  rate: number;
}

/** Bytes per second for "10M", "512K", "1.5G", "10MiB", "off", "0"; null if unparseable. */
export function parseRate(text: string): number | null {
  const t = text.trim();
  if (/^(off|unlimited)$/i.test(t)) return 0;
  const short = /^(\d+(?:\.\d+)?)\s*([kmgtp])?$/i.exec(t);
  if (short) {
    const n = Number(short[1]);
    const power = short[2] ? "kmgtp".indexOf(short[2].toLowerCase()) + 1 : 0;
    return Math.floor(n * 1024 ** power);
  }
  return parseSize(t);
}

/** Parses --bwlimit: one rate, or space-separated "HH:MM,RATE" entries in increasing time order. */
export function parseBwlimit(text: string): TimetableEntry[] {
  const parts = text.trim().split(/\s+/).filter((p) => p !== "");
  if (parts.length === 0) throw new UsageError("--bwlimit needs a rate (e.g. 10M, off) or a timetable (e.g. \"08:00,10M 20:00,off\")");
  if (parts.length === 1 && !parts[0]!.includes(",")) {
    const rate = parseRate(parts[0]!);
    if (rate === null) throw new UsageError(`--bwlimit ${parts[0]}: not a rate (examples: 10M, 512K, 1.5G, off)`);
    return [{ minute: null, rate }];
  }
  const entries: TimetableEntry[] = [];
  for (const part of parts) {
    const m = /^(\d{1,2}):(\d{2}),(.+)$/.exec(part);
    if (m === null) throw new UsageError(`--bwlimit: "${part}" is not a timetable entry HH:MM,RATE (e.g. 08:00,10M)`);
    const hours = Number(m[1]);
    const minutes = Number(m[2]);
    if (hours > 23 || minutes > 59) throw new UsageError(`--bwlimit: "${part}" has an invalid time of day`);
    const rate = parseRate(m[3]!);
    if (rate === null) throw new UsageError(`--bwlimit: "${part}": ${m[3]} is not a rate (examples: 10M, 512K, off)`);
    const minute = hours * 60 + minutes;
    const prev = entries[entries.length - 1];
    if (prev && prev.minute !== null && minute <= prev.minute) throw new UsageError(`--bwlimit: times must increase, but ${part} follows ${formatMinute(prev.minute)}`);
    entries.push({ minute, rate });
  }
  return entries;
}

/** The rate in force at `now` (local time of day). */
export function rateAt(table: TimetableEntry[], now: Date = new Date()): number {
  const first = table[0];
  if (first === undefined) return 0;
  if (first.minute === null) return first.rate;
  const minute = now.getHours() * 60 + now.getMinutes();
  let current = table[table.length - 1]!; // before the first entry: the previous day's last one
  for (const e of table) if ((e.minute ?? 0) <= minute) current = e;
  return current.rate;
}

function formatMinute(m: number): string {
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** Validates the overrides once (usage errors exit 2) and returns a function applying them to any config. */
export function overridesOf(args: OverrideArgs): { apply(config: Config, now?: Date): Config; timetable: TimetableEntry[] | null } {
  if (args.transfers !== undefined && (!Number.isInteger(args.transfers) || args.transfers < 1 || args.transfers > 256)) {
    throw new UsageError(`--transfers ${args.transfers}: must be a whole number from 1 to 256`);
  }
  const timetable = args.bwlimit !== undefined ? parseBwlimit(args.bwlimit) : null;
  const maxDelete = args.maxDelete !== undefined ? parseMaxDelete(args.maxDelete) : undefined;
  if (maxDelete === null) throw new UsageError(`--max-delete ${args.maxDelete}: not a count or a percentage (examples: 100, 10%)`);
  return {
    timetable,
    apply(config, now = new Date()) {
      return {
        ...config,
        copy: {
          ...config.copy,
          ...(args.transfers !== undefined ? { concurrency: args.transfers } : {}),
          ...(timetable !== null ? { bandwidth: rateAt(timetable, now) } : {}),
        },
        ...(maxDelete !== undefined ? { reap: { ...config.reap, maxDelete } } : {}),
      };
    },
  };
}

/** --include-job / --exclude-job: shell-style patterns (`*`, `?`) matched against whole job ids. */
export interface JobPatternArgs {
  includeJob?: string[] | undefined;
  excludeJob?: string[] | undefined;
}

export const jobPatternOptions = {
  "include-job": { type: "string", array: true, describe: "Only jobs whose id matches this pattern (* and ?; repeatable)" },
  "exclude-job": { type: "string", array: true, describe: "Leave out jobs whose id matches this pattern (* and ?; repeatable; wins over --include-job)" },
} as const;

function globRegExp(pattern: string): RegExp {
  if (pattern.trim() === "") throw new UsageError("a job pattern must not be empty");
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** The filter for the patterns, or undefined when none was given. A job is kept if it matches an include (or none is given) and no exclude. */
export function jobFilterOf(args: JobPatternArgs): ((job: string) => boolean) | undefined {
  const include = (args.includeJob ?? []).map(globRegExp);
  const exclude = (args.excludeJob ?? []).map(globRegExp);
  if (include.length === 0 && exclude.length === 0) return undefined;
  return (job) => (include.length === 0 || include.some((r) => r.test(job))) && !exclude.some((r) => r.test(job));
}
