// Seeded pseudo-random numbers for the simulator. Every decision draws from a
// generator derived from (seed, label), so one checkpoint's choices do not depend
// on how many numbers earlier checkpoints consumed: same seed -> same job.

import { createHash } from "node:crypto";

/** sfc32 generator seeded from the SHA-256 of a label. */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  private constructor(words: Uint32Array) {
    this.#a = words[0]!;
    this.#b = words[1]!;
    this.#c = words[2]!;
    this.#d = words[3]!;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A generator for `labels` under `seed`; the same arguments always give the same sequence. */
  static derive(seed: number, ...labels: (string | number)[]): SeededRandom {
    const digest = createHash("sha256").update(`${seed}\u0000${labels.join("\u0000")}`).digest();
    return new SeededRandom(new Uint32Array(digest.buffer.slice(digest.byteOffset, digest.byteOffset + 16)));
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * A positive integer size from a log-normal distribution with the given mean;
   * `spread` is the sigma of the underlying normal (0 = always the mean).
   */
  size(mean: number, spread: number): number {
    if (spread <= 0) return Math.max(1, Math.round(mean));
    const value = mean * Math.exp(spread * this.normal() - (spread * spread) / 2);
    return Math.max(1, Math.round(value));
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let out = "";
    while (out.length < n) out += this.nextUint32().toString(16).padStart(8, "0");
    return out.slice(0, n);
  }
}
