// Writing a local file so that readers never see half of it: a temporary
// sibling, then a rename. (The same idea for HDFS lives in replication/atomic.ts.)

import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { LocalFileError, localFileError } from "./errors.js";

export async function writeLocalFileAtomically(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, bytes, { flag: "wx" });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new LocalFileError("write", file, code, `its directory ${dirname(file)} does not exist`, { cause: err });
    throw localFileError("write", file, err);
  }
}
