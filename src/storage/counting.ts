// A storage decorator that counts calls per method (which ones a run made, and how often): the
// benches report requests per pass with it, and the tests prove with it that the source is only read.

import type { Storage } from "./types.js";

/** `inner`, with every method call counted into `calls` (method name -> calls). */
export function countingStorage(inner: Storage, calls: Map<string, number>): Storage {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
