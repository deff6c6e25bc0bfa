// Writing a small file so that readers only ever see the whole of it: write under
// a hidden temporary name in the same directory, check its length, rename into
// place. Used for published _metadata, replication records and the lease.

import { CkptError } from "../util/errors.js";
import { isAlreadyExists, isMissing, parentOf, type Storage } from "../storage/types.js";
import { tempPathFor } from "./layout.js";

/** Fresh temporary names tried when a write finds its temporary already there (a retried CREATE). */
const TEMP_NAME_ATTEMPTS = 3;

export class AtomicWriteError extends CkptError {
  readonly kind = "atomic-write";
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`writing ${path} failed: ${problem}`);
  }
}

export async function writeAtomically(
  storage: Storage,
  path: string,
  bytes: Uint8Array,
  o: { signal?: AbortSignal; overwrite?: boolean; ensureParent?: boolean; mtime?: number } = {},
): Promise<void> {
  const io = o.signal ? { signal: o.signal } : {};
  if (o.ensureParent) await storage.mkdirs(parentOf(path), io);
  let tmp = tempPathFor(path);
  let cleanup = true;
  try {
    // A CREATE the client retried after its first attempt reached the NameNode (the answer was lost, the
    // upload cut) finds its own temporary there and fails with overwrite=false: start again under a new
    // random name, never reuse one (and never overwrite a name that might not be ours).
    for (let attempt = 1; ; attempt++) {
      try {
        await storage.write(tmp, bytes, { ...io, overwrite: false });
        break;
      } catch (err) {
        if (!isAlreadyExists(err) || attempt >= TEMP_NAME_ATTEMPTS) throw err;
        const stale = tmp;
        tmp = tempPathFor(path);
        await storage.delete(stale).catch(() => false);
      }
    }
    const st = await storage.stat(tmp, io);
    if (st === null || st.length !== bytes.length) {
      throw new AtomicWriteError(path, `temporary copy has ${st?.length ?? "no"} bytes instead of ${bytes.length}`);
    }
    if (o.mtime !== undefined) await storage.setModificationTime(tmp, o.mtime, io); // a rename keeps it
    await renameIntoPlace(storage, tmp, path, bytes.length, { ...io, overwrite: o.overwrite ?? true });
    cleanup = false;
  } finally {
    if (cleanup) await storage.delete(tmp).catch(() => false);
  }
}

/**
 * Renames a verified temporary into place. A rename that timed out after the NameNode did it is retried
 * by the client and then finds its source gone: when the destination has the expected length, it happened.
 */
export async function renameIntoPlace(
  storage: Pick<Storage, "rename" | "stat">,
  tmp: string,
  path: string,
  expectedLength: number,
  o: { signal?: AbortSignal; overwrite?: boolean } = {},
): Promise<void> {
  try {
    await storage.rename(tmp, path, { overwrite: o.overwrite ?? true, ...(o.signal ? { signal: o.signal } : {}) });
  } catch (err) {
    if (!isMissing(err)) throw err;
    const st = await storage.stat(path);
    if (st === null || st.type !== "file" || st.length !== expectedLength) throw err;
  }
}
