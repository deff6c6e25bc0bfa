// Issue #9 §4: --log-format text|json (text on a terminal, JSON otherwise).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textLine } from "../../src/util/log.js";
import { runCli } from "../helpers/cli-run.js";

describe("log format", () => {
  let tmp: string;
  let config: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "logfmt-"));
    config = join(tmp, "r.yaml");
    await writeFile(config, `source: {name: src}\ntarget: {name: dr}\npaths: [{source: "file://${tmp}/src", target: "file://${tmp}/dr"}]\nlease: {ttl: 5s}\nmetrics: false\nlog: {level: info}\n`);
    await (await import("node:fs/promises")).mkdir(join(tmp, "src"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("formats a pino line as one readable line", () => {
    const line = textLine(JSON.stringify({ level: 40, time: "2026-12-01T10:00:00.000Z", pid: 1, job: "abc", path: "/a b", msg: "delete failed" }));
    expect(line).toBe('2026-12-01T10:00:00.000Z WARN  delete failed job=abc path="/a b"\n');
  });

  it("--log-format text writes readable lines, json (the default off a terminal) pino JSON", async () => {
    const text = await runCli(["resync", "--config", config, "--log-format", "text"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}target lease acquired lease=\S+ owner=\S+ epoch=1$/m);
    expect(text.stderr).not.toContain('{"level"');
    const json = await runCli(["resync", "--config", config]);
    expect(json.code).toBe(0);
    const first = json.stderr.split("\n").find((l) => l.includes("target lease acquired"));
    expect(JSON.parse(first!)).toMatchObject({ level: 30, msg: "target lease acquired" });
    const bad = await runCli(["resync", "--config", config, "--log-format", "xml"]);
    expect(bad.code).toBe(2);
  });
});
