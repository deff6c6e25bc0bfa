// The single-writer lease on the target, with fencing that holds on a storage
// without compare-and-swap (HDFS): epoch-numbered files <lease dir>/epoch-<n>.json,
// each created only if absent (capabilities.exclusiveCreate: HDFS overwrite=false,
// S3 If-None-Match), so exactly one daemon creates epoch n+1; the highest epoch
// is the holder. Where the storage has conditional writes, a renewal replaces
// the epoch file only while it is the version this holder wrote (If-Match). A
// storage without exclusive create is said so at start-up: the lease then still
// refuses to start beside a live holder, but two daemons starting at the same
// moment could both believe they hold it.
//
// Time is judged so that no two holders' write windows meet:
// - The holder renews every ttl/4 by rewriting its own epoch file (the storage
//   stamps it with the storage's clock) after checking that no higher epoch
//   exists. It writes only while less than ttl/2 has passed, on its own
//   monotonic clock, since the start of its last successful renewal; every
//   mutating request checks that just before it is sent (also on retries).
// - A newcomer takes over only when the holder's epoch file has not been
//   renewed for a whole ttl on the storage's own clock (the time the storage
//   stamps on a probe file the newcomer writes), so daemons' clocks need not
//   agree; only the storage's clock and the holder's tick rate must be sane
//   within ttl/2.
// - Before each batch of writes (publishing a checkpoint, reaping) the holder
//   also confirms that epoch n+1 does not exist.
// What remains: a process paused between its last check and the moment its
// request reaches the NameNode (microseconds, or a request stuck in the
// kernel) can still land one request after a takeover.

import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { CkptError, errorMessage } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { isAlreadyExists, joinPath, parentOf, readSmallFile, storageReason, type Storage } from "../storage/types.js";
import { writeAtomically } from "./atomic.js";
import type { LeftBehind } from "./left-behind.js";
import { isTempName, tempPathFor } from "./layout.js";

export interface LeaseContent {
  owner: string;
  host: string;
  pid: number;
  epoch: number;
  acquiredAt: number;
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

/** Every lease request is a control request: it never waits behind the copies' data connections. */
const CONTROL = { control: true } as const;

const EPOCH_FILE = /^epoch-(\d{1,15})\.json$/;

export function epochFileName(epoch: number): string {
  return `epoch-${String(epoch).padStart(12, "0")}.json`;
}

export interface LeaseDescription {
  state: "free" | "held" | "expired" | "unknown";
  holder?: string;
  epoch?: number;
  /** When it expires unless renewed, by this host's clock (approximate: the holder renews on the storage's clock). */
  expiresAt?: number;
  detail?: string;
}

/** Who holds the lease at `path`, read only (for check-config and status): the highest epoch and its age. */
export async function describeLease(storage: Pick<Storage, "list" | "read" | "name">, path: string, now = Date.now()): Promise<LeaseDescription> {
  const entries = await storage.list(path);
  if (entries === null) return { state: "free" };
  let highest: { epoch: number; mtime: number } | null = null;
  for (const e of entries) {
    const m = e.type === "file" ? EPOCH_FILE.exec(e.name) : null;
    if (m && (highest === null || Number(m[1]) > highest.epoch)) highest = { epoch: Number(m[1]), mtime: e.mtime };
  }
  if (highest === null) return { state: "free" };
  try {
    const c = JSON.parse((await readSmallFile(storage, joinPath(path, epochFileName(highest.epoch)), 64 * 1024)).toString("utf8")) as Partial<LeaseContent>;
    if (typeof c.owner !== "string" || typeof c.ttlMs !== "number") return { state: "unknown", epoch: highest.epoch, detail: "unreadable epoch file" };
    const expiresAt = highest.mtime + c.ttlMs;
    return { state: expiresAt > now ? "held" : "expired", holder: c.owner, epoch: highest.epoch, expiresAt };
  } catch (err) {
    return { state: "unknown", epoch: highest.epoch, detail: errorMessage(err) };
  }
}

export class Lease {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private epoch = 0;
  private acquiredAt = 0;
  /** performance.now() at the start of the last successful renewal (or of the acquisition). */
  private renewedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private lost: LeaseLostError | null = null;
  private renewing: Promise<void> | null = null;
  /** Version of our epoch file as last written (conditional-write storages). */
  private version: string | undefined;

  constructor(
    private readonly storage: Storage,
    /** The lease directory. */
    readonly path: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly onLost: (err: LeaseLostError) => void = () => {},
    /** Where a renewal's temporary whose removal failed is recorded (the engine's stop reports it). */
    private readonly leftBehind?: LeftBehind,
  ) {}

