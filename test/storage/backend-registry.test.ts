// The backend port's promise to a newcomer: a backend is one definition plus
// its line in the registry. Here a backend the product does not have ("vol":
// roots vol://<volume>/<path>, files kept under a local directory named by its
// own `vol: {dir}` setting) is defined in this file alone and listed beside the
// product's backends. The configuration validates its settings by key, refuses
// other backends' settings on its side, derives the rewrite to its scheme, and
// the engine replicates a simulated Flink job into it with every published
// _metadata restorable; without the line, its roots are refused by name.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, parseConfigText } from "../../src/config/load.js";
import { Engine } from "../../src/replication/index.js";
import { FlinkJobSimulator } from "../../src/sandbox/simulator/index.js";
import { defineBackend, settingsOf } from "../../src/storage/backend.js";
import { BACKENDS, createStorage } from "../../src/storage/factory.js";
import { LOCAL_CAPABILITIES, LocalStorage } from "../../src/storage/local.js";
import type { Entry, IoOptions, Storage, WriteOptions } from "../../src/storage/types.js";
import { silentLogger } from "../../src/util/log.js";
import { cycleUntil, targetVerdicts } from "../helpers/replication.js";

/** A Storage keeping `/p` at `<dir>/p` on the local filesystem. */
class VolumeStorage implements Storage {
  readonly kind = "vol";
  readonly capabilities = LOCAL_CAPABILITIES;
  private readonly local: LocalStorage;
  constructor(readonly name: string, private readonly dir: string) {
    this.local = new LocalStorage(name);
  }
  private at(path: string): string {
    return path === "/" ? this.dir : `${this.dir}${path}`;
  }
  stat(path: string): Promise<Entry | null> {
    return this.local.stat(this.at(path));
  }
  list(path: string): Promise<Entry[] | null> {
    return this.local.list(this.at(path));
  }
  read(path: string, o?: IoOptions & { length?: number }): Promise<Readable> {
    return this.local.read(this.at(path), o);
  }
  write(path: string, body: Readable | Uint8Array, o?: IoOptions & WriteOptions): Promise<void> {
    return this.local.write(this.at(path), body, o);
  }
  mkdirs(path: string, o?: IoOptions): Promise<void> {
    return this.local.mkdirs(this.at(path), o);
  }
  rename(src: string, dst: string, o?: IoOptions & { overwrite?: boolean }): Promise<void> {
    return this.local.rename(this.at(src), this.at(dst), o);
  }
  delete(path: string, o?: IoOptions & { recursive?: boolean }): Promise<boolean> {
    return this.local.delete(this.at(path), o);
  }
  checksum(): Promise<string | null> {
    return this.local.checksum();
  }
  close(): void {}
}

const VOL_ROOT = /^vol:\/\/([a-z]+)(\/.*)$/;

/** The whole backend: its settings, which roots it serves, how it resolves them, and its Storage. */
const volBackend = defineBackend({
  kind: "vol",
  label: "a test volume",
  rootForm: "vol://volume/path",
  settings: { vol: z.strictObject({ dir: z.string().startsWith("/", "must be an absolute directory") }).optional() },
  scheme: "vol",
  localFiles: false,
  claims: (_raw, roots) => roots.every((r) => VOL_ROOT.test(r)),
  rootPath: (root) => VOL_ROOT.exec(root)?.[2] ?? root,
  async resolve({ key, raw, roots, problems }) {
    if (raw.vol === undefined) problems.push(`${key}.vol: missing (the directory the volume lives in)`);
    const volumes = new Set(roots.map((r) => VOL_ROOT.exec(r)?.[1]));
    return { uri: `vol://${[...volumes][0] ?? ""}`, aliases: [], settings: { dir: raw.vol?.dir ?? "/nonexistent" } };
  },
  sameFilesystem: async (a, b) => settingsOf<{ dir: string }>(a, "vol").dir === settingsOf<{ dir: string }>(b, "vol").dir,
  create: (side) => new VolumeStorage(side.name, settingsOf<{ dir: string }>(side, "vol").dir),
});

