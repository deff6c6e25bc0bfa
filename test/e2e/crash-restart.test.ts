// Promise 3: kill -9 the daemon in the middle of copying, restart it: it
// converges, and nothing half-written is ever visible under a final name.
// Also: SIGTERM stops it cleanly (exit 0, no temporaries left), and invalid
// configurations are refused with a message naming the key.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";
import { assertNoHalfWrittenFiles, isCopyTemp, isTemp, targetVerdicts, walk } from "../helpers/replication.js";
import { spawnCli, waitFor } from "../helpers/child.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

describe("daemon process", () => {
  it("after kill -9 mid-copy, a restart converges and nothing half-written is visible", async () => {
    const sim = pair.simulator({ seed: 31, jobId: "9".repeat(32), stateSizeBytes: 6 * 1024 * 1024, newSharedFilesPerSubtask: 3 });
    await sim.run({ count: 3 });
    const configFile = join(pair.stateDir, "crash.yaml");
    // Slow copies so the kill lands mid-transfer; short lease and temp grace so the restart proceeds soon.
    await writeFile(configFile, pair.configText("copy: {bandwidth: 4MiB, concurrency: 2}\nlease: {ttl: 10s}\nreap: {tempGrace: 1s}\n"));
    const config = await pair.config("lease: {ttl: 10s}\n");
    const source = createStorage(config.source, silentLogger);
    const target = createStorage(config.target, silentLogger);
    try {
      const first = spawnCli(["run", "--config", configFile], { CKPT_LOG_LEVEL: "info" });
      // Wait until a temporary file exists: a copy is in flight.
      await waitFor(async () => [...(await walk(target, TARGET_ROOT)).keys()].some(isCopyTemp), 20_000, "a copy in flight");
      first.child.kill("SIGKILL");
      expect((await first.exited).signal).toBe("SIGKILL");

      const afterKill = await walk(target, TARGET_ROOT);
      await assertNoHalfWrittenFiles(source, target, afterKill); // partial data only under temporary names
      // Whatever copy was cut off left its temporary (unless it finished in the last instant); leave one for
      // certain, as a crash mid-upload does, to check that the restarted daemon cleans it up.
      const leftover = `${TARGET_ROOT}/${"9".repeat(32)}/shared/.0000-crash-leftover.ckpt-tmp.deadbeef0000`;
      await target.write(leftover, Buffer.alloc(1000, 1), { overwrite: true });
      for (const v of await targetVerdicts(config, target)) expect(v.state).toBe("restorable");

      // A restart right away is refused while the dead daemon's lease has not expired.
      const early = spawnCli(["run", "--config", configFile]);
      const refused = await Promise.race([early.exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
      if (refused === null) early.child.kill("SIGKILL");
      expect(refused?.code, "a second daemon must refuse while the lease is held").toBe(1);
      expect(early.output()).toMatch(/another replicator holds the target lease/);

      await new Promise((r) => setTimeout(r, 10_200));
      const second = spawnCli(["run", "--config", configFile], { CKPT_LOG_LEVEL: "info" });
      const newest = Math.max(...sim.retained().map((c) => c.id));
      await waitFor(async () => {
        const verdicts = await targetVerdicts(config, target);
        expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
        return verdicts.some((v) => v.checkpointId === newest);
      }, 40_000, `checkpoint ${newest} published after the restart`);
      // Crash leftovers are reaped once older than reap.tempGrace.
      await waitFor(async () => ![...(await walk(target, TARGET_ROOT)).keys()].some(isTemp), 10_000, "stale temporaries removed");
      second.child.kill("SIGTERM");
      const exit = await second.exited;
      expect(exit.code, second.output().slice(-2000)).toBe(0);
      const final = await walk(target, TARGET_ROOT);
      expect([...final.keys()].filter(isTemp)).toEqual([]);
      expect([...final.keys()].some((p) => /\/\.ckpt-replicator\/lease\/epoch-/.test(p))).toBe(false); // released
      await assertNoHalfWrittenFiles(source, target, final);
    } finally {
      source.close();
      target.close();
    }
  }, 90_000);

  it("refuses an invalid configuration with a one-line error naming the key, exit 78 (EX_CONFIG, so systemd does not restart it)", async () => {
    const configFile = join(pair.stateDir, "bad.yaml");
    await writeFile(configFile, pair.configText("copy: {concurrency: -2}\n"));
    const run = spawnCli(["run", "--config", configFile]);
    const exit = await run.exited;
    expect(exit.code).toBe(78);
    expect(run.output()).toMatch(/invalid configuration .*bad\.yaml: copy\.concurrency: /);
    expect(run.output()).not.toMatch(/\n\s+at /); // no stack trace
  });
});
