// Progress display for long commands: on a TTY one line rewritten in place
// (files, bytes, rate, ETA); otherwise nothing here (the JSON log carries the
// same facts line by line).

import type { Writable } from "node:stream";
import { formatBytes, formatDuration, formatRate } from "../util/units.js";
import type { EngineStatus } from "../replication/index.js";

export class ProgressLine {
  private timer: NodeJS.Timeout | null = null;
  private bytes = 0;
  private readonly started = Date.now();

  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly status: () => EngineStatus,
  ) {}

  addBytes(n: number): void {
    this.bytes += n;
  }

  start(): void {
    if (!this.out.isTTY) return;
    this.timer = setInterval(() => this.render(), 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.out.isTTY) this.out.write("\r\x1b[K");
  }

  line(): string {
    const s = this.status();
    let filesDone = 0;
    let filesTotal = 0;
    let bytesTotal = 0;
    let bytesDone = 0;
    for (const j of s.jobs) {
      if (!j.current) continue;
      filesDone += j.current.filesDone;
      filesTotal += j.current.filesTotal;
      bytesTotal += j.current.bytesTotal;
      bytesDone += j.current.bytesDone;
    }
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = this.bytes / secs;
    const left = bytesTotal - bytesDone;
    const eta = rate > 0 && left > 0 ? formatDuration((left / rate) * 1000) : "-";
    return `files ${filesDone}/${filesTotal}  bytes ${formatBytes(bytesDone)}/${formatBytes(bytesTotal)}  ${formatRate(rate)}  ETA ${eta}`;
  }

  private render(): void {
    this.out.write(`\r\x1b[K${this.line()}`);
  }
}
