// Java "modified UTF-8" (DataInput.readUTF / DataOutput.writeUTF) for JS strings.
// Decoding accepts only the canonical encoding Java writes, so that
// encode(decode(bytes)) reproduces the bytes exactly.

/** Decodes `bytes`; returns null when they are not canonical modified UTF-8. */
export function decodeModifiedUtf8(bytes: Uint8Array): string | null {
  let out = "";
  let chunk: number[] = [];
  const flush = (): void => {
    out += String.fromCharCode(...chunk);
    chunk = [];
  };
  for (let i = 0; i < bytes.length; ) {
    const a = bytes[i]!;
    let unit: number;
    if (a >= 0x01 && a <= 0x7f) {
      unit = a;
      i += 1;
    } else if ((a & 0xe0) === 0xc0) {
      const b = bytes[i + 1];
      if (b === undefined || (b & 0xc0) !== 0x80) return null;
      unit = ((a & 0x1f) << 6) | (b & 0x3f);
      if (unit !== 0 && unit < 0x80) return null; // overlong
      i += 2;
    } else if ((a & 0xf0) === 0xe0) {
      const b = bytes[i + 1];
      const c = bytes[i + 2];
      if (b === undefined || c === undefined || (b & 0xc0) !== 0x80 || (c & 0xc0) !== 0x80) return null;
      unit = ((a & 0x0f) << 12) | ((b & 0x3f) << 6) | (c & 0x3f);
      if (unit < 0x800) return null; // overlong
      i += 3;
    } else {
      return null; // raw NUL, 4-byte forms and stray continuation bytes are not modified UTF-8
    }
    chunk.push(unit);
    if (chunk.length >= 4096) flush();
  }
  flush();
  return out;
}

/** Number of bytes `text` takes in modified UTF-8. */
export function modifiedUtf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    n += u >= 0x01 && u <= 0x7f ? 1 : u <= 0x7ff ? 2 : 3;
  }
  return n;
}

export function encodeModifiedUtf8(text: string): Buffer {
  const out = Buffer.allocUnsafe(modifiedUtf8Length(text));
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u >= 0x01 && u <= 0x7f) {
      out[o++] = u;
    } else if (u <= 0x7ff) {
      out[o++] = 0xc0 | (u >> 6);
      out[o++] = 0x80 | (u & 0x3f);
    } else {
      out[o++] = 0xe0 | (u >> 12);
      out[o++] = 0x80 | ((u >> 6) & 0x3f);
      out[o++] = 0x80 | (u & 0x3f);
    }
  }
  return out;
}
