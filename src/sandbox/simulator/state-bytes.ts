// Deterministic content of simulated state files: AES-128-CTR keystream keyed by
// the file's identity, produced chunk by chunk on demand (backpressure-aware), so
// a file of any size is written without ever holding it in memory.

import { createCipheriv, createHash, type Cipher } from "node:crypto";
import { Readable } from "node:stream";

/** Largest chunk handed to the storage at a time. */
export const STATE_CHUNK_BYTES = 64 * 1024;
const ZEROS = Buffer.alloc(STATE_CHUNK_BYTES);

function keystream(key: string): Cipher {
  const digest = createHash("sha256").update(key).digest();
  return createCipheriv("aes-128-ctr", digest.subarray(0, 16), digest.subarray(16, 32));
}

/** A stream of exactly `size` bytes determined by `key`, in chunks of at most STATE_CHUNK_BYTES. */
export function stateBytesStream(key: string, size: number): Readable {
  const cipher = keystream(key);
  let remaining = size;
  return new Readable({
    highWaterMark: STATE_CHUNK_BYTES,
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(remaining, STATE_CHUNK_BYTES);
      remaining -= n;
      this.push(cipher.update(ZEROS.subarray(0, n)));
    },
  });
}

/** The same bytes as stateBytesStream(key, size), for small inline state only. */
export function stateBytes(key: string, size: number): Buffer {
  const cipher = keystream(key);
  const parts: Buffer[] = [];
  for (let done = 0; done < size; done += STATE_CHUNK_BYTES) {
    parts.push(cipher.update(ZEROS.subarray(0, Math.min(STATE_CHUNK_BYTES, size - done))));
  }
  return Buffer.concat(parts, size);
}
