// The CheckpointProperties trailer of format versions 4+: decoding it (checkpoint
// vs savepoint, savepoint format, sharing strategy, flags) and encoding one for
// metadata built programmatically, as Java's ObjectOutputStream would write it.

import { MetadataFormatError } from "./errors.js";
import { BASE_HANDLE, SC, STREAM_MAGIC, STREAM_VERSION, TC, type JavaValue } from "./java-serialization.js";
import { encodeModifiedUtf8 } from "./modified-utf8.js";

export const PROPERTY_FLAGS = [
  "discardCancelled",
  "discardFailed",
  "discardFinished",
  "discardSubsumed",
  "discardSuspended",
  "forced",
  "unclaimed",
] as const;
export type PropertyFlag = (typeof PROPERTY_FLAGS)[number];

export type SnapshotKind = "checkpoint" | "savepoint" | "unknown";

export interface CheckpointPropertiesInfo {
  kind: SnapshotKind;
  /** Class of the `checkpointType` object (CheckpointType or SavepointType). */
  snapshotTypeClass: string;
  /** e.g. "Checkpoint", "Full Checkpoint", "Savepoint", "Suspend Savepoint". */
  name?: string;
  /** Savepoints: CANONICAL or NATIVE. */
  formatType?: string;
  /** Savepoints: NONE, SUSPEND or TERMINATE. */
  postCheckpointAction?: string;
  /** Checkpoints: FORWARD_BACKWARD, FORWARD or NO_SHARING. */
  sharingFilesStrategy?: string;
  flags: Partial<Record<PropertyFlag, boolean>>;
}

const PKG = "org.apache.flink.runtime.checkpoint";
const PROPERTIES_CLASS = `${PKG}.CheckpointProperties`;
const CHECKPOINT_TYPE_CLASS = `${PKG}.CheckpointType`;
const SAVEPOINT_TYPE_CLASS = `${PKG}.SavepointType`;

/** Reads the fields Flink stores from a decoded trailer object. */
export function decodeCheckpointProperties(value: JavaValue): CheckpointPropertiesInfo {
  const fail = (expected: string): never => {
    throw new MetadataFormatError(0, "propertiesTrailer", expected);
  };
  if (value === null || typeof value !== "object" || value.kind !== "object" || value.className !== PROPERTIES_CLASS) {
    return fail(`a ${PROPERTIES_CLASS} object`);
  }
  const flags: Partial<Record<PropertyFlag, boolean>> = {};
  for (const flag of PROPERTY_FLAGS) {
    const v = value.fields[flag];
    if (typeof v === "boolean") flags[flag] = v;
  }
  const type = value.fields.checkpointType;
  if (type === null || type === undefined || typeof type !== "object" || type.kind !== "object") {
    return { kind: "unknown", snapshotTypeClass: "", flags };
  }
  const text = (name: string): string | undefined => {
    const v = type.fields[name];
    if (typeof v === "string") return v;
    if (v !== null && typeof v === "object" && v.kind === "enum") return v.constant;
    return undefined;
  };
  const kind: SnapshotKind =
    type.className === SAVEPOINT_TYPE_CLASS ? "savepoint" : type.className === CHECKPOINT_TYPE_CLASS ? "checkpoint" : "unknown";
  const info: CheckpointPropertiesInfo = { kind, snapshotTypeClass: type.className, flags };
  for (const key of ["name", "formatType", "postCheckpointAction", "sharingFilesStrategy"] as const) {
    const v = text(key);
    if (v !== undefined) info[key] = v;
  }
  return info;
}

// ---- Encoding ----

export type CheckpointPropertiesSpec =
  | {
      kind: "checkpoint";
      /** Default "Checkpoint". */
      name?: "Checkpoint" | "Full Checkpoint";
      /** Default FORWARD_BACKWARD. */
      sharingFilesStrategy?: "FORWARD_BACKWARD" | "FORWARD" | "NO_SHARING";
      /** Defaults: discard* true, forced and unclaimed false (as Flink's periodic checkpoints). */
      flags?: Partial<Record<PropertyFlag, boolean>>;
    }
  | {
      kind: "savepoint";
      /** Default "Savepoint". */
      name?: "Savepoint" | "Suspend Savepoint" | "Terminate Savepoint";
      /** Default CANONICAL. */
      formatType?: "CANONICAL" | "NATIVE";
      /** Default NONE. */
      postCheckpointAction?: "NONE" | "SUSPEND" | "TERMINATE";
      /** Defaults: forced true, everything else false. */
      flags?: Partial<Record<PropertyFlag, boolean>>;
    };

interface ClassSpec {
  name: string;
  serialVersionUid: bigint;
  flags: number;
  fields: { typeCode: string; name: string; className?: string }[];
  superClass: ClassSpec | null;
}

const ENUM_BASE: ClassSpec = { name: "java.lang.Enum", serialVersionUid: 0n, flags: SC.SERIALIZABLE | SC.ENUM, fields: [], superClass: null };
const enumClass = (name: string): ClassSpec => ({ name, serialVersionUid: 0n, flags: SC.SERIALIZABLE | SC.ENUM, fields: [], superClass: ENUM_BASE });
const STRING_SIG = "Ljava/lang/String;";

