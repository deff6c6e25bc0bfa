// Giving up on streams whose consumer failed: each is destroyed with the failure, never bare. Node's
// stream pipeline never settles when its source has received its whole body (ended, not yet handed on)
// and is then destroyed without an error: it waits for an 'end' a destroyed stream never emits (on Node
// 20, 22 and 24 when the source alone is destroyed; on 22 and 24 even with the destination destroyed too).

import type { Stream } from "node:stream";

const ignore = (): void => {};

/**
 * Destroys every stream given that is not destroyed yet with `reason`. Each gets a no-op 'error' listener
 * first: a stream whose pipeline has already settled has none left, and the error it now emits is only
 * the echo of `reason`, which the caller handles.
 */
export function destroyWith(reason: unknown, ...streams: ReadonlyArray<(Stream & { destroyed: boolean; destroy(err?: Error): unknown }) | null | undefined>): Error {
  const err = reason instanceof Error ? reason : new Error(String(reason));
  for (const s of streams) {
    if (s == null || s.destroyed) continue;
    s.on("error", ignore);
    s.destroy(err);
  }
  return err;
}
