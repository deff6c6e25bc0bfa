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

export function formatBytes(n: number): string {
  return bytes.format(n, { unitSeparator: " ", decimalPlaces: 1 }) ?? `${n} B`;
}

export function formatDuration(msValue: number): string {
  return ms(Math.round(msValue));
}
