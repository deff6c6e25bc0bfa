// Typed error for malformed or unsupported Flink `_metadata` content: says where
// (byte offset and path inside the structure) and what was expected there.

import { CkptError } from "../util/errors.js";

export class MetadataFormatError extends CkptError {
  readonly kind = "metadata-format";

  constructor(
    /** Byte offset in the file (or in the Java trailer stream, see `structurePath`) where the problem is. */
    readonly offset: number,
    /** Position inside the structure, e.g. `operators[1]/subtasks[3]/managedKeyedState/tag`. */
    readonly structurePath: string,
    /** What the reader expected to find. */
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid Flink metadata at byte ${offset} (${structurePath || "<file>"}): ${expected}`, options);
  }
}
