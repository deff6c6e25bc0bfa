// Reads shared/fixtures/flink-metadata/MANIFEST.md into per-folder expectations
// (format version, checkpoint id, properties, inline totals, handle types and
// the reference list) for the fixture tests.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ManifestFile {
  relative: boolean;
  shared: boolean;
  size: number;
  path: string;
}

export interface ManifestEntry {
  folder: string;
  version: number;
  checkpointId: number;
  /** "key=value" pairs of the checkpoint-properties row (versions 4+). */
  properties?: Record<string, string>;
  inline: { handles: number; bytes: number };
  handleTypes: Record<string, number>;
  files: ManifestFile[];
}

function row(section: string, field: string): string | undefined {
  const line = section.split("\n").find((l) => l.startsWith(`| ${field}`));
  return line?.split("|")[2]?.trim();
}

export function readManifest(fixturesDir: string): ManifestEntry[] {
  const text = readFileSync(join(fixturesDir, "MANIFEST.md"), "utf8");
  const sections = text.split(/^## /m).slice(1);
  return sections.map((section) => {
    const folder = /^`([^`]+)\/`/.exec(section)?.[1];
    if (!folder) throw new Error(`MANIFEST section without folder: ${section.slice(0, 60)}`);
    const inlineRow = /(\d+) handles, (\d+) bytes/.exec(row(section, "inline byte-stream handles") ?? "");
    const handleTypes: Record<string, number> = {};
    for (const m of (row(section, "handle types (non-null)") ?? "").matchAll(/([\w()]+) x(\d+)/g)) handleTypes[m[1]!] = Number(m[2]);
    const propertiesRow = [...section.split("\n")].find((l) => l.startsWith("| checkpoint properties"))?.split("|")[2];
    const properties = propertiesRow
      ? Object.fromEntries([...propertiesRow.matchAll(/(\w+)=([^,;]+)/g)].map((m) => [m[1]!, m[2]!.trim()]))
      : undefined;
    const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const files = block
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const [kind, scope, size, path] = l.split("\t");
        return { relative: kind === "relative", shared: scope === "shared", size: Number(size), path: path! };
      });
    return {
      folder,
      version: Number(row(section, "format version (header)")),
      checkpointId: Number(row(section, "checkpoint id")),
      properties,
      inline: { handles: Number(inlineRow?.[1] ?? NaN), bytes: Number(inlineRow?.[2] ?? NaN) },
      handleTypes,
      files,
    };
  });
}
