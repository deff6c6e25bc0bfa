// The single-writer lease on the target: a small JSON file created with
// overwrite=false, renewed every ttl/3 and considered abandoned once it has not
// been renewed for a whole ttl. A second daemon pointed at the same target
// refuses to start while the lease is held; a daemon that loses its lease stops
// writing. Clocks of the daemons' hosts are assumed roughly in sync (NTP).

import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { CkptError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { isAlreadyExists, parentOf, readSmallFile, type Storage } from "../storage/types.js";
import { writeAtomically } from "./atomic.js";

export interface LeaseContent {
  owner: string;
  host: string;
  pid: number;
  acquiredAt: number;
  renewedAt: number;
  ttlMs: number;
}

export class LeaseHeldError extends CkptError {
  readonly kind = "lease-held";
  constructor(
    readonly path: string,
    readonly holder: string,
    readonly expiresAt: number | null,
  ) {
    super(
      `another replicator holds the target lease ${path} (${holder})` +
        (expiresAt === null ? "" : `; it expires at ${new Date(expiresAt).toISOString()} unless renewed`) +
        `: refusing to start a second writer`,
    );
  }
}

export class LeaseLostError extends CkptError {
  readonly kind = "lease-lost";
  constructor(readonly path: string, reason: string) {
    super(`lost the target lease ${path}: ${reason}`);
  }
}

export class Lease {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private acquiredAt = 0;
  private renewedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private lost: LeaseLostError | null = null;

  constructor(
    private readonly storage: Storage,
    readonly path: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly onLost: (err: LeaseLostError) => void = () => {},
  ) {}

  /** Throws LeaseLostError when this process may no longer write. */
  assertHeld(): void {
    if (this.lost) throw this.lost;
    if (Date.now() - this.renewedAt > this.ttlMs) throw new LeaseLostError(this.path, "not renewed within its ttl (target unreachable?); writes pause until it is renewed");
  }

  /** Takes the lease; `signal` aborts a slow start (e.g. the target is unreachable and requests are retried). */
  async acquire(signal?: AbortSignal): Promise<void> {
    const io = signal ? { signal } : {};
    await this.storage.mkdirs(parentOf(this.path), io);
    const now = Date.now();
    this.acquiredAt = now;
    try {
      await this.storage.write(this.path, this.content(now), { ...io, overwrite: false });
      this.renewedAt = now;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const current = await this.read();
      if (current === null) throw new LeaseHeldError(this.path, "a lease file that is being written or unreadable", null);
      if (current.owner !== this.owner && current.renewedAt + current.ttlMs > Date.now()) {
        throw new LeaseHeldError(this.path, `${current.owner}, renewed ${new Date(current.renewedAt).toISOString()}`, current.renewedAt + current.ttlMs);
      }
      this.logger.warn({ lease: this.path, previous: current.owner }, "taking over an expired lease");
      await this.write();
      // Another daemon may have taken it over at the same moment: the last writer wins, the other backs off.
      await new Promise((r) => setTimeout(r, 50));
      const check = await this.read();
      if (check?.owner !== this.owner) throw new LeaseHeldError(this.path, check?.owner ?? "unknown", null);
    }
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    this.logger.info({ lease: this.path, owner: this.owner }, "target lease acquired");
  }

  async renew(): Promise<void> {
    if (this.lost) return;
    try {
      const current = await this.read();
      if (current !== null && current.owner !== this.owner) {
        this.markLost(`now held by ${current.owner}`);
        return;
      }
      await this.write();
    } catch (err) {
      // While renewals fail the lease lapses (assertHeld refuses writes); it is resumed by the next
      // successful renewal unless another replicator took it over in the meantime.
      this.logger.warn({ lease: this.path, err: errorMessage(err) }, "lease renewal failed");
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.lost) return;
    try {
      const current = await this.read();
      if (current?.owner === this.owner) await this.storage.delete(this.path);
    } catch (err) {
      this.logger.warn({ lease: this.path, err: errorMessage(err) }, "could not release the lease; it will expire");
    }
  }

  private markLost(reason: string): void {
    this.lost = new LeaseLostError(this.path, reason);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.logger.error({ lease: this.path, reason }, "target lease lost: stopping all writes");
    this.onLost(this.lost);
  }

  private content(now: number): Buffer {
    const c: LeaseContent = { owner: this.owner, host: hostname(), pid: process.pid, acquiredAt: this.acquiredAt, renewedAt: now, ttlMs: this.ttlMs };
    return Buffer.from(JSON.stringify(c));
  }

  private async write(): Promise<void> {
    const now = Date.now();
    await writeAtomically(this.storage, this.path, this.content(now), { overwrite: true });
    this.renewedAt = now;
  }

  private async read(): Promise<LeaseContent | null> {
    try {
      const parsed = JSON.parse((await readSmallFile(this.storage, this.path, 64 * 1024)).toString("utf8")) as Partial<LeaseContent>;
      if (typeof parsed.owner !== "string" || typeof parsed.renewedAt !== "number" || typeof parsed.ttlMs !== "number") return null;
      return parsed as LeaseContent;
    } catch {
      return null;
    }
  }
}
