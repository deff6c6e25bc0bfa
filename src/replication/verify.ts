// Verifying checkpoints on one side: for every _metadata, parse it, map its
// reference closure to paths on that side and check each file is there with at
// least the size the checkpoint needs (--deep: and the same checksum as the
// source's counterpart). Serves `verify`, `latest`, the demo and the tests.

import type { Config } from "../config/load.js";
import { formatBytes } from "../util/units.js";
import { errorMessage } from "../util/errors.js";
import { silentLogger, type Logger } from "../util/log.js";
import { isMissing, joinPath, type Entry, type ReadOnlyStorage } from "../storage/types.js";
import { MetadataCatalog } from "./catalog.js";
import { METADATA_FILE } from "./layout.js";
import { rootFor, type ClusterLocator } from "./locations.js";
import { checkPresence, describeProblem, type PresenceProblem } from "./presence.js";
import { bundleSide, type ReplicationSide } from "./sides.js";
import { newestFirst, type TreeSnapshot, type TreeUnit } from "./scan.js";

export interface UnitVerdict {
  job: string;
  unit: string;
  kind: "checkpoint" | "savepoint";
  checkpointId: number;
  dir: string;
  /** restorable: every referenced file present with enough bytes. */
  state: "restorable" | "broken" | "unreadable";
  problems: string[];
  files: number;
  bytes: number;
  metadataMtime: number;
}

/** The side to verify: its storage (a one-shot bundle is built over it), or its bundle (whose catalog the caller then shares, as verify --deep does). */
export type VerifyOptions = VerifyCommon & ({ storage: ReadOnlyStorage; bundle?: undefined } | { bundle: ReplicationSide; storage?: undefined });

interface VerifyCommon {
  config: Config;
  side: "source" | "target";
  /** Needed for --deep on the target. */
  counterpart?: ReadOnlyStorage;
  job?: string;
  deep?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
  /** Called with the scan the verdicts are based on (the CLI checks its roots: missing, unreadable). */
  onSnapshot?: (snapshot: TreeSnapshot) => void;
}

export async function verifyCheckpoints(options: VerifyOptions): Promise<UnitVerdict[]> {
  const bundle = options.bundle ?? bundleSide(options.config, options.side, options.storage, options.logger ?? silentLogger);
  const o: Resolved = { ...options, storage: bundle.storage };
  const { locator, catalog, scanner } = bundle;
  const snapshot = await scanner.scan();
  o.onSnapshot?.(snapshot);
  const units: TreeUnit[] = [];
  for (const job of snapshot.jobs.values()) {
    if (o.job !== undefined && job.key !== o.job) continue;
    for (const u of job.units) if (u.metadata) units.push(u);
  }
  const verdicts: UnitVerdict[] = [];
  for (const unit of units.sort(newestFirst)) {
    const verdict = await verifyUnit(unit, o, locator, catalog);
    // A checkpoint deleted while it was being verified (subsumed, reaped) is not reported.
    if (verdict.state !== "restorable" && (await o.storage.stat(metadataPathOf(verdict)).catch(() => true)) === null) continue;
    verdicts.push(verdict);
  }
  return verdicts;
}

type Resolved = VerifyCommon & { storage: ReadOnlyStorage };

async function verifyUnit(unit: TreeUnit, o: Resolved, locator: ClusterLocator, catalog: MetadataCatalog): Promise<UnitVerdict> {
  const a = await assessUnit(unit, { storage: o.storage, locator, catalog, ...(o.signal ? { signal: o.signal } : {}) });
  const problems = a.problems.map((p) => p.text);
  if (a.state === "restorable" && o.deep && o.counterpart) problems.push(...(await compareChecksums(a.required.map((r) => r.path), o)));
  return {
    job: unit.jobKey,
    unit: unit.name,
    kind: unit.kind,
    checkpointId: unit.checkpointId,
    dir: unit.dir,
    metadataMtime: unit.metadata?.mtime ?? 0,
    state: a.state === "unreadable" ? "unreadable" : problems.length === 0 ? "restorable" : "broken",
    problems,
    files: a.required.length,
    bytes: a.bytes,
  };
}

export interface UnitAssessment {
  state: "restorable" | "broken" | "unreadable";
  /**
   * Unreadable for now only: its _metadata could not be read (the storage failed, or it is still being
   * written), which says nothing about the checkpoint. False for a verdict: corrupt, or no _metadata.
   */
  retryable: boolean;
  /** What makes it broken or unreadable; `file` problems name a file that is missing or too short. */
  problems: { text: string; file?: PresenceProblem }[];
  /** Every file it references, as a path on this side, with the bytes it needs. */
  required: { path: string; minLength: number }[];
  bytes: number;
}

