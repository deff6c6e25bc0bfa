// Every real `_metadata` fixture: parses to its last byte, round-trips byte for
// byte, and its reference closure, inline totals, handle types and properties
// match MANIFEST.md; relative references exist next to it with the right size.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeWithShared } from "../helpers/shared.js";
import {
  checkpointKind,
  checkpointPropertiesOf,
  encodeCheckpointProperties,
  handleTypeCounts,
  inlineStateSummary,
  parseMetadata,
  referenceClosure,
  serializeMetadata,
  type CheckpointPropertiesSpec,
} from "../../src/flink/index.js";
import { readManifest } from "./manifest.js";

describeWithShared("Flink metadata fixtures", (shared) => {
  const root = join(shared, "fixtures", "flink-metadata");
  const entries = readManifest(root);

  it("MANIFEST.md lists every fixture folder", () => {
    const folders = readdirSync(root).filter((f) => statSync(join(root, f)).isDirectory());
    expect(entries.map((e) => e.folder).sort()).toEqual(folders.sort());
    expect(entries.length).toBeGreaterThanOrEqual(20);
  });

  for (const entry of entries) {
    describe(entry.folder, () => {
      const dir = join(root, entry.folder);
      const bytes = readFileSync(join(dir, "_metadata"));

      it("parses with the recorded version and id and re-serializes to identical bytes", () => {
        const md = parseMetadata(bytes);
        expect(md.version).toBe(entry.version);
        expect(Number(md.checkpointId)).toBe(entry.checkpointId);
        expect(serializeMetadata(md).equals(bytes)).toBe(true);
      });

      it("has the reference closure, inline totals and handle types of MANIFEST.md", () => {
        const md = parseMetadata(bytes);
        const closure = referenceClosure(md, dir);
        const actual = closure.map((f) => ({ relative: f.relative, shared: f.shared, size: f.size, path: f.storedPath }));
        const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
        expect(actual.sort(byPath)).toEqual([...entry.files].sort(byPath));
        for (const f of closure) expect(f.location).toBe(f.relative ? join(dir, f.storedPath) : f.storedPath);
        expect(inlineStateSummary(md)).toEqual(entry.inline);
        expect(handleTypeCounts(md)).toEqual(entry.handleTypes);
      });

      const siblings = readdirSync(dir).filter((f) => f !== "_metadata");
      if (siblings.length > 0) {
        it("every relative reference exists next to _metadata with the recorded size", () => {
          const relative = referenceClosure(parseMetadata(bytes), dir).filter((f) => f.relative);
          expect(relative.length).toBeGreaterThan(0);
          for (const f of relative) expect({ path: f.storedPath, size: statSync(f.location).size }).toEqual({ path: f.storedPath, size: f.size });
        });
      }

      if (entry.properties) {
        const expected = entry.properties;
        it("decodes the properties trailer, and encoding those properties gives the same bytes", () => {
          const md = parseMetadata(bytes);
          const info = checkpointPropertiesOf(md)!;
          expect(checkpointKind(md)).toBe(info.snapshotTypeClass.endsWith("SavepointType") ? "savepoint" : "checkpoint");
          expect(checkpointKind(md)).toBe(expected.name!.includes("Savepoint") ? "savepoint" : "checkpoint");
          expect(info.name).toBe(expected.name);
          for (const key of ["formatType", "postCheckpointAction", "sharingFilesStrategy"] as const) {
            expect(info[key]).toBe(expected[key]);
          }
          expect(info.flags.forced).toBe(expected.forced === "True");
          expect(info.flags.discardSubsumed).toBe(expected.discardSubsumed === "True");
          const spec: CheckpointPropertiesSpec =
            info.kind === "savepoint"
              ? { kind: "savepoint", name: info.name as never, formatType: info.formatType as never, postCheckpointAction: info.postCheckpointAction as never, flags: info.flags }
              : { kind: "checkpoint", name: info.name as never, sharingFilesStrategy: info.sharingFilesStrategy as never, flags: info.flags };
          expect(encodeCheckpointProperties(spec).equals(Buffer.from(md.propertiesTrailer!))).toBe(true);
        });
      } else {
        it("has no properties trailer (format version < 4), so its kind is unknown", () => {
          const md = parseMetadata(bytes);
          expect(md.propertiesTrailer).toBeUndefined();
          expect(checkpointKind(md)).toBe("unknown");
        });
      }
    });
  }
});
