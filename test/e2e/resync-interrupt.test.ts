// Issue #9: `resync` stopped by SIGTERM in the middle of a copy (the real CLI,
// against the sandbox, with a low --bwlimit) stops starting copies, aborts those
// in flight, removes their temporaries, publishes nothing partial, releases the
// lease, says so in one line and exits 143. (SIGINT takes the same path and exits
// 130: test/cli/exit-codes.test.ts.)

import { afterEach, beforeEach, expect, it } from "vitest";
import { createStorage } from "../../src/storage/factory.js";
import { silentLogger } from "../../src/util/log.js";
import { spawnCli, waitFor } from "../helpers/child.js";
import { assertNoHalfWrittenFiles, isCopyTemp, targetVerdicts, walk } from "../helpers/replication.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
beforeEach(async () => {
  pair = await startSandboxPair();
});
afterEach(async () => {
  await pair.close();
});

it("SIGTERM mid-copy: temporaries removed, nothing unrestorable published, lease released, exit 143", async () => {
  const sim = pair.simulator({ seed: 41, stateSizeBytes: 2 * 1024 * 1024, retained: 2 });
  await sim.run({ count: 2 });
  const configFile = await pair.configFile("interrupt", undefined, "copy: {concurrency: 2}\nlease: {ttl: 10s}\n");
  const config = await pair.config();
  const source = createStorage(config.source, silentLogger);
  const target = createStorage(config.target, silentLogger);
  try {
    {
      const [signal, code] = ["SIGTERM", 143] as const;
      const run = spawnCli(["resync", "--config", configFile, "--bwlimit", "256K"], { CKPT_LOG_LEVEL: "info" });
      await waitFor(async () => [...(await walk(target, TARGET_ROOT)).keys()].some(isCopyTemp), 20_000, "a copy in flight");
      run.child.kill(signal);
      const exit = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      if (exit === null) run.child.kill("SIGKILL");
      expect(exit?.code, run.output()).toBe(code);
      const last = run.output().trim().split("\n").pop() ?? "";
      expect(last).toMatch(
        new RegExp(
          `^ckpt-replicator: resync interrupted by ${signal}; no new copy started, \\d+ file cop(y|ies) in flight aborted and their temporaries removed, nothing partial published, the lease released; (nothing was published|published before the stop: .+); run it again to finish$`,
        ),
      );
      expect(run.output()).not.toMatch(/"level":50/); // a requested stop is not an error
      const files = await walk(target, TARGET_ROOT);
      expect([...files.keys()].filter(isCopyTemp), `${signal}: temporaries left`).toEqual([]);
      await assertNoHalfWrittenFiles(source, target, files);
      for (const v of await targetVerdicts(config, target)) expect(`${v.unit}: ${v.state}`).toBe(`${v.unit}: restorable`);
    }
    // The lease was released: its directory holds no epoch file (a next run takes epoch 1 at once).
    const lease = (await target.list(`${TARGET_ROOT}/.ckpt-replicator/lease`)) ?? [];
    expect(lease.map((e) => e.name).filter((n) => n.startsWith("epoch-"))).toEqual([]);
  } finally {
    source.close();
    target.close();
  }
}, 60_000);
