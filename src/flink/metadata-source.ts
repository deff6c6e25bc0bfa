// Where `_metadata` bytes come from. A source is a function from a location to
// the file's bytes; the local-file source is the default, and a WebHDFS-backed
// source can be plugged in for hdfs:// locations. The directory of a location
// is the base for the metadata's relative paths.

import { stat, readFile } from "node:fs/promises";
import { MetadataFormatError } from "./errors.js";
import { LocalFileError, localFileError } from "../util/errors.js";

export type MetadataSource = (location: string) => Promise<Uint8Array>;

/** Largest `_metadata` file accepted (real ones are KBs to a few MBs). */
export const MAX_METADATA_BYTES = 256 * 1024 * 1024;

export const localMetadataSource: MetadataSource = async (path) => {
  const info = await stat(path).catch((err: unknown) => {
    throw localFileError("read", path, err);
  });
  if (info.isDirectory()) throw new LocalFileError("read", path, "EISDIR", "is a directory; name the _metadata file inside it");
  if (info.size > MAX_METADATA_BYTES) {
    throw new MetadataFormatError(0, "", `a _metadata file of at most ${MAX_METADATA_BYTES} bytes, but ${path} has ${info.size}`);
  }
  return readFile(path).catch((err: unknown) => {
    throw localFileError("read", path, err);
  });
};

/** The directory holding `location` (a local path or a URI), without a trailing slash. */
export function directoryOf(location: string): string {
  const cut = location.replace(/\/+$/, "").lastIndexOf("/");
  if (cut < 0) return ".";
  const dir = location.slice(0, cut);
  return dir === "" || dir.endsWith(":") || dir.endsWith("/") ? location.slice(0, cut + 1) : dir;
}
