// Access to the project's reference material in ../shared (the steering repo's
// shared/ folder, present beside the clone in CI). A user's clone has no
// ../shared: suites that need it then register one skipped test whose name
// says why, and print the reason, so the skip is never silent.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Absolute path of the shared folder, or null when it is absent. CKPT_SHARED_DIR overrides. */
export function sharedDir(): string | null {
  const dir = process.env.CKPT_SHARED_DIR ?? join(projectRoot, "..", "shared");
  return existsSync(join(dir, "docs")) || existsSync(join(dir, "fixtures")) ? dir : null;
}

/** describe() that runs only when ../shared exists; otherwise a visible, explained skip. */
export function describeWithShared(title: string, body: (shared: string) => void): void {
  const dir = sharedDir();
  if (dir === null) {
    const reason = `SKIPPED: ${title}: ../shared is absent (set CKPT_SHARED_DIR to run these tests)`;
    process.stderr.write(`${reason}\n`);
    describe(title, () => {
      // Reported as skipped with the reason as its name and note, never as passed.
      it(reason, (ctx) => ctx.skip(reason));
    });
    return;
  }
  describe(title, () => body(dir));
}
