// Issue #9 §3: user mistakes end in one clear line and a documented exit code,
// never a stack trace; a sandbox with an unusable state directory fails (or,
// stuck in start-up, still obeys SIGTERM); a daemon whose start-up fails after
// taking the lease releases it.

import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { buildCheckpointMetadata, serializeMetadata } from "../../src/flink/index.js";
import { oneLineError, runCli } from "../helpers/cli-run.js";
import { startSandboxPair, TARGET_ROOT, type SandboxPair } from "../helpers/sandbox-pair.js";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ckpt-clean-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function metadataBytes(): Uint8Array {
  return serializeMetadata(
    buildCheckpointMetadata({
      version: 3,
      checkpointId: 12,
      operators: [
        {
          operatorId: "0123456789abcdef0123456789abcdef",
          parallelism: 1,
          subtasks: [{ index: 0, keyed: { kind: "keyGroups", keyGroups: { start: 0, count: 1 }, file: { absolute: "hdfs://ns1/flink/cp/job/chk-12/kg", size: 50 } } }],
        },
      ],
    }),
  );
}

describe("one-line errors, no stack traces (issue #9 §3)", () => {
  it("inspect of a missing _metadata exits 3 naming the path", async () => {
    const r = await runCli(["inspect", "/missing/_metadata"]);
    expect(r.code).toBe(3);
    expect(oneLineError(r)).toBe("ckpt-replicator: cannot read /missing/_metadata: no such file or directory");
  });

  it("inspect of a directory says to name the _metadata inside it", async () => {
    const r = await runCli(["inspect", work]);
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toBe(`ckpt-replicator: cannot read ${work}: is a directory; name the _metadata file inside it`);
  });

  it("rewrite-metadata into a missing directory exits 3 naming the directory", async () => {
    const input = join(work, "in_metadata");
    await writeFile(input, metadataBytes());
    const out = join(work, "no-such-dir", "_metadata");
    const r = await runCli(["rewrite-metadata", input, out, "--map", "hdfs://ns1/flink=hdfs://dr/flink"]);
    expect(r.code).toBe(3);
    expect(oneLineError(r)).toBe(`ckpt-replicator: cannot write ${out}: its directory ${join(work, "no-such-dir")} does not exist`);
  });

  it("CKPT_LOG_LEVEL=verbose exits 78 (EX_CONFIG) with the accepted values", async () => {
    for (const args of [["resync", "--config", join(work, "whatever.yaml")], ["sandbox", "--state-dir", join(work, "sbx-level")]]) {
      const r = await runCli(args, { env: { CKPT_LOG_LEVEL: "verbose" } });
      expect(r.code, args[0]).toBe(78);
      expect(oneLineError(r)).toBe(
        'ckpt-replicator: environment variable CKPT_LOG_LEVEL="verbose" is not valid: expected one of fatal, error, warn, info, debug, trace, silent',
      );
    }
  });

  it("a config error exits 78 naming file and key; a bare-number duration says it needs a unit", async () => {
    const file = join(work, "bare.yaml");
    await writeFile(
      file,
      'source: {namenodes: ["http://127.0.0.1:1"], uri: "hdfs://a"}\ntarget: {namenodes: ["http://127.0.0.1:2"], uri: "hdfs://b"}\npaths: [{source: /a, target: /b}]\nlease: {ttl: 0}\nscan: {interval: 60}\nmetrics: {listen: 9464}\n',
    );
    const r = await runCli(["resync", "--config", file]);
    expect(r.code).toBe(78);
    const line = oneLineError(r);
    expect(line).toContain(`invalid configuration ${file}: `);
    expect(line).toContain("scan.interval: 60 has no unit; write a duration with its unit, e.g. 60ms or 60s");
    expect(line).toContain("lease.ttl: 0 has no unit");
    expect(line).toContain('metrics.listen: 9464 is a bare port; write host:port as a string, e.g. "127.0.0.1:9464"');
  });
});