  get currentEpoch(): number {
    return this.epoch;
  }

  /** Throws LeaseLostError when this process may not write now (lost, or not renewed within ttl/2). */
  assertHeld(): void {
    if (this.lost) throw this.lost;
    if (performance.now() - this.renewedAt > this.ttlMs / 2) {
      throw new LeaseLostError(this.path, "not renewed within half its ttl (target unreachable or process paused?); writes pause until it is renewed");
    }
  }

  /** Before a batch of writes: no newer epoch exists (one request). */
  async confirm(signal?: AbortSignal): Promise<void> {
    this.assertHeld();
    const next = await this.storage.stat(joinPath(this.path, epochFileName(this.epoch + 1)), signal ? { signal, ...CONTROL } : CONTROL);
    if (next !== null) {
      this.markLost(`epoch ${this.epoch + 1} was taken by another replicator`);
      throw this.lost as unknown as LeaseLostError;
    }
    this.assertHeld();
  }

  /** Takes the lease; `signal` aborts a slow start (e.g. the target is unreachable and requests are retried). */
  async acquire(signal?: AbortSignal): Promise<void> {
    const io = signal ? { signal, ...CONTROL } : CONTROL;
    if (!this.storage.capabilities.exclusiveCreate) {
      this.logger.warn(
        { lease: this.path, storage: this.storage.name },
        "the target storage cannot create a file only if absent: the lease refuses to start beside a live holder, but cannot exclude two replicators starting at the same moment; run exactly one",
      );
    }
    await this.prepareDirectory(io);
    const { highest, temps } = await this.epochs(io);
    await this.removeStaleTemporaries(temps, io);
    if (highest !== null) {
      const holder = await this.read(highest.epoch);
      const now = await this.storageNow(io);
      const age = now - highest.mtime;
      // An epoch file of our own is one an earlier attempt of this start wrote before its answer was lost.
      if (age <= this.ttlMs && holder?.owner !== this.owner) {
        throw new LeaseHeldError(this.path, `${holder?.owner ?? "unknown owner"}, epoch ${highest.epoch}, renewed ${Math.round(age / 1000)}s ago`, Date.now() + (this.ttlMs - age));
      }
      this.logger.warn({ lease: this.path, previous: holder?.owner ?? null, epoch: highest.epoch, ageMs: age }, "taking over an expired lease");
    }
    const epoch = (highest?.epoch ?? 0) + 1;
    const started = performance.now();
    this.acquiredAt = Date.now();
    this.epoch = epoch;
    try {
      const file = joinPath(this.path, epochFileName(epoch));
      await this.storage.write(file, this.content(), { ...io, overwrite: false });
      if (this.storage.capabilities.conditionalWrite) this.version = (await this.storage.stat(file, io))?.version;
    } catch (err) {
      this.epoch = 0;
      if (!isAlreadyExists(err)) throw err;
      const winner = await this.read(epoch);
      throw new LeaseHeldError(this.path, `${winner?.owner ?? "another replicator"}, which took epoch ${epoch} at the same moment`, null);
    }
    this.renewedAt = started;
    for (let e = epoch - 1; e >= Math.max(1, epoch - 50); e--) {
      await this.storage.delete(joinPath(this.path, epochFileName(e)), CONTROL).catch(() => false); // history; best effort
    }
    this.timer = setInterval(() => void this.renew(), Math.max(25, Math.floor(this.ttlMs / 4)));
    this.timer.unref();
    this.logger.info({ lease: this.path, owner: this.owner, epoch }, "target lease acquired");
  }

