// Measuring helpers shared by the benchmarks: wall time of an async step, the
// process's peak RSS sampled while a step runs, driving the engine until a job
// has published a given checkpoint, where a publication's time goes, and
// counting storage requests, and the host CPU stolen by the hypervisor meanwhile.

import { readFileSync } from "node:fs";
import type { Engine, EngineHooks } from "../replication/index.js";
import type { ReadOnlyStorage } from "../storage/types.js";
import { BenchmarkError } from "./errors.js";

export const MiB = 1024 * 1024;

export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const t0 = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - t0 };
}

/** Runs `fn` while sampling process RSS every `everyMs`; returns the peak seen (bytes). */
export async function peakRssDuring<T>(fn: () => Promise<T>, everyMs = 10): Promise<{ result: T; peakRss: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
}

/** The host's steal time so far (Linux /proc/stat), to report how much CPU the hypervisor took meanwhile. */
export function stealTicks(): { sincePct(): number } | null {
  const read = (): { steal: number; total: number } | null => {
    try {
      const cpu = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
      if (cpu.length < 8 || cpu.some((n) => !Number.isFinite(n))) return null;
      return { steal: cpu[7] as number, total: cpu.slice(0, 8).reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const before = read();
  if (before === null) return null;
  return {
    sincePct() {
      const after = read();
      if (after === null || after.total === before.total) return 0;
      return (100 * (after.steal - before.steal)) / (after.total - before.total);
    },
  };
}

/**
 * Runs `fn` and returns the CPU time (user + system, ms) this process spent meanwhile, and with `emulator`
 * the emulator child's (null when the emulator runs in this process).
 */
export async function cpuDuring<T>(
  fn: () => Promise<T>,
  emulator?: { emulatorCpuMs(): Promise<number | null> },
): Promise<{ result: T; cpuMs: number; emulatorCpuMs: number | null }> {
  const emulatorBefore = (await emulator?.emulatorCpuMs()) ?? null;
  const before = process.cpuUsage();
  const result = await fn();
  const d = process.cpuUsage(before);
  const emulatorAfter = emulatorBefore === null ? null : await emulator?.emulatorCpuMs();
  const emulatorCpuMs = emulatorBefore === null || emulatorAfter == null ? null : emulatorAfter - emulatorBefore;
  return { result, cpuMs: (d.user + d.system) / 1000, emulatorCpuMs };
}

/**
 * Cycles the engine (waiting for each cycle's copies) until `job` has published checkpoint
 * `checkpointId` or newer; returns the number of cycles. Throws BenchmarkError after timeoutMs.
 */
export async function publishUntil(benchmark: string, engine: Engine, job: string, checkpointId: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let cycles = 1; ; cycles++) {
    await engine.cycle({ wait: true });
    const status = engine.status().jobs.find((j) => j.job === job);
    if ((status?.newestPublishedCheckpoint ?? -1) >= checkpointId) return cycles;
    if (Date.now() > deadline) {
      throw new BenchmarkError(
        benchmark,
        `publish chk-${checkpointId}`,
        `not published after ${cycles} cycles (newest published: ${status?.newestPublishedCheckpoint ?? "none"}, last error: ${status?.lastError ?? "none"})`,
      );
    }
  }
}

/**
 * Splits an engine publication into the time before its first copied byte (scans, metadata, planning),
 * the transfer, and the time after its last byte (verification, _metadata publish, records).
 */
export class TransferClock {
  private started = 0;
  private firstByte: number | null = null;
  private lastByte: number | null = null;
  readonly hooks: EngineHooks = {
    onBytes: () => {
      const now = performance.now();
      this.firstByte ??= now;
      this.lastByte = now;
    },
  };

  start(): void {
    this.started = performance.now();
    this.firstByte = this.lastByte = null;
  }

  /** Phase lengths in ms up to now (null phases when no byte was copied). */
  phases(): { beforeFirstByteMs: number | null; transferMs: number | null; afterLastByteMs: number | null } {
    const now = performance.now();
    if (this.firstByte === null || this.lastByte === null) return { beforeFirstByteMs: null, transferMs: null, afterLastByteMs: null };
    return { beforeFirstByteMs: this.firstByte - this.started, transferMs: this.lastByte - this.firstByte, afterLastByteMs: now - this.lastByte };
  }
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The storage reads are counted by method (used to count the scanner's `list` calls). */
export function countingStorage(inner: ReadOnlyStorage): { storage: ReadOnlyStorage; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const count = (method: string) => calls.set(method, (calls.get(method) ?? 0) + 1);
  const storage: ReadOnlyStorage = {
    name: inner.name,
    kind: inner.kind,
    capabilities: inner.capabilities,
    stat: (path, o) => (count("stat"), inner.stat(path, o)),
    list: (path, o) => (count("list"), inner.list(path, o)),
    read: (path, o) => (count("read"), inner.read(path, o)),
    checksum: (path, o) => (count("checksum"), inner.checksum(path, o)),
    close: () => inner.close(),
  };
  return { storage, calls };
}
