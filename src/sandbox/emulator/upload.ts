// The DataNode side of CREATE and APPEND after the file has been opened in the
// namespace: streams the request body to the file's data on disk, keeps the
// lease's flushed length current (what DN readers see), and closes the file
// with exactly the bytes that reached the disk — also when the client aborts.

import type { IncomingMessage } from "node:http";
import { open, type FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FileInode } from "./inode.js";

/** A Writable that appends to a file handle and reports each completed write. */
class FileSink extends Writable {
  constructor(
    private readonly handle: FileHandle,
    private readonly onWritten: (bytes: number) => void,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.writeAll(chunk).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.writeAll(Buffer.concat(chunks.map((c) => c.chunk))).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (err?: Error | null) => void): void {
    this.handle.close().then(() => callback(error), (closeErr: Error) => callback(error ?? closeErr));
  }

  private async writeAll(buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesWritten } = await this.handle.write(buffer, offset, buffer.length - offset);
      offset += bytesWritten;
      this.onWritten(bytesWritten);
    }
  }
}

export interface UploadOutcome {
  /** Total file length on disk after the upload (previous length included for APPEND). */
  length: number;
  /** Set when the client went away before the body was complete. */
  aborted: Error | null;
}

/** Streams `req` into `dataPath` (appending when `append`), updating `file.lease.bytesWritten` as bytes land. */
export async function receiveUpload(req: IncomingMessage, dataPath: string, file: FileInode, append: boolean): Promise<UploadOutcome> {
  const base = append ? file.length : 0;
  let written = 0;
  const handle = await open(dataPath, append ? "a" : "w");
  const sink = new FileSink(handle, (bytes) => {
    written += bytes;
    if (file.lease !== null) file.lease.bytesWritten = base + written;
  });
  let aborted: Error | null = null;
  try {
    await pipeline(req, sink);
  } catch (err) {
    aborted = err instanceof Error ? err : new Error(String(err));
  }
  // The sink closes its handle only after in-flight writes finish: count them before reporting a length.
  if (!sink.closed) await new Promise((resolve) => sink.once("close", resolve));
  return { length: base + written, aborted };
}
