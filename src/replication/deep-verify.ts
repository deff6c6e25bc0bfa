// `verify --deep`: for the files of every restorable checkpoint, compare the
// HDFS checksum with the same file on the other side, and say how many were
// compared, how many could not be (no checksum on one side, or different
// algorithms because of other block sizes), which files are missing on the
// other side (normal for the source, where Flink deletes subsumed files), and
// which differ (the checkpoint is then reported broken).

import PQueue from "p-queue";
import type { Config } from "../config/load.js";
import { METADATA_FILE } from "./layout.js";
import { rootFor } from "./locations.js";
import type { ReplicationSide } from "./sides.js";
import type { UnitVerdict } from "./verify.js";
import { joinPath, type ReadOnlyStorage } from "../storage/types.js";
import { errorMessage } from "../util/errors.js";
import type { Side } from "./failures.js";

export interface DeepStats {
  /** Files whose checksums were compared (equal or not). */
  compared: number;
  /** Files with no comparable checksum (local side, different block sizes). */
  incomparable: number;
  /** Counterpart paths that do not exist on the other side. */
  missingOnOtherSide: string[];
  /** Files whose checksums differ. */
  mismatched: string[];
  /** Files whose comparison failed (the other side could not be read). */
  failed: string[];
}

export function emptyDeepStats(): DeepStats {
  return { compared: 0, incomparable: 0, missingOnOtherSide: [], mismatched: [], failed: [] };
}

/** `side` is the verified side's bundle (its catalog already holds the _metadata verify read). */
export async function compareWithOtherSide(
  verdicts: UnitVerdict[],
  o: { config: Config; side: ReplicationSide; counterpart: ReadOnlyStorage },
  stats: DeepStats,
): Promise<void> {
  const side = o.side.name;
  const other: Side = side === "target" ? "source" : "target";
  const { locator, catalog, storage } = o.side;
  const queue = new PQueue({ concurrency: o.config.scan.listConcurrency });
  const done = new Map<string, Promise<string | null>>(); // path -> problem (shared files are compared once)
  for (const v of verdicts) {
    if (v.state !== "restorable") continue;
    const entry = await storage.stat(joinPath(v.dir, METADATA_FILE));
    if (entry === null) continue;
    const view = await catalog.view(v.dir, entry);
    if (view.state !== "complete") continue;
    const checks: Promise<string | null>[] = [];
    for (const ref of view.references) {
      const path = locator.pathOf(ref.location);
      const pair = path === null ? null : rootFor(path, o.config.paths, side);
      if (path === null || pair === null) continue;
      let check = done.get(path);
      if (!check) {
        const counterpartPath = `${pair[other]}${path.slice(pair[side].length)}`;
        check = queue.add(() => compareOne(path, counterpartPath, { storage, counterpart: o.counterpart }, stats)) as Promise<string | null>;
        done.set(path, check);
      }
      checks.push(check);
    }
    const problems = (await Promise.all(checks)).filter((p): p is string => p !== null);
    if (problems.length > 0) {
      v.state = "broken";
      v.problems.push(...problems);
    }
  }
}

async function compareOne(
  path: string,
  counterpartPath: string,
  o: { storage: ReadOnlyStorage; counterpart: ReadOnlyStorage },
  stats: DeepStats,
): Promise<string | null> {
  try {
    const there = await o.counterpart.stat(counterpartPath);
    if (there === null) {
      stats.missingOnOtherSide.push(counterpartPath);
      return null;
    }
    const [mine, theirs] = await Promise.all([o.storage.checksum(path), o.counterpart.checksum(counterpartPath)]);
    if (mine === null || theirs === null || mine.split(":")[0] !== theirs.split(":")[0]) {
      stats.incomparable++;
      return null;
    }
    stats.compared++;
    if (mine === theirs) return null;
    stats.mismatched.push(path);
    return `${path}: checksum ${mine} differs from ${counterpartPath} (${theirs})`;
  } catch (err) {
    stats.failed.push(path);
    return `${path}: checksum comparison failed: ${errorMessage(err)}`;
  }
}

export function formatDeep(s: DeepStats, other: Side): string {
  const lines = [
    `deep: compared ${s.compared} checksum(s) with the ${other}; ${s.mismatched.length} differ, ${s.incomparable} not comparable, ` +
      `${s.missingOnOtherSide.length} file(s) missing on the ${other}${other === "source" && s.missingOnOtherSide.length > 0 ? " (subsumed there: normal)" : ""}`,
  ];
  for (const p of s.missingOnOtherSide.slice(0, 20)) lines.push(`  missing on the ${other}: ${p}`);
  if (s.missingOnOtherSide.length > 20) lines.push(`  ... ${s.missingOnOtherSide.length - 20} more`);
  return `${lines.join("\n")}\n`;
}
