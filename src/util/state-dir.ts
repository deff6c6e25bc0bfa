// Making sure a local directory the command needs (the sandbox's state
// directory) is usable before anything is started in it: each missing level
// is created one at a time (Node's recursive mkdir can spin forever on
// pseudo-filesystems such as /proc, where every level answers ENOENT), and a
// probe file is written and removed. Failures are LocalFileErrors: one line,
// naming the path and the reason.

import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { LocalFileError, localFileError } from "./errors.js";

export async function ensureUsableDir(dir: string, what: string): Promise<void> {
  const absolute = resolve(dir);
  const missing: string[] = [];
  let cursor = absolute;
  for (;;) {
    const st = await stat(cursor).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return null;
      throw localFileError("write", cursor, err, `${what} ${dir} is unusable`);
    });
    if (st !== null) {
      if (!st.isDirectory()) throw new LocalFileError("write", absolute, "ENOTDIR", `${what} ${dir} is unusable: ${cursor} is not a directory`);
      break;
    }
    missing.unshift(cursor);
    const parent = dirname(cursor);
    if (parent === cursor) break;
    cursor = parent;
  }
  for (const level of missing) {
    await mkdir(level).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "EEXIST") return;
      throw localFileError("write", level, err, `cannot create ${what} ${dir}`);
    });
  }
  const probe = join(absolute, `.ckpt-probe-${process.pid}`);
  try {
    await writeFile(probe, "");
  } catch (err) {
    throw localFileError("write", absolute, err, `${what} ${dir} is not writable`);
  }
  await rm(probe, { force: true });
}
