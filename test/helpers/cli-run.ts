// Runs the built CLI (test/global-setup.ts) as a child process to completion and
// returns what a user sees: exit code, stdout and stderr. The child is killed
// if it outlives the timeout (the test then fails on the timeout).

import { spawn } from "node:child_process";
import { inject } from "vitest";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], o: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [inject("cliBin"), ...args], {
    env: { ...process.env, CKPT_LOG_LEVEL: "", ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 25_000);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** stderr of a failed command: exactly one line, no stack trace. */
export function oneLineError(r: CliResult): string {
  const lines = r.stderr.trim().split("\n");
  if (lines.length !== 1 || /\n\s+at /.test(r.stderr)) throw new Error(`expected one line on stderr, got:\n${r.stderr}`);
  return lines[0] as string;
}
