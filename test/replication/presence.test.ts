// checkPresence(): whether the target holds every file a checkpoint needs with
// the right length, on a real local directory tree.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkPresence, describeProblem } from "../../src/replication/presence.js";
import { LocalStorage } from "../../src/storage/local.js";
import { recordingStorage } from "../helpers/replication.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "presence-"));
  await mkdir(join(dir, "shared"));
  await mkdir(join(dir, "chk-1", "is-a-dir"), { recursive: true });
  await writeFile(join(dir, "shared", "ok"), Buffer.alloc(100));
  await writeFile(join(dir, "shared", "short"), Buffer.alloc(40));
  await writeFile(join(dir, "chk-1", "longer"), Buffer.alloc(120));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("checkPresence", () => {
  it("reports nothing when every file is there with the needed length", async () => {
    const problems = await checkPresence(new LocalStorage("t"), [
      { path: `${dir}/shared/ok`, minLength: 100, exactLength: 100 },
      { path: `${dir}/chk-1/longer`, minLength: 80 },
    ]);
    expect(problems).toEqual([]);
  });

  it("reports missing, short, length-differs and not-a-file, sorted by path", async () => {
    const problems = await checkPresence(new LocalStorage("t"), [
      { path: `${dir}/shared/short`, minLength: 50 },
      { path: `${dir}/shared/gone`, minLength: 1 },
      { path: `${dir}/chk-1/longer`, minLength: 80, exactLength: 100 },
      { path: `${dir}/chk-1/is-a-dir`, minLength: 1 },
      { path: `${dir}/no-such-dir/f`, minLength: 7 },
    ]);
    expect(problems).toEqual([
      { path: `${dir}/chk-1/is-a-dir`, problem: "not-a-file", expected: 1, actual: null },
      { path: `${dir}/chk-1/longer`, problem: "length-differs", expected: 100, actual: 120 },
      { path: `${dir}/no-such-dir/f`, problem: "missing", expected: 7, actual: null },
      { path: `${dir}/shared/gone`, problem: "missing", expected: 1, actual: null },
      { path: `${dir}/shared/short`, problem: "short", expected: 50, actual: 40 },
    ]);
    expect(problems.map(describeProblem)).toEqual([
      `${dir}/chk-1/is-a-dir is not a file`,
      `${dir}/chk-1/longer has 120 bytes, the source has 100`,
      `${dir}/no-such-dir/f is missing`,
      `${dir}/shared/gone is missing`,
      `${dir}/shared/short has 40 bytes, the checkpoint needs 50`,
    ]);
  });

  it("lists each parent directory once, however many files it holds", async () => {
    const { storage, calls } = recordingStorage(new LocalStorage("t"));
    await checkPresence(storage, [
      { path: `${dir}/shared/ok`, minLength: 1 },
      { path: `${dir}/shared/short`, minLength: 1 },
      { path: `${dir}/shared/gone`, minLength: 1 },
      { path: `${dir}/chk-1/longer`, minLength: 1 },
    ]);
    expect(calls.get("list")).toBe(2);
    expect(calls.get("stat") ?? 0).toBe(0);
  });
});
