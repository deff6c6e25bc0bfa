// The harness's child processes: stop() returns once the child itself has exited (its graceful
// shutdown included), and a child that ignores SIGTERM is killed after the grace period.

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Proc } from "./procs.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ckpt-procs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** True while the process runs (a zombie waiting for a reaper has finished). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

function child(onTerm: string): Proc {
  // The handler is in place before the pid line tells the test to stop it.
  const script = `process.on("SIGTERM", () => { ${onTerm} }); console.log("pid " + process.pid); setInterval(() => {}, 1000);`;
  return new Proc("child", process.execPath, ["-e", script], { logFile: join(dir, "child.log") });
}

describe("interop Proc", () => {
  it("stop() waits for the child's own graceful exit, not only its wrapper's", async () => {
    const p = child(`setTimeout(() => { console.log("released"); process.exit(0); }, 1500);`);
    const pid = Number((await p.waitLine((l) => l.startsWith("pid "), 10_000, "pid")).slice(4));
    const t0 = Date.now();
    await p.stop(10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(p.lines).toContain("released");
    expect(alive(pid)).toBe(false);
  });

  it("stop() kills a child that ignores SIGTERM once the grace period is over", async () => {
    const p = child(`/* ignored */`);
    const pid = Number((await p.waitLine((l) => l.startsWith("pid "), 10_000, "pid")).slice(4));
    await p.stop(1000);
    expect(p.running).toBe(false);
    expect(alive(pid)).toBe(false);
  });
});
