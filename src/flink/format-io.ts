// The symmetric binary I/O that the format description is written against: each
// structure of `_metadata` is declared once as a function of a FormatIO, which
// either reads the field (bounds-checked, big-endian, modified UTF-8) or writes
// the value it is given. Reading tracks the byte offset, the path inside the
// structure, nesting depth and the largest allocation a length field asked for.

import { MetadataFormatError } from "./errors.js";
import { decodeModifiedUtf8, encodeModifiedUtf8 } from "./modified-utf8.js";

/** Layout of version-3+ channel handles: Flink 1.11 wrote them without `subtaskIndex`. */
export type ChannelLayout = "flink-1.12+" | "flink-1.11";
/** Layout of changelog handles (tags 8, 9, 10): Flink 1.14 wrote fewer fields. */
export type ChangelogLayout = "flink-1.15+" | "flink-1.14";

export interface FormatContext {
  version: number;
  channelLayout: ChannelLayout;
  changelogLayout: ChangelogLayout;
}

export interface ReadLimits {
  /** Largest single allocation (bytes) a length or count field may cause; default 64 MiB. */
  maxAllocationBytes: number;
  /** Deepest nesting of handles inside handles; default 64. */
  maxDepth: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { maxAllocationBytes: 64 * 1024 * 1024, maxDepth: 64 };

/** Filled in by a parse: lets callers (and tests) see the largest allocation it made. */
export interface ParseStats {
  largestAllocationBytes: number;
}

/** Bytes one array element needs at least in memory (a reference / number). */
const ELEMENT_MEMORY_BYTES = 8;

export interface FormatIO {
  readonly reading: boolean;
  readonly ctx: FormatContext;
  readonly offset: number;
  u8(name: string, value?: number): number;
  i8(name: string, value?: number): number;
  i32(name: string, value?: number): number;
  i64(name: string, value?: bigint): bigint;
  utf(name: string, value?: string): string;
  fixedBytes(name: string, length: number, value?: Uint8Array): Uint8Array;
  /** `i32` length, then that many bytes. */
  sizedBytes(name: string, value?: Uint8Array): Uint8Array;
  /** `i32` count (≥ 0) followed by that many elements. */
  list<T>(name: string, items: readonly T[] | undefined, minElementBytes: number, element: ElementCodec<T>): T[];
  /** `count` elements whose count was already read/written by the caller. */
  elements<T>(name: string, count: number, items: readonly T[] | undefined, minElementBytes: number, element: ElementCodec<T>): T[];
  /** One path segment deeper (also bounds the nesting depth). */
  nested<T>(segment: string, body: () => T): T;
  /** An `i32`-length-prefixed region whose content must use exactly that many bytes. */
  enclosed<T>(name: string, body: () => T): T;
  /** All remaining bytes up to the end of the input. */
  rest(name: string, value?: Uint8Array): Uint8Array;
  /** Fails with a MetadataFormatError at the current position unless `ok`. */
  require(ok: boolean, name: string, expected: string): void;
  /** Like require, but reports the offset where the value just read (or written) starts. */
  checkValue(ok: boolean, name: string, expected: string): void;
  fail(name: string, expected: string): never;
}

export type ElementCodec<T> = (io: FormatIO, item: T | undefined, index: number) => T;

abstract class BaseIO {
  protected readonly segments: string[] = [];

  constructor(
    readonly ctx: FormatContext,
    protected readonly limits: ReadLimits,
  ) {}

  abstract get offset(): number;

  protected pathOf(name: string): string {
    return name === "" ? this.segments.join("/") : [...this.segments, name].join("/");
  }

  /** Added to offsets in error messages when the input is a slice of the file. */
  protected baseOffset = 0;

  fail(name: string, expected: string): never {
    throw new MetadataFormatError(this.baseOffset + this.offset, this.pathOf(name), expected);
  }

  require(ok: boolean, name: string, expected: string): void {
    if (!ok) this.fail(name, expected);
  }

  /** Offset where the last primitive value started. */
  protected valueStart = 0;

  checkValue(ok: boolean, name: string, expected: string): void {
    if (!ok) throw new MetadataFormatError(this.baseOffset + this.valueStart, this.pathOf(name), expected);
  }

