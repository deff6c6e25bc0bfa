// The daemon (`run`, the real CLI against the sandbox) stopped by SIGTERM in the middle of a copy: exit 0
// (stopping is its normal end), no error logged, nothing unrestorable published, nothing half-written at
// a final name, the lease released, and no hidden temporary left. When the target refuses to delete the
// temporaries, the stop's warning gives the count that the target really holds (promise 5 through the
// daemon process, not only at the engine: test/replication/engine-stop.test.ts).

import { afterEach, beforeEach, expect, it } from "vitest";
import { createStorage } from "../../src/storage/factory.js";
import { jobIdForSeed } from "../../src/sandbox/simulator/index.js";
import { silentLogger } from "../../src/util/log.js";
import { spawnCli } from "../helpers/child.js";
import { logRecords } from "../helpers/log-lines.js";
import { assertNoHalfWrittenFiles, isCopyTemp, refuseTargetDeletes, targetVerdicts, waitForUploadInProgress, walk } from "../helpers/replication.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

const SEED = 43;
const LEFT_WARNING = "temporaries of aborted writes could not be removed; a later run removes them once stale";

/** Starts the daemon slowed down, SIGTERMs it while an upload is in progress; returns its log lines and the temporaries on the target. */
async function stopDaemonMidCopy(): Promise<{ lines: Record<string, unknown>[]; temps: string[]; output: string }> {
  const sim = pair.simulator({ seed: SEED, stateSizeBytes: 2 * 1024 * 1024, retained: 2, operators: 1, parallelism: 2 });
  await sim.run({ count: 1 });
  const configFile = await pair.configFile("daemon-stop", undefined, "copy: {concurrency: 2}\nlease: {ttl: 10s}\nscan: {interval: 200ms}\nlog: {level: info}\n");
  const config = await pair.config();
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  try {
    const run = spawnCli(["run", "--config", configFile, "--bwlimit", "256K"]);
    await waitForUploadInProgress(target, TARGET_ROOT, 30_000);
    run.child.kill("SIGTERM");
    const exit = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    if (exit === null) run.child.kill("SIGKILL");
    expect(exit?.code, run.output()).toBe(0);
    const lines = logRecords(run.output());
    expect(lines.filter((l) => Number(l.level) >= 50), run.output()).toEqual([]);
    expect(lines.some((l) => l.msg === "replicator stopped"), run.output()).toBe(true);
    const files = await walk(target, TARGET_ROOT);
    await assertNoHalfWrittenFiles(source, target, files);
    for (const v of await targetVerdicts(config, target)) expect(`${v.unit}: ${v.state}`).toBe(`${v.unit}: restorable`);
    const lease = (await target.list(`${TARGET_ROOT}/.ckpt-replicator/lease`)) ?? [];
    expect(lease.map((e) => e.name).filter((n) => n.startsWith("epoch-"))).toEqual([]);
    return { lines, temps: [...files.keys()].filter(isCopyTemp), output: run.output() };
  } finally {
    source.close();
    target.close();
  }
}

it("SIGTERM mid-copy: exit 0, no temporary left, no warning that one was", async () => {
  const { lines, temps, output } = await stopDaemonMidCopy();
  expect(lines.some((l) => l.msg === "job sync interrupted by the stop"), output).toBe(true); // it was mid-copy
  expect(temps, output).toEqual([]);
  expect(lines.filter((l) => l.msg === LEFT_WARNING), output).toEqual([]);
}, 60_000);

it("SIGTERM mid-copy while the target refuses to delete the temporaries: the stop's warning counts exactly those left", async () => {
  pair.sandbox.faults.add(refuseTargetDeletes(`${TARGET_ROOT}/${jobIdForSeed(SEED)}/`));
  const { lines, temps, output } = await stopDaemonMidCopy();
  pair.sandbox.faults.clear();
  expect(temps.length, output).toBeGreaterThan(0);
  const warnings = lines.filter((l) => l.msg === LEFT_WARNING);
  expect(warnings.length, output).toBe(1);
  expect(warnings[0]).toMatchObject({ level: 40, count: temps.length });
  expect([...(warnings[0]!.paths as string[])].sort()).toEqual([...temps].sort());
}, 60_000);
