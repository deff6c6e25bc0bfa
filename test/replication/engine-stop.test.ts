// What the engine's stop says it left behind, judged from the target's files (read with node:fs, not
// with the code under test): a publication whose _metadata temporary could not be removed is counted
// like a copy's; one removed on the stop's retry is not; copies still running at the deadline are said
// to be, within one deadline for the whole stop; and resync's last line says each of these.

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { Engine, STOP_CLEANUP_FLOOR_MS } from "../../src/replication/engine.js";
import { interrupted } from "../../src/cli/commands/resync.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { LocalStorage } from "../../src/storage/local.js";
import { StorageError, type IoOptions, type WriteOptions } from "../../src/storage/types.js";
import { captureLogger } from "../webhdfs/fake-server.js";

const TEMP = ".ckpt-tmp.";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engine-stop-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every hidden temporary under `root`, found with node:fs. */
async function temporariesOn(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.startsWith(".") && e.name.includes(TEMP)).map((e) => join(e.parentPath, e.name)).sort();
}

/** A target that refuses to rename a `_metadata` (or what `refuseRename` says) into place and, while `refuseDeletes`, to delete temporaries. */
class FaultyTarget extends LocalStorage {
  refuseDeletes = true;
  refuseRename = (dst: string): boolean => dst.endsWith("/_metadata");
  override async rename(src: string, dst: string, o: IoOptions & { overwrite?: boolean } = {}): Promise<void> {
    if (this.refuseRename(dst)) throw new StorageError({ reason: "denied", storage: this.name, operation: "rename", path: dst, message: `injected: rename to ${dst} refused` });
    return super.rename(src, dst, o);
  }
  override async delete(path: string, o: IoOptions & { recursive?: boolean } = {}): Promise<boolean> {
    if (this.refuseDeletes && path.includes(TEMP)) throw new StorageError({ reason: "denied", storage: this.name, operation: "delete", path, message: `injected: delete of ${path} refused` });
    return super.delete(path, o);
  }
}

/** A target whose data uploads never finish and ignore their abort (a wedged connection), until unwedged. */
class WedgedTarget extends LocalStorage {
  entered!: () => void;
  readonly wedged = new Promise<void>((r) => (this.entered = r));
  private unwedged!: () => void;
  private readonly released = new Promise<void>((r) => (this.unwedged = r));
  override async write(path: string, body: Readable | Uint8Array, o: IoOptions & WriteOptions = {}): Promise<void> {
    if (body instanceof Uint8Array) return super.write(path, body, o);
    this.entered();
    await this.released;
    body.destroy();
    throw new StorageError({ reason: "denied", storage: this.name, operation: "write", path, message: "injected: the wedged upload failed" });
  }
  unwedge(): void {
    this.unwedged();
  }
}

async function setup(target: LocalStorage, logger = captureLogger().logger, extra = "") {
  const source = new LocalStorage("local");
  const sim = new FlinkJobSimulator({ storage: source, fsUri: "file:", root: `${dir}/src`, intervalMs: 0, stateSizeBytes: 16 * 1024, retained: 1, seed: 3 });
  await sim.checkpointOnce();
  const config = await parseConfigText(`source: {}\ntarget: {}\npaths: [{source: "file://${dir}/src", target: "file://${dir}/dr"}]\nmetrics: false\n${extra}`, "t.yaml", {});
  return new Engine({ config, source, target, logger, useLease: false });
}

describe("engine stop: what it says it left behind", () => {
  it("counts a _metadata temporary a failed publication could not remove, and says whose it was", async () => {
    const target = new FaultyTarget("dr");
    const { logger, lines } = captureLogger();
    const engine = await setup(target, logger);
    await engine.cycle({ wait: true });
    const left = await temporariesOn(`${dir}/dr`);
    expect(left.filter((p) => p.includes(`/._metadata${TEMP}`))).toHaveLength(1); // the publication's, still there

    const outcome = await engine.stop();
    expect(outcome.drained).toBe(true);
    expect(outcome.temporariesLeft.sort()).toEqual(await temporariesOn(`${dir}/dr`));
    expect(outcome.temporariesLeft.length + outcome.temporariesLeftUnlisted).toBe(left.length);
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.path).includes(`._metadata${TEMP}`));
    expect(warn).toMatchObject({ level: 40, checkpoint: "chk-1" });
    expect(typeof warn?.job === "string" && warn.job.length > 0).toBe(true);
    // The daemon's stop reports through this line only (its exit is not an error): it must carry the count.
    const summary = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).startsWith("temporaries of aborted writes could not be removed"));
    expect(summary).toMatchObject({ level: 40, count: left.length });

    const line = interrupted(new AbortController().signal, "", [], 0, outcome).message;
    expect(line).toContain(`${left.length} temporar${left.length === 1 ? "y" : "ies"} could not be removed`);
    expect(line).not.toContain("their temporaries removed");
  });

  it("removes them on the stop's retry once the target lets it, and then says nothing is left", async () => {
    const target = new FaultyTarget("dr");
    const engine = await setup(target);
    await engine.cycle({ wait: true });
    expect((await temporariesOn(`${dir}/dr`)).length).toBeGreaterThan(0);
    target.refuseDeletes = false;
    const outcome = await engine.stop();
    expect(outcome).toEqual({ drained: true, temporariesLeft: [], temporariesLeftUnlisted: 0 });
    expect(await temporariesOn(`${dir}/dr`)).toEqual([]);
    expect(interrupted(new AbortController().signal, "", [], 0, outcome).message).toContain("their temporaries removed");
  });

  it("says copies were still running at the deadline, within one deadline for the whole stop", async () => {
    const target = new WedgedTarget("dr");
    const engine = await setup(target);
    const cycle = engine.cycle({ wait: true }).catch(() => undefined);
    await target.wedged;
    const deadlineMs = 300;
    const t0 = Date.now();
    const outcome = await engine.stop(deadlineMs);
    const took = Date.now() - t0;
    expect(outcome.drained).toBe(false);
    expect(took).toBeGreaterThanOrEqual(deadlineMs - 20);
    expect(took).toBeLessThan(deadlineMs + 2 * STOP_CLEANUP_FLOOR_MS + 1000);
    const line = interrupted(new AbortController().signal, "", [], 1, outcome).message;
    expect(line).toContain("some copies were still running at the stop's deadline and may have left theirs");
    expect(line).not.toContain("their temporaries removed");
    target.unwedge();
    await cycle;
  });

  it("a record write's temporary left behind is reaped once stale, and the record written again", async () => {
    const target = new FaultyTarget("dr");
    target.refuseRename = (dst) => dst.includes("/.ckpt-replicator/records/");
    const engine = await setup(target, undefined, "reap: {tempGrace: 1s}\n");
    await engine.cycle({ wait: true });
    const recordTemps = async () => (await temporariesOn(`${dir}/dr`)).filter((p) => p.includes("/.ckpt-replicator/records/"));
    expect(await recordTemps()).toHaveLength(1);
    target.refuseDeletes = false;
    target.refuseRename = () => false;
    await new Promise((r) => setTimeout(r, 1100));
    await engine.cycle({ wait: true });
    expect(await recordTemps()).toEqual([]);
    const records = await readdir(join(dir, "dr/.ckpt-replicator/records"), { recursive: true });
    expect(records.some((n) => String(n).endsWith("chk-1.json"))).toBe(true);
    await engine.stop();
  });
});
