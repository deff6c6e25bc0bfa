// The JSON lines of a pino log (a daemon's stderr, daemon.log), for tests and the interop harness that
// judge what the product logged by its fields. No vitest import: the interop harness compiles it too.

/** The JSON lines of a pino log, skipping what does not parse: other output, a torn last line. */
export function logRecords(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v !== null && typeof v === "object") out.push(v as Record<string, unknown>);
    } catch {
      // torn or foreign line
    }
  }
  return out;
}
