// The exit codes are documented (README table) and the systemd unit stops
// restarting on a configuration error; the mapping goes by error class.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/load.js";
import {
  ExitCode, exitCodeFor, InterruptedError, JobNotFoundError, MaxDeleteExceededError, mostSevere, NothingRestorableError, PartialFailureError, RootNotFoundError,
  SideUnreachableError,
} from "../../src/cli/exit-codes.js";
import { EnvironmentError, LocalFileError, UsageError } from "../../src/util/errors.js";

const root = join(import.meta.dirname, "../..");

describe("exit codes", () => {
  it("every code is in the README's exit-code table, and nothing else is", async () => {
    const readme = await readFile(join(root, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Exit codes"), readme.indexOf("## Configuration reference"));
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual(Object.values(ExitCode));
  });

  it("the systemd unit does not restart on a configuration error", async () => {
    const unit = await readFile(join(root, "deploy/systemd/ckpt-replicator@.service"), "utf8");
    expect(unit).toMatch(new RegExp(`^RestartPreventExitStatus=.*\\b${ExitCode.CONFIG}\\b`, "m"));
  });

  it("maps failures by class", () => {
    expect(exitCodeFor(new UsageError("x"))).toBe(2);
    expect(exitCodeFor(new ConfigError("f.yaml", ["k: bad"]))).toBe(78);
    expect(exitCodeFor(new EnvironmentError("CKPT_LOG_LEVEL", "verbose", "a level"))).toBe(78);
    expect(exitCodeFor(new RootNotFoundError("source", "hdfs1", "/x"))).toBe(3);
    expect(exitCodeFor(new JobNotFoundError("j", "/x", []))).toBe(3);
    expect(exitCodeFor(new LocalFileError("read", "/m", "ENOENT", "missing"))).toBe(3);
    expect(exitCodeFor(new LocalFileError("read", "/m", "EACCES", "denied"))).toBe(1);
    expect(exitCodeFor(new SideUnreachableError("source", "hdfs1", "/x", "down"))).toBe(4);
    expect(exitCodeFor(new SideUnreachableError("target", "hdfs2", "/y", "down"))).toBe(5);
    expect(exitCodeFor(new NothingRestorableError(["j"], "none"))).toBe(6);
    expect(exitCodeFor(new MaxDeleteExceededError("over"))).toBe(7);
    expect(exitCodeFor(new PartialFailureError("some"))).toBe(1);
    expect(exitCodeFor(new InterruptedError("SIGINT", "stopped"))).toBe(130);
    expect(exitCodeFor(new InterruptedError("SIGTERM", "stopped"))).toBe(143);
    expect(exitCodeFor(new Error("bug"))).toBe(70);
  });

  it("reports the most specific of several failures", () => {
    const partial = new PartialFailureError("p");
    const target = new SideUnreachableError("target", "hdfs2", "/y", "down");
    const nothing = new NothingRestorableError([], "n");
    expect(mostSevere([partial, nothing, target])).toBe(target);
    expect(mostSevere([partial, nothing])).toBe(nothing);
    const maxDelete = new MaxDeleteExceededError("m");
    expect(mostSevere([partial, maxDelete])).toBe(maxDelete);
    expect(mostSevere([maxDelete, nothing])).toBe(nothing);
    const stopped = new InterruptedError("SIGTERM", "s");
    expect(mostSevere([target, stopped, partial])).toBe(stopped); // the stop explains the rest
  });
});
