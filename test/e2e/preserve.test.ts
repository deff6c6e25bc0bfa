// Issue #9 §4: copy.preserve (distcp -p): copied files get the source file's
// permission and replication factor when asked, and the target's defaults
// otherwise.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../src/storage/types.js";
import { WebHdfsClient } from "../../src/webhdfs/index.js";
import { runCli } from "../helpers/cli-run.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let pair: SandboxPair;
const JOB = "5e".repeat(16);

/** Flink's writes, with replication 2 and permission 664 on every state file (not on _metadata). */
function flinkWithAttributes(inner: Storage): Storage {
  return new Proxy(inner, {
    get(t, prop, receiver) {
      if (prop === "write")
        return (p: string, body: unknown, o: object = {}) =>
          t.write(p, body as Uint8Array, p.endsWith("/_metadata") ? o : { ...o, permission: "664", replication: 2 });
      const v = Reflect.get(t, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

beforeAll(async () => {
  pair = await startSandboxPair();
  await pair.simulator({ seed: 6, jobId: JOB, storage: flinkWithAttributes(pair.storage("hdfs1")) }).run({ count: 1 });
});
afterAll(async () => {
  await pair?.close();
});

describe("copy.preserve", () => {
  it("keeps permission and replication of the source files when configured, target defaults otherwise", async () => {
    const target = new WebHdfsClient({ name: "hdfs2", namenodes: pair.sandbox.endpoints.clusters.hdfs2!.namenodes, user: "replicator" });
    try {
      const attrs = async (root: string) => {
        const shared = (await target.listStatus(`${root}/${JOB}/shared`)).filter((s) => !s.pathSuffix.startsWith("."));
        expect(shared.length).toBeGreaterThan(0);
        return new Set(shared.map((s) => `${s.permission}/${s.replication}`));
      };
      const plain = join(pair.stateDir, "plain.yaml");
      await writeFile(plain, pair.configText());
      expect((await runCli(["resync", "--config", plain])).code).toBe(0);
      expect(await attrs(TARGET_ROOT)).toEqual(new Set(["644/3"]));

      const kept = join(pair.stateDir, "kept.yaml");
      await writeFile(kept, pair.configText("copy: {preserve: {permission: true, replication: true}}\npaths: [{source: /flink/checkpoints, target: /dr/kept}]\n"));
      const r = await runCli(["resync", "--config", kept]);
      expect(r.code, r.stderr).toBe(0);
      expect(await attrs("/dr/kept")).toEqual(new Set(["664/2"]));
    } finally {
      target.close();
    }
  });
});
