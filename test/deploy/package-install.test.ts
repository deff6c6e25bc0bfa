// Packaging as an operator installs it: `npm ci --omit=dev` in a clone succeeds
// without building (no TypeScript compiler there), leaves no dev dependency, and
// the prebuilt dist/ then runs with the production dependencies alone. The
// install uses npm's cache only (--offline, loopback rule): the cache is filled by
// the `npm ci` every checkout starts with.

import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { projectRoot, readProjectFile } from "./deploy-parsers.js";

const run = promisify(execFile);

interface PackageJson {
  version: string;
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readProjectFile("package.json")) as PackageJson;

describe("package.json", () => {
  it("builds on a developer's npm ci and on npm pack, never in an install hook that needs dev dependencies", () => {
    for (const hook of ["preinstall", "install", "postinstall"]) expect(pkg.scripts[hook], hook).toBeUndefined();
    expect(pkg.scripts.prepare).toBe("node scripts/prepare.mjs");
    expect(pkg.scripts.prepack).toBe("npm run build");
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "config", "scripts/prepare.mjs"]));
    expect(pkg.bin["ckpt-replicator"]).toBe("dist/cli/bin.js");
  });
});

describe("npm ci --omit=dev", () => {
  it("installs the production dependencies without building, and the prebuilt CLI runs on them", async (ctx) => {
    const dir = await mkdtemp(join(tmpdir(), "prod-install-"));
    try {
      for (const f of ["package.json", "package-lock.json", "scripts", "src", "tsconfig.json", "tsconfig.build.json", "config"]) {
        await cp(join(projectRoot, f), join(dir, f), { recursive: true });
      }
      let out: string;
      try {
        const r = await run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--offline"], { cwd: dir, timeout: 120_000, env: { ...process.env, NODE_ENV: "production" } });
        out = `${r.stdout}${r.stderr}`;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        const text = `${e.stdout ?? ""}${e.stderr ?? ""}`;
        if (/ENOTCACHED/.test(text) && process.env.CI !== "true") {
          const reason = "SKIPPED: npm ci --omit=dev: npm's cache lacks a package (run npm ci once with network access)";
          process.stderr.write(`${reason}\n`);
          ctx.skip(reason);
        }
        throw new Error(`npm ci --omit=dev failed:\n${text}`);
      }
      expect(out).toContain("not building");
      expect(existsSync(join(dir, "dist"))).toBe(false);
      const installed = await readdir(join(dir, "node_modules"));
      for (const dev of Object.keys(pkg.devDependencies)) expect(installed, dev).not.toContain(dev.split("/")[0]);
      for (const dep of Object.keys(pkg.dependencies)) expect(installed, dep).toContain(dep.split("/")[0]);

      await cp(dirname(dirname(inject("cliBin"))), join(dir, "dist"), { recursive: true });
      const version = await run(process.execPath, [join(dir, pkg.bin["ckpt-replicator"] ?? ""), "--version"], { cwd: dir, timeout: 30_000 });
      expect(version.stdout.trim()).toBe(pkg.version);
      const help = await run(process.execPath, [join(dir, pkg.bin["ckpt-replicator"] ?? ""), "run", "--help"], { cwd: dir, timeout: 30_000 });
      expect(help.stdout).toContain("--config");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
