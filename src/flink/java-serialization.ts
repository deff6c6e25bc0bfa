// Reader for one object in Java Object Serialization Stream format (the
// CheckpointProperties trailer of format versions 4+). Handles the grammar
// Flink's trailer uses and a little more (arrays, block data, long strings);
// bounded recursion, every length checked. Errors are MetadataFormatErrors.

import { FormatReader, type ParseStats, type ReadLimits, DEFAULT_READ_LIMITS } from "./format-io.js";

export const STREAM_MAGIC = 0xaced;
export const STREAM_VERSION = 5;
export const TC = {
  NULL: 0x70,
  REFERENCE: 0x71,
  CLASSDESC: 0x72,
  OBJECT: 0x73,
  STRING: 0x74,
  ARRAY: 0x75,
  CLASS: 0x76,
  BLOCKDATA: 0x77,
  ENDBLOCKDATA: 0x78,
  BLOCKDATALONG: 0x7a,
  LONGSTRING: 0x7c,
  PROXYCLASSDESC: 0x7d,
  ENUM: 0x7e,
} as const;
export const BASE_HANDLE = 0x7e0000;
export const SC = { WRITE_METHOD: 0x01, SERIALIZABLE: 0x02, EXTERNALIZABLE: 0x04, BLOCK_DATA: 0x08, ENUM: 0x10 } as const;

export interface JavaField {
  /** Type code: B C D F I J S Z, or L / [ for objects. */
  typeCode: string;
  name: string;
  /** Field type in JVM notation for L and [ fields (e.g. `Ljava/lang/String;`). */
  className?: string;
}

export interface JavaClassDesc {
  kind: "classDesc";
  name: string;
  serialVersionUid: bigint;
  flags: number;
  fields: JavaField[];
  superClass: JavaClassDesc | null;
}

export type JavaValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JavaClassDesc
  | { kind: "object"; className: string; fields: Record<string, JavaValue> }
  | { kind: "enum"; className: string; constant: string }
  | { kind: "array"; className: string; items: JavaValue[] }
  | { kind: "class"; desc: JavaClassDesc | null }
  | { kind: "blockData"; bytes: Uint8Array };

const MAX_DEPTH = 32;
const PRIMITIVE_SIZES: Record<string, number> = { B: 1, C: 2, D: 8, F: 4, I: 4, J: 8, S: 2, Z: 1 };

/** Parses `bytes` as exactly one top-level Java object filling the whole input. */
export function parseJavaObjectStream(
  bytes: Uint8Array,
  where: { baseOffset: number; basePath: string },
  limits: ReadLimits = DEFAULT_READ_LIMITS,
  stats?: ParseStats,
): JavaValue {
  const r = new FormatReader(bytes, { version: 0, channelLayout: "flink-1.12+", changelogLayout: "flink-1.15+" }, limits, stats, where);
  const magic = r.u16("streamMagic");
  const version = r.u16("streamVersion");
  if (magic !== STREAM_MAGIC || version !== STREAM_VERSION) r.fail("streamMagic", "a Java serialization stream (AC ED 00 05)");
  const value = new JavaStreamParser(r).content(0);
  if (r.remaining !== 0) r.fail("", `exactly one Java object ending at end of file, but ${r.remaining} bytes follow it`);
  return value;
}

class JavaStreamParser {
  private readonly handles: JavaValue[] = [];

  constructor(private readonly r: FormatReader) {}

  private newHandle(value: JavaValue): number {
    this.handles.push(value);
    return this.handles.length - 1;
  }

  private reference(): JavaValue {
    const handle = this.r.i32("handle") - BASE_HANDLE;
    if (handle < 0 || handle >= this.handles.length) this.r.fail("handle", `a back-reference to one of ${this.handles.length} earlier handles`);
    return this.handles[handle]!;
  }

  content(depth: number): JavaValue {
    if (depth > MAX_DEPTH) this.r.fail("", `Java objects nested at most ${MAX_DEPTH} deep`);
    const tc = this.r.u8("typeCode");
    switch (tc) {
      case TC.NULL:
        return null;
      case TC.REFERENCE:
        return this.reference();
      case TC.STRING: {
        const s = this.r.utf("string");
        this.newHandle(s);
        return s;
      }
      case TC.LONGSTRING: {
        const length = this.r.i64("longString.length");
        if (length < 0n || length > BigInt(this.r.remaining)) this.r.fail("longString", "a long string length within the remaining bytes");
        const s = Buffer.from(this.r.fixedBytes("longString", Number(length))).toString("utf8");
        this.newHandle(s);
        return s;
      }
      case TC.CLASSDESC:
      case TC.PROXYCLASSDESC:
        return this.classDescAfterTag(tc, depth);
      case TC.OBJECT:
        return this.object(depth);
      case TC.ENUM: {
        const desc = this.classDesc(depth);
        const value: { kind: "enum"; className: string; constant: string } = { kind: "enum", className: desc?.name ?? "", constant: "" };
        this.newHandle(value);
        const constant = this.content(depth + 1);
        if (typeof constant !== "string") this.r.fail("enumConstant", "an enum constant name (string)");
        value.constant = constant;
        return value;
      }
      case TC.ARRAY:
        return this.array(depth);
      case TC.CLASS: {
        const value: JavaValue = { kind: "class", desc: this.classDesc(depth) };
        this.newHandle(value);
        return value;
      }
      case TC.BLOCKDATA:
        return { kind: "blockData", bytes: this.r.fixedBytes("blockData", this.r.u8("blockData.length")) };
      case TC.BLOCKDATALONG: {
        const length = this.r.i32("blockData.length");
        if (length < 0) this.r.fail("blockData.length", "a non-negative block length");
        return { kind: "blockData", bytes: this.r.fixedBytes("blockData", length) };
      }
      default:
        return this.r.fail("typeCode", `a Java serialization type code, not 0x${tc.toString(16)}`);
    }
  }