  nested<T>(segment: string, body: () => T): T {
    if (this.segments.length >= this.limits.maxDepth) this.fail(segment, `nesting of at most ${this.limits.maxDepth} levels`);
    this.segments.push(segment);
    try {
      return body();
    } finally {
      this.segments.pop();
    }
  }
}

export class FormatReader extends BaseIO implements FormatIO {
  readonly reading = true;
  private pos = 0;
  private end: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    ctx: FormatContext,
    limits: ReadLimits = DEFAULT_READ_LIMITS,
    private readonly stats: ParseStats = { largestAllocationBytes: 0 },
    options: { baseOffset?: number; basePath?: string } = {},
  ) {
    super(ctx, limits);
    this.baseOffset = options.baseOffset ?? 0;
    if (options.basePath) this.segments.push(options.basePath);
    this.end = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(name: string, n: number, what: string): void {
    this.valueStart = this.pos;
    if (n > this.remaining) this.fail(name, `${what} (${n} bytes), but only ${this.remaining} bytes remain`);
  }

  allocate(name: string, bytes: number): void {
    if (bytes > this.limits.maxAllocationBytes) {
      this.fail(name, `an allocation of at most ${this.limits.maxAllocationBytes} bytes, not ${bytes}`);
    }
    if (bytes > this.stats.largestAllocationBytes) this.stats.largestAllocationBytes = bytes;
  }

  u8(name: string): number {
    this.need(name, 1, "an unsigned byte");
    return this.view.getUint8(this.pos++);
  }

  i8(name: string): number {
    this.need(name, 1, "a byte");
    return this.view.getInt8(this.pos++);
  }

  /** The next byte without consuming it, or undefined at the end. */
  peekU8(): number | undefined {
    return this.pos < this.end ? this.bytes[this.pos] : undefined;
  }

  u16(name: string): number {
    this.need(name, 2, "a 16-bit integer");
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  i16(name: string): number {
    return (this.u16(name) << 16) >> 16;
  }

  i32(name: string): number {
    this.need(name, 4, "a 32-bit integer");
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  i64(name: string): bigint {
    this.need(name, 8, "a 64-bit integer");
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  utf(name: string): string {
    this.need(name, 2, "a string length");
    const length = this.view.getUint16(this.pos);
    this.need(name, 2 + length, "a modified UTF-8 string");
    this.allocate(name, length * 2);
    const text = decodeModifiedUtf8(this.bytes.subarray(this.pos + 2, this.pos + 2 + length));
    if (text === null) this.fail(name, "valid modified UTF-8 string bytes");
    this.pos += 2 + length;
    return text;
  }

  fixedBytes(name: string, length: number): Uint8Array {
    this.need(name, length, "raw bytes");
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  sizedBytes(name: string): Uint8Array {
    const length = this.i32(name + ".length");
    this.checkValue(length >= 0, name + ".length", `a non-negative length, not ${length}`);
    return this.fixedBytes(name, length);
  }

  list<T>(name: string, _items: readonly T[] | undefined, minElementBytes: number, element: ElementCodec<T>): T[] {
    const count = this.i32(name + ".count");
    this.checkValue(count >= 0, name + ".count", `a non-negative count, not ${count}`);
    return this.elements(name, count, undefined, minElementBytes, element);
  }

  elements<T>(name: string, count: number, _items: readonly T[] | undefined, minElementBytes: number, element: ElementCodec<T>): T[] {
    if (count * minElementBytes > this.remaining) {
      this.fail(name, `${count} elements of at least ${minElementBytes} bytes, but only ${this.remaining} bytes remain`);
    }
    this.allocate(name, count * ELEMENT_MEMORY_BYTES);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(this.nested(`${name}[${i}]`, () => element(this, undefined, i)));
    return out;
  }

  enclosed<T>(name: string, body: () => T): T {
    const length = this.i32(name + ".length");
    this.checkValue(length > 0, name + ".length", `a positive length, not ${length}`);
    this.need(name, length, "the enclosed bytes");
    const outerEnd = this.end;
    this.end = this.pos + length;
    try {
      const value = body();
      if (this.pos !== this.end) this.fail(name, `content ending at byte ${this.end}, but ${this.end - this.pos} bytes are left inside`);
      return value;
    } finally {
      this.end = outerEnd;
    }
  }

  rest(name: string): Uint8Array {
    return this.fixedBytes(name, this.remaining);
  }
}

export class FormatWriter extends BaseIO implements FormatIO {
  readonly reading = false;
  private buf: Buffer;
  private pos = 0;

  constructor(ctx: FormatContext, initialSize = 4096) {
    super(ctx, DEFAULT_READ_LIMITS);
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get offset(): number {
    return this.pos;
  }

  /** The bytes written so far (a copy). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  private reserve(n: number): number {
    if (this.pos + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    const at = this.pos;
    this.valueStart = at;
    this.pos += n;
    return at;
  }

  private given<T>(name: string, value: T | undefined): T {
    if (value === undefined) this.fail(name, "a value to write (the model is missing this field)");
    return value;
  }

  private integer(name: string, value: number | undefined, min: number, max: number): number {
    const v = this.given(name, value);
    if (!Number.isInteger(v) || v < min || v > max) this.fail(name, `an integer in [${min}, ${max}], not ${v}`);
    return v;
  }

  u8(name: string, value?: number): number {
    const v = this.integer(name, value, 0, 255);
    const at = this.reserve(1);
    this.buf.writeUInt8(v, at);
    return v;
  }

  i8(name: string, value?: number): number {
    const v = this.integer(name, value, -128, 127);
    const at = this.reserve(1);
    this.buf.writeInt8(v, at);
    return v;
  }

  i32(name: string, value?: number): number {
    const v = this.integer(name, value, -0x80000000, 0x7fffffff);
    const at = this.reserve(4);
    this.buf.writeInt32BE(v, at);
    return v;
  }

  i64(name: string, value?: bigint): bigint {
    const v = this.given(name, value);
    if (typeof v !== "bigint" || v < -(1n << 63n) || v >= 1n << 63n) this.fail(name, `a signed 64-bit bigint, not ${String(v)}`);
    const at = this.reserve(8);
    this.buf.writeBigInt64BE(v, at);
    return v;
  }

  utf(name: string, value?: string): string {
    const v = this.given(name, value);
    const encoded = encodeModifiedUtf8(v);
    if (encoded.length > 0xffff) this.fail(name, `a string of at most 65535 encoded bytes, not ${encoded.length}`);
    const lengthAt = this.reserve(2);
    this.buf.writeUInt16BE(encoded.length, lengthAt);
    const dataAt = this.reserve(encoded.length);
    encoded.copy(this.buf, dataAt);
    return v;
  }

  fixedBytes(name: string, length: number, value?: Uint8Array): Uint8Array {
    const v = this.given(name, value);
    if (v.length !== length) this.fail(name, `exactly ${length} bytes, not ${v.length}`);
    const at = this.reserve(length);
    this.buf.set(v, at);
    return v;
  }

  sizedBytes(name: string, value?: Uint8Array): Uint8Array {
    const v = this.given(name, value);
    this.i32(name + ".length", v.length);
    return this.fixedBytes(name, v.length, v);
  }

  list<T>(name: string, items: readonly T[] | undefined, minElementBytes: number, element: ElementCodec<T>): T[] {
    const v = this.given(name, items);
    this.i32(name + ".count", v.length);
    return this.elements(name, v.length, v, minElementBytes, element);
  }

  elements<T>(name: string, count: number, items: readonly T[] | undefined, _minElementBytes: number, element: ElementCodec<T>): T[] {
    const v = this.given(name, items);
    if (v.length !== count) this.fail(name, `${count} elements, not ${v.length}`);
    v.forEach((item, i) => this.nested(`${name}[${i}]`, () => element(this, item, i)));
    return [...v];
  }

  enclosed<T>(name: string, body: () => T): T {
    const lengthAt = this.reserve(4);
    const start = this.pos;
    const value = body();
    this.buf.writeInt32BE(this.pos - start, lengthAt);
    return value;
  }

  rest(name: string, value?: Uint8Array): Uint8Array {
    const v = this.given(name, value);
    return this.fixedBytes(name, v.length, v);
  }
}