const PROPERTIES_DESC: ClassSpec = {
  name: PROPERTIES_CLASS,
  serialVersionUid: 2n,
  flags: SC.SERIALIZABLE,
  fields: [
    ...PROPERTY_FLAGS.map((name) => ({ typeCode: "Z", name })),
    { typeCode: "L", name: "checkpointType", className: "Lorg/apache/flink/runtime/checkpoint/SnapshotType;" },
  ],
  superClass: null,
};
const CHECKPOINT_TYPE_DESC: ClassSpec = {
  name: CHECKPOINT_TYPE_CLASS,
  serialVersionUid: -0x2921b0fcfa51e2c6n,
  flags: SC.SERIALIZABLE,
  fields: [
    { typeCode: "L", name: "name", className: STRING_SIG },
    { typeCode: "L", name: "sharingFilesStrategy", className: "Lorg/apache/flink/runtime/checkpoint/SnapshotType$SharingFilesStrategy;" },
  ],
  superClass: null,
};
const SAVEPOINT_TYPE_DESC: ClassSpec = {
  name: SAVEPOINT_TYPE_CLASS,
  serialVersionUid: -0x5f782cf75ba7eb48n,
  flags: SC.SERIALIZABLE,
  fields: [
    { typeCode: "L", name: "formatType", className: "Lorg/apache/flink/core/execution/SavepointFormatType;" },
    { typeCode: "L", name: "name", className: STRING_SIG },
    { typeCode: "L", name: "postCheckpointAction", className: "Lorg/apache/flink/runtime/checkpoint/SavepointType$PostCheckpointAction;" },
  ],
  superClass: null,
};
const SHARING_ENUM = enumClass(`${PKG}.SnapshotType$SharingFilesStrategy`);
const FORMAT_ENUM = enumClass("org.apache.flink.core.execution.SavepointFormatType");
const POST_ACTION_ENUM = enumClass(`${PKG}.SavepointType$PostCheckpointAction`);

/** Minimal ObjectOutputStream: class descriptors and strings are written once, then referenced by handle. */
class JavaStreamWriter {
  private readonly chunks: Buffer[] = [];
  private readonly handles = new Map<string, number>();
  private nextHandle = 0;

  private u8(v: number): void {
    this.chunks.push(Buffer.of(v));
  }
  private raw(n: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(n);
    write(b);
    this.chunks.push(b);
  }
  private utf(s: string): void {
    const e = encodeModifiedUtf8(s);
    this.raw(2, (b) => b.writeUInt16BE(e.length));
    this.chunks.push(e);
  }
  private assign(key?: string): void {
    if (key !== undefined) this.handles.set(key, this.nextHandle);
    this.nextHandle++;
  }
  private referenced(key: string): boolean {
    const h = this.handles.get(key);
    if (h === undefined) return false;
    this.u8(TC.REFERENCE);
    this.raw(4, (b) => b.writeInt32BE(BASE_HANDLE + h));
    return true;
  }

  header(): this {
    this.raw(4, (b) => (b.writeUInt16BE(STREAM_MAGIC), b.writeUInt16BE(STREAM_VERSION, 2)));
    return this;
  }

  string(s: string): void {
    if (this.referenced(`string:${s}`)) return;
    this.u8(TC.STRING);
    this.assign(`string:${s}`);
    this.utf(s);
  }

  classDesc(d: ClassSpec | null): void {
    if (d === null) return this.u8(TC.NULL);
    if (this.referenced(`class:${d.name}`)) return;
    this.u8(TC.CLASSDESC);
    this.utf(d.name);
    this.raw(8, (b) => b.writeBigInt64BE(d.serialVersionUid));
    this.assign(`class:${d.name}`);
    this.u8(d.flags);
    this.raw(2, (b) => b.writeInt16BE(d.fields.length));
    for (const f of d.fields) {
      this.u8(f.typeCode.charCodeAt(0));
      this.utf(f.name);
      if (f.className !== undefined) this.string(f.className);
    }
    this.u8(TC.ENDBLOCKDATA);
    this.classDesc(d.superClass);
  }

  /** An object whose field values are written by `values` in descriptor order. */
  object(d: ClassSpec, values: () => void): void {
    this.u8(TC.OBJECT);
    this.classDesc(d);
    this.assign();
    values();
  }

  boolean(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  enumConstant(d: ClassSpec, constant: string): void {
    this.u8(TC.ENUM);
    this.classDesc(d);
    this.assign();
    this.string(constant);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The trailer bytes Flink would write for these properties. */
export function encodeCheckpointProperties(spec: CheckpointPropertiesSpec): Buffer {
  const isCheckpoint = spec.kind === "checkpoint";
  const flags: Record<PropertyFlag, boolean> = {
    discardCancelled: isCheckpoint,
    discardFailed: isCheckpoint,
    discardFinished: isCheckpoint,
    discardSubsumed: isCheckpoint,
    discardSuspended: isCheckpoint,
    forced: !isCheckpoint,
    unclaimed: false,
    ...spec.flags,
  };
  const w = new JavaStreamWriter().header();
  w.object(PROPERTIES_DESC, () => {
    for (const flag of PROPERTY_FLAGS) w.boolean(flags[flag]);
    if (spec.kind === "checkpoint") {
      w.object(CHECKPOINT_TYPE_DESC, () => {
        w.string(spec.name ?? "Checkpoint");
        w.enumConstant(SHARING_ENUM, spec.sharingFilesStrategy ?? "FORWARD_BACKWARD");
      });
    } else {
      w.object(SAVEPOINT_TYPE_DESC, () => {
        w.enumConstant(FORMAT_ENUM, spec.formatType ?? "CANONICAL");
        w.string(spec.name ?? "Savepoint");
        w.enumConstant(POST_ACTION_ENUM, spec.postCheckpointAction ?? "NONE");
      });
    }
  });
  return w.toBuffer();
}
