// Waiting on an AbortSignal as a promise.

/** Resolves with the reason once `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<string> {
  if (signal.aborted) return Promise.resolve(String(signal.reason));
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(String(signal.reason)), { once: true }));
}
