// The stream handed to callers of OPEN: the DataNode's response body, passed through
// with backpressure, that errors with a WebHdfsError when the body ends before its
// Content-Length or the connection breaks (reset, idle timeout, caller abort).

import { Transform, type Readable } from "node:stream";
import type { WebHdfsError } from "./errors.js";
import { stepError, type StepContext } from "./responses.js";
import { toTransportError, type HttpResponse } from "./transport.js";

/**
 * Wraps `response.body`. `release` runs once when the stream is finished or destroyed (frees the deadline).
 * Destroying the returned stream early closes the DataNode connection. `mapError` turns the stream's
 * WebHdfsError into the caller's own error type (the storage adapter's), so no further stream is needed.
 */
export function dataNodeReadStream(ctx: StepContext, response: HttpResponse, release: () => void, mapError: (err: WebHdfsError) => Error = (err) => err): Readable {
  const res = response.body;
  const header = res.headers["content-length"];
  const expected = header === undefined ? undefined : Number(header);
  let received = 0;

  const shortBody = (why: string, cause?: unknown): Error =>
    mapError(
      stepError(ctx, {
        failure: "truncated",
        status: response.status,
        detail: `${why} after ${received} of ${expected ?? "?"} bytes`,
        cause,
      }),
    );

  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      if (expected !== undefined && Number.isFinite(expected) && received < expected) {
        callback(shortBody("body ended"));
      } else {
        callback();
      }
    },
  });

  res.on("error", (err) => {
    const failure = response.lateFailure() ?? toTransportError(err);
    if (failure.failure === "aborted" || failure.failure === "timeout") {
      out.destroy(mapError(stepError(ctx, { failure: failure.failure, status: response.status, detail: `${failure.message} after ${received} bytes`, cause: failure })));
    } else {
      out.destroy(shortBody(`connection broke (${failure.code ?? failure.message})`, failure));
    }
  });
  res.once("close", () => {
    // A close without 'end' and without 'error' (older Node behaviour) still means a short body.
    if (!res.complete && !out.destroyed) out.destroy(shortBody("connection closed"));
  });
  out.once("close", () => {
    if (!res.complete) res.destroy();
    release();
  });
  res.pipe(out);
  return out;
}