/**
 * Is this unit restorable where it is: its _metadata parses, every reference is on this cluster and every
 * referenced file is there with at least the bytes the checkpoint needs. `listings` (fresh) answer for
 * the directories they hold. Serves `verify`/`latest` and the daemon's re-verification of kept checkpoints.
 */
export async function assessUnit(
  unit: TreeUnit,
  o: { storage: ReadOnlyStorage; locator: ClusterLocator; catalog: MetadataCatalog; listings?: ReadonlyMap<string, ReadonlyMap<string, Entry>>; signal?: AbortSignal },
): Promise<UnitAssessment> {
  if (!unit.metadata) return { state: "unreadable", retryable: false, problems: [{ text: `${unit.dir} has no ${METADATA_FILE}` }], required: [], bytes: 0 };
  const view = await o.catalog.view(unit.dir, unit.metadata, o.signal);
  if (view.state !== "complete") return { state: "unreadable", retryable: view.state === "incomplete", problems: [{ text: view.reason }], required: [], bytes: 0 };
  const problems: UnitAssessment["problems"] = [];
  const required: { path: string; minLength: number }[] = [];
  for (const ref of view.references) {
    const path = o.locator.pathOf(ref.location);
    if (path === null) problems.push({ text: `references ${ref.location}, which is not on this cluster` });
    else required.push({ path, minLength: Math.max(0, ref.size) });
  }
  const missing = await checkPresence(o.storage, required, o.signal, o.listings);
  problems.push(...missing.map((m) => ({ text: describeProblem(m), file: m })));
  return {
    state: problems.length === 0 ? "restorable" : "broken",
    retryable: false,
    problems,
    required,
    bytes: view.references.bytes,
  };
}

async function compareChecksums(paths: string[], o: Resolved): Promise<string[]> {
  const problems: string[] = [];
  const other = o.side === "target" ? "source" : "target";
  for (const path of paths) {
    const pair = rootFor(path, o.config.paths, o.side);
    if (!pair) continue;
    const counterpartPath = `${pair[other]}${path.slice(pair[o.side].length)}`;
    try {
      const [mine, theirs] = await Promise.all([o.storage.checksum(path), o.counterpart!.checksum(counterpartPath)]);
      if (mine !== null && theirs !== null && mine.split(":")[0] === theirs.split(":")[0] && mine !== theirs) {
        problems.push(`${path}: checksum ${mine} differs from ${counterpartPath} (${theirs})`);
      }
    } catch (err) {
      // The counterpart may legitimately be gone (subsumed on the source): nothing to compare.
      if (!isMissing(err)) problems.push(`${path}: checksum comparison failed: ${errorMessage(err)}`);
    }
  }
  return problems;
}

/** The newest restorable checkpoint or savepoint of a job, or null. */
export function newestRestorable(verdicts: UnitVerdict[], job: string, includeSavepoints = false): UnitVerdict | null {
  return (
    verdicts.find((v) => v.job === job && v.state === "restorable" && (includeSavepoints || v.kind === "checkpoint")) ?? null
  );
}

export function metadataPathOf(v: UnitVerdict): string {
  return joinPath(v.dir, METADATA_FILE);
}

/** The verdicts as `verify` prints them: one line per checkpoint, the problems of each that is not restorable. */
export function formatVerdicts(verdicts: UnitVerdict[], side: string): string {
  if (verdicts.length === 0) return `no _metadata found on the ${side}\n`;
  const lines: string[] = [];
  for (const v of verdicts) {
    const name = `${v.job ? `${v.job}/` : ""}${v.unit}`;
    if (v.state === "restorable") lines.push(`restorable  ${name}  (${v.files} files, ${formatBytes(v.bytes)})`);
    else {
      const label = v.state === "unreadable" ? (side === "source" ? "incomplete" : "UNREADABLE") : "BROKEN";
      lines.push(`${label.padEnd(11)} ${name}`);
      for (const p of v.problems.slice(0, 20)) lines.push(`            - ${p}`);
      if (v.problems.length > 20) lines.push(`            - ... ${v.problems.length - 20} more`);
    }
  }
  return `${lines.join("\n")}\n`;
}
