// The benchmark's emulator in its own process, as `npm run bench` runs it (the compiled harness from
// the tests' shared build): it serves WebHDFS, its CPU time comes back over IPC and grows with the work
// it serves (the figure the small-files budget is computed from), and stop() ends the child.

import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { silentLogger } from "../../src/util/log.js";

type HostModule = typeof import("../../src/bench/emulator-host.js");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-host-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    })
      .on("error", reject)
      .end();
  });
}

describe("bench emulator host (child process)", () => {
  it("serves WebHDFS, reports its own CPU over IPC, growing with the requests it served, and stops", async () => {
    const compiled = join(dirname(inject("cliBin")), "..", "bench", "emulator-host.js");
    const { startEmulator } = (await import(pathToFileURL(compiled).href)) as HostModule;
    const host = await startEmulator("child", join(dir, "state"), silentLogger);
    try {
      expect(host.mode).toBe("child");
      const status = (nn: string) => get(`${nn}/webhdfs/v1/?op=GETFILESTATUS&user.name=bench`);
      // The active NameNode of the first cluster (the other answers as a standby).
      let active: string | undefined;
      for (const nn of Object.values(host.endpoints.clusters)[0]?.namenodes ?? []) if ((await status(nn)) === 200) active ??= nn;
      expect(active).toBeDefined();
      const before = await host.cpuMs();
      expect(typeof before).toBe("number");
      for (let i = 0; i < 300; i++) expect(await status(active as string)).toBe(200);
      const after = await host.cpuMs();
      expect(after as number).toBeGreaterThan(before as number);
    } finally {
      await host.stop();
    }
    await expect(host.cpuMs()).rejects.toThrow();
  });
});