  private classDesc(depth: number): JavaClassDesc | null {
    const value = this.content(depth + 1);
    if (value !== null && (typeof value !== "object" || !("kind" in value) || value.kind !== "classDesc")) {
      this.r.fail("classDesc", "a class descriptor");
    }
    return value;
  }

  private classDescAfterTag(tc: number, depth: number): JavaClassDesc {
    if (tc === TC.PROXYCLASSDESC) {
      const desc: JavaClassDesc = { kind: "classDesc", name: "<proxy>", serialVersionUid: 0n, flags: SC.SERIALIZABLE, fields: [], superClass: null };
      this.newHandle(desc);
      const count = this.r.i32("proxyInterfaces.count");
      if (count < 0 || count * 2 > this.r.remaining) this.r.fail("proxyInterfaces.count", "an interface count within the remaining bytes");
      for (let i = 0; i < count; i++) this.r.utf("proxyInterface");
      this.annotation(depth);
      desc.superClass = this.classDesc(depth);
      return desc;
    }
    const name = this.r.utf("className");
    const serialVersionUid = this.r.i64("serialVersionUID");
    const desc: JavaClassDesc = { kind: "classDesc", name, serialVersionUid, flags: 0, fields: [], superClass: null };
    this.newHandle(desc);
    desc.flags = this.r.u8("classDescFlags");
    const count = this.r.i16("fields.count");
    if (count < 0 || count * 3 > this.r.remaining) this.r.fail("fields.count", "a field count within the remaining bytes");
    for (let i = 0; i < count; i++) {
      const typeCode = String.fromCharCode(this.r.u8("field.typeCode"));
      const fieldName = this.r.utf("field.name");
      if (typeCode === "L" || typeCode === "[") {
        const className = this.content(depth + 1);
        if (typeof className !== "string") this.r.fail("field.className", "a field type name (string)");
        desc.fields.push({ typeCode, name: fieldName, className });
      } else if (PRIMITIVE_SIZES[typeCode] !== undefined) {
        desc.fields.push({ typeCode, name: fieldName });
      } else {
        this.r.fail("field.typeCode", `a field type code, not ${JSON.stringify(typeCode)}`);
      }
    }
    this.annotation(depth);
    desc.superClass = this.classDesc(depth);
    return desc;
  }

  /** Annotation contents up to TC_ENDBLOCKDATA. */
  private annotation(depth: number): void {
    for (;;) {
      if (this.r.peekU8() === TC.ENDBLOCKDATA) {
        this.r.u8("endBlockData");
        return;
      }
      this.content(depth + 1);
    }
  }

  private object(depth: number): JavaValue {
    const desc = this.classDesc(depth);
    if (desc === null) this.r.fail("object", "a class descriptor for the object");
    const value: { kind: "object"; className: string; fields: Record<string, JavaValue> } = { kind: "object", className: desc.name, fields: {} };
    this.newHandle(value);
    const chain: JavaClassDesc[] = [];
    for (let d: JavaClassDesc | null = desc; d !== null; d = d.superClass) {
      if (chain.length > MAX_DEPTH) this.r.fail("object", "a class hierarchy of reasonable depth");
      chain.unshift(d);
    }
    for (const cls of chain) {
      if (cls.flags & SC.EXTERNALIZABLE) {
        if (!(cls.flags & SC.BLOCK_DATA)) this.r.fail("object", `block-data externalizable content for ${cls.name}`);
        this.annotation(depth);
        continue;
      }
      for (const field of cls.fields) value.fields[field.name] = this.fieldValue(field.typeCode, depth);
      if (cls.flags & SC.WRITE_METHOD) this.annotation(depth);
    }
    return value;
  }

  private fieldValue(typeCode: string, depth: number): JavaValue {
    switch (typeCode) {
      case "B":
        return this.r.i8("byte");
      case "C":
        return this.r.u16("char");
      case "S":
        return this.r.i16("short");
      case "I":
        return this.r.i32("int");
      case "J":
        return this.r.i64("long");
      case "Z":
        return this.r.u8("boolean") !== 0;
      case "F":
        return Buffer.from(this.r.fixedBytes("float", 4)).readFloatBE(0);
      case "D":
        return Buffer.from(this.r.fixedBytes("double", 8)).readDoubleBE(0);
      default:
        return this.content(depth + 1);
    }
  }

  private array(depth: number): JavaValue {
    const desc = this.classDesc(depth);
    const className = desc?.name ?? "";
    const value: { kind: "array"; className: string; items: JavaValue[] } = { kind: "array", className, items: [] };
    this.newHandle(value);
    const size = this.r.i32("array.size");
    const component = className.charAt(1);
    const elementBytes = PRIMITIVE_SIZES[component] ?? 1;
    if (size < 0 || size * elementBytes > this.r.remaining) this.r.fail("array.size", "an array size within the remaining bytes");
    this.r.allocate("array", size * 8);
    for (let i = 0; i < size; i++) value.items.push(this.fieldValue(component, depth));
    return value;
  }
}
