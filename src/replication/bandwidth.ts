// Global bandwidth limit shared by every copy: a token bucket whose rate can be
// changed at runtime (config reload), and a Transform stream that takes tokens
// before passing each chunk on. Rate 0 means unlimited.

import { Transform, type TransformCallback } from "node:stream";

export class BandwidthLimiter {
  private tokens = 0;
  private last = Date.now();
  private waiters: Array<{ bytes: number; resolve: () => void }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private bytesPerSecond: number) {}

  get rate(): number {
    return this.bytesPerSecond;
  }

  setRate(bytesPerSecond: number): void {
    this.bytesPerSecond = bytesPerSecond;
    this.refill();
    this.drain();
  }

  /** Resolves when `bytes` may be sent. Large requests are served once the bucket is full enough. */
  take(bytes: number): Promise<void> {
    if (this.bytesPerSecond <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ bytes, resolve });
      this.drain();
    });
  }

  private capacity(): number {
    // One second of traffic, but never less than one typical chunk so progress is always possible.
    return Math.max(this.bytesPerSecond, 64 * 1024);
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }

  private drain(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.refill();
    while (this.waiters.length > 0) {
      const head = this.waiters[0] as { bytes: number; resolve: () => void };
      if (this.bytesPerSecond <= 0) {
        this.waiters.shift();
        head.resolve();
        continue;
      }
      const need = Math.min(head.bytes, this.capacity());
      if (this.tokens < need) {
        const waitMs = Math.ceil(((need - this.tokens) / this.bytesPerSecond) * 1000);
        this.timer = setTimeout(() => this.drain(), Math.max(1, waitMs));
        this.timer.unref?.();
        return;
      }
      this.tokens -= need;
      this.waiters.shift();
      head.resolve();
    }
  }

  /** A pass-through stream that waits for tokens before forwarding each chunk. */
  stream(onBytes?: (n: number) => void): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, callback: TransformCallback) => {
        this.take(chunk.length).then(() => {
          onBytes?.(chunk.length);
          callback(null, chunk);
        }, callback);
      },
    });
  }
}

/**
 * A weighted semaphore for bytes in flight: a copy acquires its file size (capped at the limit, so one
 * large file can still run alone) and releases it when done.
 */
export class ByteBudget {
  private used = 0;
  private waiters: Array<{ bytes: number; resolve: () => void }> = [];

  constructor(private limit: number) {}

  get inFlight(): number {
    return this.used;
  }

  setLimit(limit: number): void {
    this.limit = limit;
    this.wake();
  }

  async acquire(bytes: number): Promise<() => void> {
    const weight = Math.min(Math.max(bytes, 1), this.limit);
    if (this.used + weight > this.limit || this.waiters.length > 0) {
      await new Promise<void>((resolve) => this.waiters.push({ bytes: weight, resolve }));
    } else {
      this.used += weight;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= weight;
      this.wake();
    };
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0] as { bytes: number; resolve: () => void };
      const weight = Math.min(head.bytes, this.limit);
      if (this.used + weight > this.limit && this.used > 0) return;
      this.waiters.shift();
      this.used += weight;
      head.resolve();
    }
  }
}
