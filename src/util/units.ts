// Parsing of human-readable durations ("10s", "5m") and sizes ("64MiB", "10MB/s")
// used in the configuration file. Numbers are taken as milliseconds / bytes.

import ms from "ms";
import bytes from "bytes";

/** Milliseconds for "250ms", "10s", "5m", "1h" or a plain number of ms; null if unparseable. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const parsed = ms(value.trim() as ms.StringValue);
  return typeof parsed === "number" && Number.isFinite(parsed) && parsed >= 0 ? parsed : null;
}

/**
 * Bytes for "64MiB", "1.5GB", "512kb", "10MiB/s" (a trailing "/s" is allowed for rates) or a plain number.
 * Both SI spellings (KB, MB) and IEC spellings (KiB, MiB) mean powers of 1024, as the `bytes` package does.
 */
export function parseSize(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.floor(value) : null;
  const text = value.trim().replace(/\/s$/i, "").replace(/([kmgtp])ib$/i, "$1b");
  if (!/^\d+(\.\d+)?\s*([kmgtp]?b)?$/i.test(text)) return null;
  const parsed = bytes.parse(text);
  return typeof parsed === "number" && Number.isFinite(parsed) && parsed >= 0 ? parsed : null;
}

const IEC_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Bytes in IEC units, labelled as such: "512 B", "2.7 MiB", "1.0 GiB" (powers of 1024). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < IEC_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(value)) : value.toFixed(1);
  return `${n < 0 ? "-" : ""}${text} ${IEC_UNITS[unit]}`;
}

/** A rate in IEC units per second: "12.5 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(msValue: number): string {
  return ms(Math.round(msValue));
}
