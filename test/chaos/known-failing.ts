// Chaos runs that fail on today's code because of a bug of issue #7 that is
// being fixed. A run listed here still runs in full; when it finds violations
// the test is reported as SKIPPED with the reason and the violations printed
// (never as passed), and when it finds none it passes and prints that the entry
// can be removed. CHAOS_STRICT=1 makes listed runs fail like any other.
//
// Remove an entry when the fix lands.

export const KNOWN_FAILING: Record<string, string> = {
  // Empty: every reproduction of issue #7 (and seeds 1, 2, 3) passes with CHAOS_STRICT=1 since the fixes landed.
};

export function strict(): boolean {
  return process.env.CHAOS_STRICT === "1";
}
