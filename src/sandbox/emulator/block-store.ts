// File bytes of one emulated cluster on local disk: one data file per HDFS
// file inode (named by its fileId) under <stateDir>/<cluster>/data. Reads and
// writes are streams with offsets; nothing is ever held whole in memory.

import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../util/log.js";

export class BlockStore {
  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<BlockStore> {
    await mkdir(dir, { recursive: true });
    return new BlockStore(dir, logger);
  }

  pathOf(fileId: number): string {
    return join(this.dir, String(fileId));
  }

  /** A writer for a new file (truncating) or for an append. */
  writer(fileId: number, append: boolean): WriteStream {
    return createWriteStream(this.pathOf(fileId), { flags: append ? "a" : "w" });
  }

  /** Bytes [offset, offset + length) of a file; length 0 yields an empty stream. */
  reader(fileId: number, offset: number, length: number): ReadStream {
    return createReadStream(this.pathOf(fileId), { start: offset, end: Math.max(offset, offset + length - 1), highWaterMark: 256 * 1024 });
  }

  /** Size of the data file (0 when it does not exist), used to close files a crash left open. */
  async size(fileId: number): Promise<number> {
    try {
      return (await stat(this.pathOf(fileId))).size;
    } catch {
      return 0;
    }
  }

  /** Releases a deleted file's data in the background (like replica deletion on real DNs). */
  release(fileId: number): void {
    rm(this.pathOf(fileId), { force: true }).catch((err: unknown) =>
      this.logger.warn({ err, fileId }, "could not remove data of a deleted file"),
    );
  }
}
