// Child-process entry of the benchmark emulator (node emulator-process.js
// <state-dir>): runs the sandbox in its own process, so its CPU and memory are
// not the replicator's, sends the endpoints to the parent over IPC once
// listening, answers "cpu" with its CPU time so far, and stops on SIGTERM or
// when the parent goes away.

import { Writable } from "node:stream";
import { runSandboxCommand } from "../sandbox/foreground.js";
import type { SandboxEndpoints } from "../sandbox/emulator/index.js";

/** The first message the child sends its parent. */
export interface EmulatorReady {
  endpoints: SandboxEndpoints;
}

/** What the child sends: ready once, then its CPU time (user + system, ms) for every "cpu" asked. */
export type EmulatorMessage = EmulatorReady | { cpuMs: number };

const stateDir = process.argv[2];
if (stateDir === undefined || process.send === undefined) {
  process.stderr.write("usage: node emulator-process.js <state-dir> (started by the benchmark harness with an IPC channel)\n");
  process.exit(2);
}
const controller = new AbortController();
const stop = () => controller.abort();
process.once("SIGTERM", stop);
process.once("disconnect", stop);
process.on("message", (m) => {
  if (m !== "cpu") return;
  const u = process.cpuUsage();
  process.send?.({ cpuMs: (u.user + u.system) / 1000 } satisfies EmulatorMessage);
});
const quiet = new Writable({ write: (_chunk, _enc, cb) => cb() });
await runSandboxCommand(
  { stateDir },
  { signal: controller.signal, stdout: quiet, onReady: (endpoints) => process.send?.({ endpoints } satisfies EmulatorReady) },
);
process.disconnect?.();