describe("sandbox with an unusable state directory", () => {
  it("fails at once with one line when the directory cannot be created", async () => {
    const file = join(work, "a-file");
    await writeFile(file, "");
    const started = Date.now();
    const r = await runCli(["sandbox", "--state-dir", join(file, "state")]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code).toBe(3);
    expect(oneLineError(r)).toBe(`ckpt-replicator: cannot write ${join(file, "state")}: the state directory ${join(file, "state")} is unusable (a parent is not a directory)`);
    // On a pseudo-filesystem, where a recursive mkdir used to spin forever.
    const proc = await runCli(["sandbox", "--state-dir", "/proc/ckpt-no-such-dir/state"], { timeoutMs: 10_000 });
    expect(proc.signal).toBeNull();
    expect(proc.code).not.toBe(0);
    expect(oneLineError(proc)).toMatch(/^ckpt-replicator: cannot write \/proc\/ckpt-no-such-dir.*: cannot create the state directory/);
  });

  it("obeys SIGTERM while its start-up is stuck (journal path is a FIFO nobody reads)", async () => {
    const state = join(work, "fifo-state");
    await mkdir(join(state, "hdfs1"), { recursive: true });
    execFileSync("mkfifo", [join(state, "hdfs1", "namespace.journal")]);
    const child = spawn(process.execPath, [inject("cliBin"), "sandbox", "--state-dir", state], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    try {
      // The data directory is created just before the journal is opened: start-up is then blocked on the FIFO.
      const deadline = Date.now() + 15_000;
      while (!existsSync(join(state, "hdfs1", "data"))) {
        if (Date.now() > deadline) throw new Error(`start-up never reached the journal: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(child.exitCode).toBeNull();
      const sent = Date.now();
      child.kill("SIGTERM");
      const result = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 8000))]);
      expect(result, `still running 8 s after SIGTERM; output: ${out}`).not.toBeNull();
      // Ended by SIGTERM itself (re-raised once its handler is gone: the stuck open() blocks a normal exit).
      expect(result!.signal).toBe("SIGTERM");
      expect(Date.now() - sent).toBeLessThan(8000);
      expect(out).toContain("sandbox start-up interrupted");
      expect(out).not.toMatch(/\n\s+at /);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});

describe("daemon start-up failing after the lease was taken", () => {
  let pair: SandboxPair;
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    pair = await startSandboxPair();
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => blocker.close(r));
    await pair.close();
  });

  it("a metrics port already in use: one line, exit 1, and the lease is released so the next start works", async () => {
    const file = join(pair.stateDir, "busy.yaml");
    await writeFile(file, pair.configText(`metrics: {listen: "127.0.0.1:${port}"}\nlease: {ttl: 30s}\n`));
    const r = await runCli(["run", "--config", file]);
    expect(r.code).toBe(1);
    expect(oneLineError(r)).toBe(
      `ckpt-replicator: metrics.listen 127.0.0.1:${port}: the address is already in use (another replicator or program listens there); choose another port or stop it`,
    );
    const leaseDir = (await pair.storage("hdfs2").list(`${TARGET_ROOT}/.ckpt-replicator/lease`)) ?? [];
    expect(leaseDir.filter((e) => e.name.startsWith("epoch-"))).toEqual([]); // released

    // With the lease left behind, this start would be refused for 30 s; released, it starts at once.
    const ok = join(pair.stateDir, "ok.yaml");
    await writeFile(ok, pair.configText(`metrics: {listen: "127.0.0.1:0"}\nlease: {ttl: 30s}\n`));
    const child = spawn(process.execPath, [inject("cliBin"), "run", "--config", ok], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const lease = pair.storage("hdfs2");
      const deadline = Date.now() + 15_000;
      const held = async () => ((await lease.list(`${TARGET_ROOT}/.ckpt-replicator/lease`)) ?? []).some((e) => e.name.startsWith("epoch-"));
      while (!(await held())) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the daemon did not take the lease: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