const WITH_VOL = { backends: [...BACKENDS, volBackend] };

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "backend-registry-"));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function yaml(target: string): string {
  return `source: {name: src}\ntarget: ${target}\npaths: [{source: "file://${tmp}/src", target: "vol://dr/cp"}]\nlease: {ttl: 5s}\nmetrics: false\n`;
}

async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

describe("a backend added as one definition plus its registry line", () => {
  it("serves its roots: its settings resolved, the rewrite spelled in its scheme, the root a path of its storage", async () => {
    const config = await parseConfigText(yaml(`{name: dr, vol: {dir: "${tmp}/vol"}}`), "v.yaml", {}, WITH_VOL);
    expect(config.target).toMatchObject({ kind: "vol", uri: "vol://dr", settings: { dir: `${tmp}/vol` } });
    expect(config.paths).toEqual([{ source: `${tmp}/src`, target: "/cp" }]);
    expect(config.rewrite.length).toBeGreaterThan(0);
    for (const r of config.rewrite) expect(r.to).toBe("vol://dr/cp");
    expect(config.rewrite.map((r) => r.from)).toContain(`file:${tmp}/src`);
  });

  it("validates its settings by key and refuses another backend's settings on its side", async () => {
    expect(await problemsOf(parseConfigText(yaml("{vol: {dir: relative}}"), "v.yaml", {}, WITH_VOL))).toContain("target.vol.dir: must be an absolute directory");
    expect(await problemsOf(parseConfigText(yaml(`{vol: {dir: /x, size: 1}}`), "v.yaml", {}, WITH_VOL))).toContain('target.vol: unknown key "size"');
    expect(await problemsOf(parseConfigText(yaml("{}"), "v.yaml", {}, WITH_VOL))).toContain("target.vol: missing (the directory the volume lives in)");
    const foreign = await problemsOf(parseConfigText(yaml(`{vol: {dir: /x}, namenodes: ["http://nn:9870"]}`), "v.yaml", {}, WITH_VOL));
    expect(foreign.join("\n")).toMatch(/^target\.namenodes: set, but target is served by a test volume .*namenodes is a setting of HDFS over WebHDFS/m);
  });

  it("without its registry line its roots and its settings are refused by name", async () => {
    const problems = await problemsOf(parseConfigText(yaml(`{vol: {dir: /x}}`), "v.yaml", {}));
    expect(problems).toContain('target: unknown key "vol"');
    const roots = await problemsOf(parseConfigText(yaml("{}"), "v.yaml", {}));
    expect(roots.join("\n")).toContain("paths[].target: no storage backend serves vol://dr/cp");
  });

  it("the engine replicates into it: every checkpoint published there is restorable, its references in the new scheme", async () => {
    const config = await parseConfigText(yaml(`{name: dr, vol: {dir: "${tmp}/vol"}}`), "v.yaml", {}, WITH_VOL);
    const sim = new FlinkJobSimulator({ storage: new LocalStorage("src"), fsUri: "file:", root: `${tmp}/src`, intervalMs: 0, stateSizeBytes: 64 * 1024, retained: 2, seed: 7 });
    for (let i = 0; i < 2; i++) await sim.checkpointOnce();
    const target = createStorage(config.target, silentLogger);
    expect(target).toBeInstanceOf(VolumeStorage);
    const engine = new Engine({ config, source: createStorage(config.source, silentLogger), target, logger: silentLogger });
    await engine.start();
    try {
      await cycleUntil(engine, () => engine.status().jobs[0]?.newestPublishedCheckpoint === 2);
      const verdicts = await targetVerdicts(config, target);
      expect(verdicts.filter((v) => v.state === "restorable").map((v) => v.unit)).toContain("chk-2");
      expect(verdicts.every((v) => v.state === "restorable")).toBe(true);
      // On the volume's own directory: the published _metadata under the root's path.
      expect(await new LocalStorage("check").stat(`${tmp}/vol/cp/${sim.jobId}/chk-2/_metadata`)).not.toBeNull();
    } finally {
      await engine.stop();
    }
  });
});
