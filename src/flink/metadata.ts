// Parsing and serializing whole `_metadata` files: header dispatch, the
// historical version-3 layout variants (Flink 1.11 channel handles, Flink 1.14
// changelog handles: tried in turn when the default layout does not parse to the
// exact end), end-of-file checks and validation of the V4+ properties trailer.

import { MetadataFormatError } from "./errors.js";
import {
  DEFAULT_READ_LIMITS,
  FormatReader,
  FormatWriter,
  type ChangelogLayout,
  type ChannelLayout,
  type FormatContext,
  type ParseStats,
  type ReadLimits,
} from "./format-io.js";
import { body, header } from "./format-metadata.js";
import { parseJavaObjectStream, type JavaValue } from "./java-serialization.js";
import type { CheckpointMetadata } from "./model.js";

export interface ParseOptions {
  limits?: Partial<ReadLimits>;
  /** Receives allocation statistics of the (last) parse attempt. */
  stats?: ParseStats;
}

type Layout = CheckpointMetadata["layout"];
const DEFAULT_LAYOUT: Layout = { channels: "flink-1.12+", changelog: "flink-1.15+" };
/** Version-3 layouts, most likely first (spec section 9 and 11 "historical ambiguity"). */
const VERSION_3_LAYOUTS: readonly Layout[] = [
  DEFAULT_LAYOUT,
  { channels: "flink-1.11" as ChannelLayout, changelog: "flink-1.15+" as ChangelogLayout },
  { channels: "flink-1.12+" as ChannelLayout, changelog: "flink-1.14" as ChangelogLayout },
];

/** Parses a complete `_metadata` file. Throws MetadataFormatError for anything malformed. */
export function parseMetadata(bytes: Uint8Array, options: ParseOptions = {}): CheckpointMetadata {
  const limits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  const stats = options.stats ?? { largestAllocationBytes: 0 };
  const probe = new FormatReader(bytes, contextFor(0, DEFAULT_LAYOUT), limits, stats);
  const version = header(probe, undefined);
  const layouts = version === 3 ? VERSION_3_LAYOUTS : [DEFAULT_LAYOUT];
  let firstError: MetadataFormatError | undefined;
  for (const layout of layouts) {
    try {
      return parseWithLayout(bytes, version, layout, limits, stats);
    } catch (err) {
      if (!(err instanceof MetadataFormatError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError!;
}

function contextFor(version: number, layout: Layout): FormatContext {
  return { version, channelLayout: layout.channels, changelogLayout: layout.changelog };
}

function parseWithLayout(bytes: Uint8Array, version: number, layout: Layout, limits: ReadLimits, stats: ParseStats): CheckpointMetadata {
  const r = new FormatReader(bytes, contextFor(version, layout), limits, stats);
  header(r, undefined);
  const parsed = body(r, undefined);
  if (r.remaining !== 0) r.fail("", `end of file after the last operator, but ${r.remaining} bytes follow`);
  if (parsed.propertiesTrailer !== undefined) {
    decodeTrailer(parsed.propertiesTrailer, bytes.length - parsed.propertiesTrailer.length, limits, stats);
  }
  return { ...parsed, layout: { ...layout } };
}

function decodeTrailer(trailer: Uint8Array, baseOffset: number, limits: ReadLimits, stats?: ParseStats): JavaValue {
  return parseJavaObjectStream(trailer, { baseOffset, basePath: "propertiesTrailer" }, limits, stats);
}

/** The decoded Java object of the V4+ trailer, or undefined for versions 1-3. */
export function propertiesObject(md: CheckpointMetadata): JavaValue | undefined {
  if (md.propertiesTrailer === undefined) return undefined;
  return decodeTrailer(md.propertiesTrailer, 0, DEFAULT_READ_LIMITS);
}

/** Writes `md` in its own version and layout. An unmodified parse is reproduced byte for byte. */
export function serializeMetadata(md: CheckpointMetadata): Buffer {
  const w = new FormatWriter(contextFor(md.version, md.layout ?? DEFAULT_LAYOUT));
  header(w, md.version);
  if (md.version >= 4 && md.propertiesTrailer === undefined) {
    w.fail("propertiesTrailer", `a CheckpointProperties trailer for format version ${md.version}`);
  }
  if (md.version < 4 && md.propertiesTrailer !== undefined) {
    w.fail("propertiesTrailer", `no trailer in format version ${md.version}`);
  }
  body(w, md);
  return w.toBuffer();
}
