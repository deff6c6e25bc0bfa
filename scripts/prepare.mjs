// npm's "prepare" hook: after `npm ci` / `npm install` in a clone, build dist/ so that
// `npx ckpt-replicator` works at once. A production install (`npm ci --omit=dev`) has no
// TypeScript compiler and must not build: dist/ then comes from the package tarball
// (`npm pack` builds it in "prepack") or from the Docker build stage.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve("typescript/bin/tsc");
} catch {
  tsc = null;
}
if (tsc === null || !existsSync("tsconfig.build.json") || !existsSync("src")) {
  console.log("prepare: no TypeScript compiler or sources here (production install): not building; dist/ comes prebuilt");
  process.exit(0);
}
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
process.exit(r.status ?? 1);
