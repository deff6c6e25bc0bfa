// Writing a file so that readers only ever see the whole of it, on any backend,
// chosen by the storage's capabilities: where rename is atomic, the bytes go to a
// hidden temporary name in the same directory, are checked, and are renamed into
// place; where a write only becomes visible once complete (an object store), they
// go to the final name and are checked there. Used for copied data files, the
// published _metadata (the commit point), replication records and the lease.

import { CkptError } from "../util/errors.js";
import { isAlreadyExists, isMissing, isUnsettledWrite, parentOf, StorageError, type Storage } from "../storage/types.js";
import { tempPathFor } from "./layout.js";
import { removeOwnTemporary, type LeftBehind, type TemporaryOwner } from "./left-behind.js";

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

/** One attempt at writing `finalPath` so that it appears whole: where to write, and how to make it visible. */
export interface StagedWrite {
  /** Where the bytes are written. */
  readonly path: string;
  /** Whether that write replaces an existing file (a temporary never does). */
  readonly overwrite: boolean;
  /** True when `path` is a hidden temporary that commit() renames (and discard() removes). */
  readonly temporary: boolean;
  /** Makes the written, checked bytes visible at the final name. */
  commit(expectedLength: number, o?: { signal?: AbortSignal; control?: boolean }): Promise<void>;
  /**
   * Removes what this attempt left behind and nobody can see (its temporary), past the lease's fence (the
   * name is this attempt's own). Never throws: resolves to null once nothing is left, else to the failure
   * (which the staging's `leftBehind` tracker, when given, has recorded). `writeFailure` is why the write
   * did not finish: a write cut off before the storage answered may still create the temporary after this
   * removal, so it is recorded too (the engine's stop looks for it again).
   */
  discard(writeFailure?: unknown): Promise<unknown>;
  /** A new staging of the same file under a fresh temporary name (after a retried CREATE found its own). */
  retry(): StagedWrite;
}

export interface StageOptions {
  /** Whether an existing file at the final name is replaced (default) or the commit fails with reason "exists". */
  overwrite?: boolean;
  /** Where a temporary whose removal failed is recorded (the engine's stop tries it again and reports it). */
  leftBehind?: LeftBehind;
  /** Whose write this is, for the log line of a temporary left behind. */
  owner?: TemporaryOwner;
}

/** How to write `finalPath` whole on this storage. */
export function stageWrite(storage: Pick<Storage, "name" | "capabilities" | "rename" | "stat" | "delete">, finalPath: string, o: StageOptions = {}): StagedWrite {
  const overwrite = o.overwrite ?? true;
  const caps = storage.capabilities;
  if (caps.atomicRename) {
    const tmp = tempPathFor(finalPath);
    return {
      path: tmp,
      overwrite: false,
      temporary: true,
      commit: (expectedLength, io = {}) => renameIntoPlace(storage, tmp, finalPath, expectedLength, { ...io, overwrite }),
      discard: async (writeFailure) => {
        const failed = await removeOwnTemporary(storage, tmp);
        if (failed !== null) o.leftBehind?.add(storage, tmp, failed, o.owner);
        else if (isUnsettledWrite(writeFailure)) o.leftBehind?.addUnsettled(storage, tmp, writeFailure, o.owner);
        return failed;
      },
      retry: () => stageWrite(storage, finalPath, o),
    };
  }
  if (caps.atomicWrite && (overwrite || caps.exclusiveCreate)) {
    const direct: StagedWrite = {
      path: finalPath,
      overwrite,
      temporary: false,
      commit: async () => {},
      // Nothing partial is ever visible, and what is at the final name may be someone's: leave it.
      discard: async () => null,
      retry: () => direct,
    };
    return direct;
  }
  throw new StorageError({
    reason: "unsupported",
    storage: storage.name,
    operation: "write whole",
    path: finalPath,
    message: `${storage.name}: cannot write ${finalPath} so that it appears whole: the storage has neither an atomic rename nor atomic writes${overwrite ? "" : " with exclusive create"}`,
  });
}

/** Writes a small file that readers see whole or not at all (with `mtime` set before it is visible). */
export async function writeAtomically(
  storage: Storage,
  path: string,
  bytes: Uint8Array,
  o: StageOptions & { signal?: AbortSignal; ensureParent?: boolean; mtime?: number; control?: boolean } = {},
): Promise<void> {
  const io = { ...(o.signal ? { signal: o.signal } : {}), ...(o.control ? { control: true } : {}) };
  if (o.ensureParent) await storage.mkdirs(parentOf(path), io);
  let staged = stageWrite(storage, path, o);
  let committed = false;
  let failure: unknown;
  try {
    // A CREATE the client retried after its first attempt reached the NameNode (the answer was lost, the
    // upload cut) finds its own temporary there and fails with overwrite=false: start again under a new
    // random name, never reuse one (and never overwrite a name that might not be ours).
    for (let attempt = 1; ; attempt++) {
      try {
        await storage.write(staged.path, bytes, { ...io, overwrite: staged.overwrite, ...(o.mtime !== undefined ? { mtime: o.mtime } : {}) });
        break;
      } catch (err) {
        if (!staged.temporary || !isAlreadyExists(err) || attempt >= TEMP_NAME_ATTEMPTS) throw err;
        const stale = staged;
        staged = staged.retry();
        await stale.discard();
      }
    }
    const st = await storage.stat(staged.path, io);
    if (st === null || st.length !== bytes.length) {
      throw new AtomicWriteError(path, `${staged.temporary ? "temporary copy" : "written file"} has ${st?.length ?? "no"} bytes instead of ${bytes.length}`);
    }
    await staged.commit(bytes.length, io);
    committed = true;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    if (!committed) await staged.discard(failure);
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
  o: { signal?: AbortSignal; overwrite?: boolean; control?: boolean } = {},
): Promise<void> {
  const io = { ...(o.signal ? { signal: o.signal } : {}), ...(o.control ? { control: true } : {}) };
  try {
    await storage.rename(tmp, path, { overwrite: o.overwrite ?? true, ...io });
  } catch (err) {
    if (!isMissing(err)) throw err;
    const st = await storage.stat(path, io);
    if (st === null || st.type !== "file" || st.length !== expectedLength) throw err;
  }
}
