// Where the benchmark's WebHDFS emulator runs: in a child process (the default
// for the compiled harness, so the replicator's CPU and RSS are its own) or in
// this process (when running from TypeScript sources, e.g. under vitest, where
// the compiled child entry does not exist).

import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startSandbox, type SandboxEndpoints } from "../sandbox/emulator/index.js";
import type { Logger } from "../util/log.js";
import type { EmulatorMessage, EmulatorReady } from "./emulator-process.js";
import { BenchmarkError } from "./errors.js";

export type EmulatorMode = "auto" | "child" | "in-process";

export interface EmulatorHost {
  mode: "child" | "in-process";
  endpoints: SandboxEndpoints;
  /** The child's CPU time so far (user + system), in ms; null in-process (its CPU is this process's). */
  cpuMs(): Promise<number | null>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;

/** The compiled child entry next to this module, or null when running from sources. */
export function childEntry(): string | null {
  const file = fileURLToPath(new URL("./emulator-process.js", import.meta.url));
  return import.meta.url.endsWith(".js") && existsSync(file) ? file : null;
}

export async function startEmulator(mode: EmulatorMode, stateDir: string, logger: Logger): Promise<EmulatorHost> {
  const entry = childEntry();
  if (mode === "child" && entry === null) {
    throw new BenchmarkError("harness", "start emulator", "a child-process emulator needs the compiled harness (npm run bench); this is running from sources");
  }
  if (mode === "in-process" || entry === null) {
    const sandbox = await startSandbox({ stateDir, logger: logger.child({ component: "sandbox" }) });
    return { mode: "in-process", endpoints: sandbox.endpoints, cpuMs: () => Promise.resolve(null), stop: () => sandbox.stop() };
  }
  return startChild(entry, stateDir);
}

async function startChild(entry: string, stateDir: string): Promise<EmulatorHost> {
  const child = fork(entry, [stateDir], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  const exited = once(child, "exit");
  try {
    const endpoints = await new Promise<SandboxEndpoints>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS);
      child.once("message", (m: EmulatorReady) => {
        clearTimeout(timer);
        resolve(m.endpoints);
      });
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${signal ?? `code ${code}`} before it was ready`));
      });
    });
    return { mode: "child", endpoints, cpuMs: () => childCpuMs(child), stop: () => stopChild(child, exited) };
  } catch (err) {
    await stopChild(child, exited);
    const detail = stderr.trim() === "" ? "" : ` (stderr: ${stderr.trim().split("\n").slice(-3).join(" | ")})`;
    throw new BenchmarkError("harness", "start emulator child process", `${err instanceof Error ? err.message : String(err)}${detail}`, { cause: err });
  }
}

/** Asks the child for its process.cpuUsage() over IPC (see emulator-process.ts). */
async function childCpuMs(child: ChildProcess): Promise<number> {
  const answer = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchmarkError("harness", "emulator CPU", "the emulator child did not answer within 5 s")), 5_000);
    const onMessage = (m: EmulatorMessage) => {
      if (!("cpuMs" in m)) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m.cpuMs);
    };
    child.on("message", onMessage);
  });
  child.send("cpu");
  return answer;
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
