// Child processes of the interop run (JVMs, the daemon). Every child is spawned detached, in its own
// process group, and registered, so that killAll() (called in `finally` and on exit) ends the whole
// group even when a JVM forked helpers. Only processes started here are ever signalled.

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";

const live = new Set<Proc>();

export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private readonly waiters: Array<{ pred: (l: string) => boolean; resolve: (l: string) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly log: WriteStream;

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; stdin?: boolean },
  ) {
    this.log = createWriteStream(opts.logFile, { flags: "a" });
    // Wrapped in bash with a watchdog: if this Node process dies without cleaning up (even SIGKILL
    // or out of memory), the watchdog kills the child's whole process group within 2 s. The wrapper
    // outlives a SIGTERM to the group until the child itself has exited, so `exited` (and stop())
    // mean the child is gone, not just its wrapper, and stop()'s SIGKILL after the grace still lands.
    const watchdog = `"$@" <&0 & c=$!; (while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; kill -9 -- -$$) & w=$!; ` +
      `trap : TERM INT; while :; do wait $c; r=$?; kill -0 $c 2>/dev/null || break; done; kill $w 2>/dev/null; exit $r`;
    this.child = spawn("bash", ["-c", watchdog, name, cmd, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      detached: true,
    });
    live.add(this);
    let buf = "";
    this.child.stdout?.on("data", (c: Buffer) => {
      this.log.write(c);
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        for (let w = this.waiters.length - 1; w >= 0; w--) {
          const waiter = this.waiters[w];
          if (waiter && waiter.pred(line)) {
            this.waiters.splice(w, 1);
            waiter.resolve(line);
          }
        }
      }
    });
    this.child.stderr?.on("data", (c: Buffer) => this.log.write(c));
    this.child.stdin?.on("error", () => undefined);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        live.delete(this);
        this.exitInfo = { code, signal };
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  /** Resolves with the first stdout line (already seen or future) matching pred. */
  waitLine(pred: (l: string) => boolean, timeoutMs: number, what: string, from = 0): Promise<string> {
    const seen = this.lines.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const onExit = () => reject(new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) while waiting for ${what}`));
      void this.exited.then(() => setTimeout(onExit, 200));
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Sends a control command and waits for its JSON answer ({"cmd": line, ...}). */
  async command(line: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const from = this.lines.length;
    this.send(line);
    const answer = await this.waitLine((l) => l.startsWith(`{"cmd":${JSON.stringify(line)}`), timeoutMs, `answer to ${line}`, from);
    // A Java exception message may carry raw control characters (a multi-line message): never let one break the run.
    return JSON.parse(answer.replace(/[\u0000-\u001f]+/g, " ")) as Record<string, unknown>;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  async stop(graceMs = 10_000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.running) return;
    this.kill(signal);
    const t = new Promise((r) => setTimeout(r, graceMs));
    await Promise.race([this.exited, t]);
    const pgid = this.child.pid;
    this.kill("SIGKILL");
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    // The SIGKILL reaches the wrapper and the child together, and the wrapper can be reaped (the
    // exit event) while the child is still tearing down its threads: wait until no member of the
    // group is left running, so that "stopped" means the child too.
    if (pgid === undefined) return;
    for (const deadline = Date.now() + 5000; groupRunning(pgid) && Date.now() < deadline; ) await sleep(20);
  }
}

/** True while some process of the group is running (a zombie, waiting to be reaped, has finished). Linux /proc. */
export function groupRunning(pgid: number): boolean {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after its last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

export function killAll(): void {
  for (const p of live) p.kill("SIGKILL");
}

process.on("exit", killAll);

/** Runs a command to completion (bounded by timeoutMs), capturing output. */
export function runToEnd(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile: string; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; ms: number }> {
  const t0 = Date.now();
  const p = new Proc(name, cmd, args, { ...opts });
  const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs);
  return p.exited.then(({ code }) => {
    clearTimeout(timer);
    return { code, stdout: p.lines.join("\n"), ms: Date.now() - t0 };
  });
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import("node:net").Server>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === "object" && a !== null ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
