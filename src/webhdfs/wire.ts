// The JSON bodies WebHDFS servers send: schemas for every success shape the client
// accepts (FileStatus, listings, ContentSummary, FileChecksum, boolean), the
// RemoteException error body, and the meaningful part of a checksum. Parsers
// tolerate missing optional fields (old servers) and ignore unknown ones.

import { z } from "zod";
import type { ContentSummary, FileChecksum, FileStatus } from "./types.js";

const fileStatusSchema = z.object({
  accessTime: z.number(),
  blockSize: z.number(),
  childrenNum: z.number().optional(),
  fileId: z.number().optional(),
  group: z.string(),
  length: z.number(),
  modificationTime: z.number(),
  owner: z.string(),
  pathSuffix: z.string(),
  permission: z.string(),
  replication: z.number(),
  storagePolicy: z.number().optional(),
  type: z.enum(["FILE", "DIRECTORY", "SYMLINK"]),
  aclBit: z.boolean().optional(),
  encBit: z.boolean().optional(),
  ecBit: z.boolean().optional(),
  snapshotEnabled: z.boolean().optional(),
  symlink: z.string().optional(),
});

const fileStatusesSchema = z.object({ FileStatus: z.array(fileStatusSchema) });

export interface DirectoryListingPage {
  entries: FileStatus[];
  /** Exact count on a NameNode; only a 0/1 "more" flag on HttpFS. */
  remainingEntries: number;
}

const typeQuotaEntry = z.object({ consumed: z.number(), quota: z.number() });

/** One success body shape: its zod schema, how to unwrap it, and a description for error messages. */
export interface ResponseShape<T> {
  readonly description: string;
  parse(value: unknown): T | undefined;
}

function shape<S extends z.ZodType, T>(description: string, schema: S, unwrap: (v: z.infer<S>) => T): ResponseShape<T> {
  return {
    description,
    parse(value) {
      const result = schema.safeParse(value);
      return result.success ? unwrap(result.data) : undefined;
    },
  };
}

export const fileStatusBody = shape(
  '{"FileStatus":{...}}',
  z.object({ FileStatus: fileStatusSchema }),
  (v): FileStatus => v.FileStatus,
);

export const listStatusBody = shape(
  '{"FileStatuses":{"FileStatus":[...]}}',
  z.object({ FileStatuses: fileStatusesSchema }),
  (v): FileStatus[] => v.FileStatuses.FileStatus,
);

export const listStatusBatchBody = shape(
  '{"DirectoryListing":{"partialListing":{"FileStatuses":{"FileStatus":[...]}},"remainingEntries":n}}',
  z.object({
    DirectoryListing: z.object({
      partialListing: z.object({ FileStatuses: fileStatusesSchema }),
      remainingEntries: z.number(),
    }),
  }),
  (v): DirectoryListingPage => ({
    entries: v.DirectoryListing.partialListing.FileStatuses.FileStatus,
    remainingEntries: v.DirectoryListing.remainingEntries,
  }),
);

export const contentSummaryBody = shape(
  '{"ContentSummary":{...}}',
  z.object({
    ContentSummary: z.object({
      directoryCount: z.number(),
      fileCount: z.number(),
      length: z.number(),
      quota: z.number(),
      spaceConsumed: z.number(),
      spaceQuota: z.number(),
      typeQuota: z.record(z.string(), typeQuotaEntry).optional(),
    }),
  }),
  (v): ContentSummary => ({ ...v.ContentSummary, typeQuota: v.ContentSummary.typeQuota ?? {} }),
);

const checksumSchema = z
  .object({ algorithm: z.string().min(1), bytes: z.string().regex(/^([0-9a-fA-F]{2})*$/), length: z.number().int().min(0) })
  .refine((c) => c.bytes.length >= c.length * 2, { message: "bytes shorter than length" });

/** The inner checksum object (what Hadoop calls FileChecksum), without the wrapper. */
export const fileChecksumObject = shape('{"algorithm":..,"bytes":..,"length":..}', checksumSchema, (v): FileChecksum => v);

export const fileChecksumBody = shape(
  '{"FileChecksum":{"algorithm":..,"bytes":..,"length":..}}',
  z.object({ FileChecksum: checksumSchema }),
  (v): FileChecksum => v.FileChecksum,
);

export const booleanBody = shape('{"boolean":true|false}', z.object({ boolean: z.boolean() }), (v): boolean => v.boolean);

/** `{"long":<n>}`: RENEWDELEGATIONTOKEN's new expiry (ms since the epoch). */
export const longBody = shape('{"long":<ms>}', z.object({ long: z.number().int() }), (v): number => v.long);

/** GETDELEGATIONTOKEN: the token's urlString, or null from a cluster with security off (`{"Token":null}`). */
export const tokenBody = shape(
  '{"Token":{"urlString":..}|null}',
  z.object({ Token: z.union([z.null(), z.object({ urlString: z.string().min(1) })]) }),
  (v): string | null => v.Token?.urlString ?? null,
);

/** `{"Location":"..."}`: a NameNode's answer to a redirect op with noredirect=true. */
export const locationBody = shape('{"Location":"<url>"}', z.object({ Location: z.string().min(1) }), (v): string => v.Location);

export interface RemoteException {
  exception: string;
  javaClassName: string;
  /** Throwable.getMessage(): may be null, may span several lines. */
  message: string | null;
}

const remoteExceptionSchema = z.object({
  RemoteException: z.object({
    exception: z.string(),
    javaClassName: z.string(),
    message: z.string().nullable().optional(),
  }),
});

/** The RemoteException inside an error body, or null when the body is not one (HTML page, empty...). */
export function parseRemoteException(text: string): RemoteException | null {
  const json = parseJson(text);
  if (json === undefined) return null;
  const result = remoteExceptionSchema.safeParse(json);
  if (!result.success) return null;
  const { exception, javaClassName, message } = result.data.RemoteException;
  return { exception, javaClassName, message: message ?? null };
}

/** JSON.parse that returns undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Hex of the meaningful checksum bytes: the first `length` bytes (the DN pads the buffer with zeros). */
export function checksumHex(checksum: FileChecksum): string {
  return checksum.bytes.slice(0, checksum.length * 2).toLowerCase();
}

/** Two checksums are comparable and equal: same algorithm string and same meaningful bytes. */
export function sameChecksum(a: FileChecksum, b: FileChecksum): boolean {
  return a.algorithm === b.algorithm && a.length === b.length && checksumHex(a) === checksumHex(b);
}
