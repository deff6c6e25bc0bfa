// The wire shape of Hadoop delegation tokens: a DelegationTokenIdentifier and a
// Token serialised with Hadoop's Writable encoding (variable-length ints, Text),
// turned into the URL-safe base64 `urlString` without padding
// (Token.encodeToUrlString), and the way back. The client reads a token's max
// date from it; the emulator mints tokens with it.

/** AbstractDelegationTokenIdentifier fields (identifier kind HDFS_DELEGATION_TOKEN, version 0). */
export interface DelegationTokenIdentifier {
  owner: string;
  renewer: string;
  realUser: string;
  issueDate: number;
  maxDate: number;
  sequenceNumber: number;
  masterKeyId: number;
}

/** A decoded Token: identifier bytes, password (HMAC of the identifier), kind and service. */
export interface DecodedToken {
  identifierBytes: Buffer;
  identifier: DelegationTokenIdentifier;
  password: Buffer;
  kind: string;
  service: string;
}

export const IDENTIFIER_KIND = "HDFS_DELEGATION_TOKEN";
const IDENTIFIER_VERSION = 0;
const URL_SAFE_BASE64 = /^[A-Za-z0-9_-]+$/;
/** Generous bound for one token: a few short names and numbers. */
const MAX_TOKEN_CHARS = 4096;

/** Raised for a urlString that is not a well-formed token (bad characters, truncated, trailing bytes). */
export class TokenFormatError extends Error {}

/** WritableUtils.writeVLong (also writeVInt): one byte for -112..127, else a length byte and big-endian bytes. */
function vlong(value: number): Buffer {
  let i = BigInt(value);
  if (i >= -112n && i <= 127n) return Buffer.from([Number(BigInt.asUintN(8, i))]);
  let len = -112;
  if (i < 0n) {
    i = ~i;
    len = -120;
  }
  for (let tmp = i; tmp !== 0n; tmp >>= 8n) len--;
  const bytes = len < -120 ? -(len + 120) : -(len + 112);
  const out = Buffer.alloc(1 + bytes);
  out.writeInt8(len, 0);
  for (let idx = bytes; idx !== 0; idx--) out[1 + bytes - idx] = Number((i >> BigInt((idx - 1) * 8)) & 0xffn);
  return out;
}

/** Text.write: vint byte length, then UTF-8. */
function text(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  return Buffer.concat([vlong(bytes.length), bytes]);
}

function bytesField(value: Buffer): Buffer {
  return Buffer.concat([vlong(value.length), value]);
}

export function encodeIdentifier(id: DelegationTokenIdentifier): Buffer {
  return Buffer.concat([
    Buffer.from([IDENTIFIER_VERSION]),
    text(id.owner),
    text(id.renewer),
    text(id.realUser),
    vlong(id.issueDate),
    vlong(id.maxDate),
    vlong(id.sequenceNumber),
    vlong(id.masterKeyId),
  ]);
}

export function encodeToken(t: Omit<DecodedToken, "identifier">): string {
  return Buffer.concat([bytesField(t.identifierBytes), bytesField(t.password), text(t.kind), text(t.service)]).toString("base64url");
}

/** Sequential reader over a Writable byte buffer; every overrun is a TokenFormatError. */
class WritableReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.offset === this.buf.length;
  }

  private byte(): number {
    if (this.offset >= this.buf.length) throw new TokenFormatError("token is truncated");
    return this.buf.readInt8(this.offset++);
  }

  vlong(): number {
    const first = this.byte();
    if (first >= -112) return first;
    const size = first < -120 ? -119 - first : -111 - first;
    let i = 0n;
    for (let idx = 0; idx < size - 1; idx++) i = (i << 8n) | BigInt(this.byte() & 0xff);
    const negative = first < -120;
    return Number(negative ? ~i : i);
  }

  bytes(): Buffer {
    const length = this.vlong();
    if (length < 0 || this.offset + length > this.buf.length) throw new TokenFormatError("token is truncated");
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  text(): string {
    return this.bytes().toString("utf8");
  }
}

export function decodeIdentifier(bytes: Buffer): DelegationTokenIdentifier {
  const r = new WritableReader(bytes);
  const version = r.vlong();
  if (version !== IDENTIFIER_VERSION) throw new TokenFormatError(`unknown token identifier version ${version}`);
  const id = {
    owner: r.text(),
    renewer: r.text(),
    realUser: r.text(),
    issueDate: r.vlong(),
    maxDate: r.vlong(),
    sequenceNumber: r.vlong(),
    masterKeyId: r.vlong(),
  };
  if (!r.done) throw new TokenFormatError("trailing bytes after the token identifier");
  return id;
}

/** Token.decodeFromUrlString plus the identifier's readFields. */
export function decodeToken(urlString: string): DecodedToken {
  if (urlString.length > MAX_TOKEN_CHARS || !URL_SAFE_BASE64.test(urlString)) {
    throw new TokenFormatError("token is not URL-safe base64");
  }
  const r = new WritableReader(Buffer.from(urlString, "base64url"));
  const identifierBytes = r.bytes();
  const password = r.bytes();
  const kind = r.text();
  const service = r.text();
  if (!r.done) throw new TokenFormatError("trailing bytes after the token");
  return { identifierBytes, identifier: decodeIdentifier(identifierBytes), password, kind, service };
}

/** DelegationTokenIdentifier.toString(): what Hadoop puts between parentheses in InvalidToken messages (no secret). */
export function describeIdentifier(id: DelegationTokenIdentifier): string {
  return (
    `token for ${id.owner}: ${IDENTIFIER_KIND} owner=${id.owner}, renewer=${id.renewer}, realUser=${id.realUser}, ` +
    `issueDate=${id.issueDate}, maxDate=${id.maxDate}, sequenceNumber=${id.sequenceNumber}, masterKeyId=${id.masterKeyId}`
  );
}
