// Persistence of one emulated namespace: an append-only journal of inode
// records (JSON lines). Each mutation appends one or a few short lines; on
// start the journal is replayed and then compacted into a snapshot written to
// a temporary file and atomically renamed over the journal.

import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, open, rename } from "node:fs/promises";
import { once } from "node:events";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { Logger } from "../../util/log.js";
import { SandboxError } from "./errors.js";

/** Full attributes of one inode (create or update). */
export interface PutRecord {
  op: "put";
  id: number;
  parent: number | null;
  name: string;
  type: "FILE" | "DIRECTORY";
  owner: string;
  group: string;
  permission: number;
  modificationTime: number;
  accessTime: number;
  length?: number;
  blockSize?: number;
  replication?: number;
  /** True while a writer holds the lease; replay closes such files with the bytes on disk. */
  underConstruction?: boolean;
}
/** Removal of an inode and its whole subtree. */
export interface DeleteRecord {
  op: "del";
  id: number;
}
/** Move/rename of an inode. */
export interface MoveRecord {
  op: "mv";
  id: number;
  parent: number;
  name: string;
}
export type JournalRecord = PutRecord | DeleteRecord | MoveRecord;

export interface JournalSink {
  append(record: JournalRecord): void;
}

export class NamespaceJournal implements JournalSink {
  private stream: WriteStream;

  private constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.stream = this.openAppendStream();
  }

  /** Reads every complete record of `file` (a torn last line from a crash is ignored), then opens for appending. */
  static async open(file: string, logger: Logger, onRecord: (record: JournalRecord) => void): Promise<NamespaceJournal> {
    await mkdir(dirname(file), { recursive: true });
    await (await open(file, "a")).close();
    const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line === "") continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        logger.warn({ file, lineNo }, "ignoring unreadable journal line (torn write at a crash?)");
        continue;
      }
      try {
        onRecord(record);
      } catch (err) {
        throw new SandboxError(`journal ${file} line ${lineNo}: cannot apply record`, { cause: err });
      }
    }
    return new NamespaceJournal(file, logger);
  }

  append(record: JournalRecord): void {
    if (this.stream.writableEnded) {
      this.logger.error({ file: this.file, record }, "namespace change after the journal was closed; not persisted");
      return;
    }
    this.stream.write(JSON.stringify(record) + "\n");
  }

  /** Replaces the journal with a snapshot (the given records), atomically. */
  async compact(records: Iterable<JournalRecord>): Promise<void> {
    await this.closeStream();
    const tmp = `${this.file}.tmp`;
    const out = createWriteStream(tmp, { flags: "w" });
    for (const record of records) {
      if (!out.write(JSON.stringify(record) + "\n")) await once(out, "drain");
    }
    out.end();
    await once(out, "close");
    const handle = await open(tmp, "r+");
    await handle.sync();
    await handle.close();
    await rename(tmp, this.file);
    this.stream = this.openAppendStream();
    this.logger.debug({ file: this.file }, "namespace journal compacted");
  }

  /** Flushes and closes the journal. */
  async close(): Promise<void> {
    await this.closeStream();
  }

  private openAppendStream(): WriteStream {
    const stream = createWriteStream(this.file, { flags: "a" });
    stream.on("error", (err) => this.logger.error({ err, file: this.file }, "namespace journal write failed"));
    return stream;
  }

  private async closeStream(): Promise<void> {
    if (this.stream.closed) return;
    const closed = once(this.stream, "close");
    this.stream.end();
    await closed;
  }
}