  async renew(): Promise<void> {
    if (this.lost || this.epoch === 0) return;
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const started = performance.now();
    try {
      const { highest } = await this.epochs(CONTROL);
      if (highest !== null && highest.epoch > this.epoch) {
        this.markLost(`epoch ${highest.epoch} is held by ${(await this.read(highest.epoch))?.owner ?? "another replicator"}`);
        return;
      }
      // Only our own epoch file is ever rewritten: a late renewal cannot overwrite a newer holder.
      const file = joinPath(this.path, epochFileName(this.epoch));
      if (this.storage.capabilities.conditionalWrite && this.version !== undefined) {
        await this.storage.write(file, this.content(), { ...CONTROL, overwrite: true, ifMatch: this.version });
        this.version = (await this.storage.stat(file, CONTROL))?.version;
      } else {
        await writeAtomically(this.storage, file, this.content(), { ...CONTROL, overwrite: true, ...(this.leftBehind ? { leftBehind: this.leftBehind } : {}) });
      }
      this.renewedAt = started;
    } catch (err) {
      if (storageReason(err) === "conflict") {
        this.markLost(`epoch file ${epochFileName(this.epoch)} was replaced by someone else`);
        return;
      }
      // While renewals fail the lease lapses (assertHeld refuses writes); it is resumed by the next
      // successful renewal unless another replicator took it over in the meantime.
      this.logger.warn({ lease: this.path, err: errorMessage(err) }, "lease renewal failed");
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing?.catch(() => undefined);
    if (this.lost || this.epoch === 0) return;
    try {
      const { highest } = await this.epochs(CONTROL);
      if (highest?.epoch === this.epoch) await this.storage.delete(joinPath(this.path, epochFileName(this.epoch)), CONTROL);
      this.epoch = 0;
      this.renewedAt = Number.NEGATIVE_INFINITY;
    } catch (err) {
      this.logger.warn({ lease: this.path, err: errorMessage(err) }, "could not release the lease; it will expire");
    }
  }

  private markLost(reason: string): void {
    if (this.lost) return;
    this.lost = new LeaseLostError(this.path, reason);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.logger.error({ lease: this.path, reason }, "target lease lost: stopping all writes");
    this.onLost(this.lost);
  }

  /** The lease directory exists; a lease file of the pre-epoch format there is honoured until it expires. */
  private async prepareDirectory(io: { signal?: AbortSignal; control?: boolean }): Promise<void> {
    const st = await this.storage.stat(this.path, io);
    if (st?.type === "file") {
      const now = await this.storageNow(io, parentOf(this.path)); // probe beside the old file
      if (now - st.mtime <= this.ttlMs) throw new LeaseHeldError(this.path, "a replicator of an earlier version", Date.now() + (this.ttlMs - (now - st.mtime)));
      await this.storage.delete(this.path, io);
    }
    await this.storage.mkdirs(this.path, io);
  }

  private async epochs(io: { signal?: AbortSignal; control?: boolean }): Promise<{ highest: { epoch: number; mtime: number } | null; temps: { name: string; mtime: number }[] }> {
    const entries = (await this.storage.list(this.path, io)) ?? [];
    let highest: { epoch: number; mtime: number } | null = null;
    const temps: { name: string; mtime: number }[] = [];
    for (const e of entries) {
      if (e.type !== "file") continue;
      const m = EPOCH_FILE.exec(e.name);
      if (m) {
        const epoch = Number(m[1]);
        if (highest === null || epoch > highest.epoch) highest = { epoch, mtime: e.mtime };
      } else if (isTempName(e.name)) {
        temps.push({ name: e.name, mtime: e.mtime });
      }
    }
    return { highest, temps };
  }

  /** Temporaries of renewals cut short by a crash (kill -9): removed once older than a ttl on the storage's clock. */
  private async removeStaleTemporaries(temps: { name: string; mtime: number }[], io: { signal?: AbortSignal; control?: boolean }): Promise<void> {
    if (temps.length === 0) return;
    const now = await this.storageNow(io);
    for (const t of temps) {
      if (now - t.mtime > this.ttlMs) await this.storage.delete(joinPath(this.path, t.name), io).catch(() => false);
    }
  }

  /** The storage's current time: the modification time it stamps on a probe file written now. */
  private async storageNow(io: { signal?: AbortSignal; control?: boolean }, dir = this.path): Promise<number> {
    const probe = tempPathFor(joinPath(dir, "clock-probe"));
    try {
      await this.storage.write(probe, Buffer.alloc(0), { ...io, overwrite: false });
      const st = await this.storage.stat(probe, io);
      if (st === null) throw new LeaseLostError(this.path, "the clock probe vanished");
      return st.mtime;
    } finally {
      await this.storage.delete(probe, CONTROL).catch(() => false);
    }
  }

  private content(): Buffer {
    const c: LeaseContent = { owner: this.owner, host: hostname(), pid: process.pid, epoch: this.epoch, acquiredAt: this.acquiredAt, ttlMs: this.ttlMs };
    return Buffer.from(JSON.stringify(c));
  }

  private async read(epoch: number): Promise<LeaseContent | null> {
    try {
      const parsed = JSON.parse((await readSmallFile(this.storage, joinPath(this.path, epochFileName(epoch)), 64 * 1024, CONTROL)).toString("utf8")) as Partial<LeaseContent>;
      return typeof parsed.owner === "string" ? (parsed as LeaseContent) : null;
    } catch {
      return null; // gone, being written, or not ours: the caller says "unknown"
    }
  }
}
