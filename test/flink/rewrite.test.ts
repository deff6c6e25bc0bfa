// Path-map rules and `_metadata` path rewriting: longest prefix on segment
// boundaries, rejected ambiguous maps, strict mode, relative paths untouched,
// A->B->A identity and the re-parse check of the result.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeWithShared } from "../helpers/shared.js";
import {
  buildCheckpointMetadata,
  invertPathMap,
  mapPath,
  parseMetadata,
  parsePathMap,
  PathRewriteError,
  referenceClosure,
  rewriteMetadataPaths,
  serializeMetadata,
  verifyRewrittenClosure,
} from "../../src/flink/index.js";
import { UsageError } from "../../src/util/errors.js";

describe("parsePathMap / mapPath", () => {
  it("matches on path-segment boundaries only", () => {
    const map = parsePathMap(["hdfs://ns1/flink=hdfs://dr/flink"]);
    expect(mapPath(map, "hdfs://ns1/flink/cp/x")).toBe("hdfs://dr/flink/cp/x");
    expect(mapPath(map, "hdfs://ns1/flink")).toBe("hdfs://dr/flink");
    expect(mapPath(map, "hdfs://ns1/flink2/cp/x")).toBeNull();
    expect(mapPath(map, "hdfs://ns1/flin")).toBeNull();
    expect(mapPath(map, "hdfs://nn:8020/flink/cp")).toBeNull(); // exact string form, no URI normalisation
  });

  it("ignores a trailing slash on either side", () => {
    const map = parsePathMap(["hdfs://ns1/flink/=hdfs://dr/x/"]);
    expect(mapPath(map, "hdfs://ns1/flink/a")).toBe("hdfs://dr/x/a");
  });

  it("maps a root prefix with exactly one slash, and back", () => {
    const map = parsePathMap(["hdfs://ns1/=hdfs://dr/ns1"]);
    expect(mapPath(map, "hdfs://ns1/flink/f")).toBe("hdfs://dr/ns1/flink/f");
    expect(mapPath(invertPathMap(map), "hdfs://dr/ns1/flink/f")).toBe("hdfs://ns1/flink/f");
    expect(mapPath(parsePathMap(["/=/backup"]), "/flink/f")).toBe("/backup/flink/f");
  });

  it("longest source prefix wins", () => {
    const map = parsePathMap(["hdfs://ns1/flink=hdfs://dr/all", "hdfs://ns1/flink/special=hdfs://dr2/special"]);
    expect(mapPath(map, "hdfs://ns1/flink/special/f")).toBe("hdfs://dr2/special/f");
    expect(mapPath(map, "hdfs://ns1/flink/specialist/f")).toBe("hdfs://dr/all/specialist/f");
  });

  it.each([
    [["no-equals"], /is not FROM=TO/],
    [["=hdfs://x"], /is not FROM=TO/],
    [["hdfs://x="], /is not FROM=TO/],
    [["a=b=c"], /more than one "="/],
    [["hdfs://a=hdfs://x", "hdfs://a/=hdfs://y"], /lists hdfs:\/\/a twice/],
    [["hdfs://a=hdfs://x", "hdfs://b=hdfs://x/sub"], /targets .* overlap/],
    [["hdfs://a=hdfs://x", "hdfs://b=hdfs://x"], /targets .* overlap/],
  ])("rejects %j up front", (pairs, message) => {
    expect(() => parsePathMap(pairs)).toThrow(UsageError);
    expect(() => parsePathMap(pairs)).toThrow(message);
  });

  it("accepts sibling targets that only share a string prefix", () => {
    expect(() => parsePathMap(["hdfs://a=hdfs://x/flink", "hdfs://b=hdfs://x/flink2"])).not.toThrow();
  });
});

describe("rewriteMetadataPaths on built metadata", () => {
  const md = buildCheckpointMetadata({
    version: 4,
    checkpointId: 3,
    operators: [
      {
        operatorId: "0123456789abcdef0123456789abcdef",
        parallelism: 1,
        subtasks: [
          {
            index: 0,
            keyed: {
              kind: "incremental",
              keyGroups: { start: 0, count: 128 },
              meta: { relative: "meta-uuid", size: 10 },
              shared: [
                { localPath: "000001.sst", file: { absolute: "hdfs://ns1/flink/cp/job/shared/a", size: 100 } },
                { localPath: "000002.sst", file: { segment: "hdfs://ns1/flink/cp/job/shared/merged", start: 5, size: 20 } },
              ],
              private: [{ localPath: "CURRENT", file: { relative: "cur-uuid", size: 16 } }],
            },
            operatorState: { states: [{ name: "s", offsets: [0] }], file: { absolute: "hdfs://ns1/flink2/elsewhere", size: 7 } },
          },
        ],
      },
    ],
  });
  const bytes = serializeMetadata(md);

  it("rewrites absolute file and segment paths, reports unmatched ones, leaves relative paths alone", () => {
    const map = parsePathMap(["hdfs://ns1/flink=hdfs://dr:8020/backup"]);
    const result = rewriteMetadataPaths(bytes, map);
    expect(result.rewritten).toBe(2);
    expect(result.unmatched).toEqual(["hdfs://ns1/flink2/elsewhere"]);
    const after = referenceClosure(parseMetadata(result.bytes), "hdfs://dr:8020/backup/cp/job/chk-3");
    expect(after.map((f) => [f.storedPath, f.size]).sort()).toEqual(
      [
        ["hdfs://dr:8020/backup/cp/job/shared/a", 100],
        ["hdfs://dr:8020/backup/cp/job/shared/merged", 25],
        ["cur-uuid", 16],
        ["meta-uuid", 10],
        ["hdfs://ns1/flink2/elsewhere", 7],
      ].sort(),
    );
    expect(rewriteMetadataPaths(result.bytes, invertPathMap(map)).bytes.equals(bytes)).toBe(true);
  });

  it("strict mode refuses paths outside the map and names them", () => {
    const map = parsePathMap(["hdfs://ns1/flink=hdfs://dr/backup"]);
    let caught: unknown;
    try {
      rewriteMetadataPaths(bytes, map, { strict: true });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PathRewriteError);
    expect((caught as PathRewriteError).unmatched).toEqual(["hdfs://ns1/flink2/elsewhere"]);
    expect(String((caught as Error).message)).toContain("hdfs://ns1/flink2/elsewhere");
    const full = parsePathMap(["hdfs://ns1/flink=hdfs://dr/backup", "hdfs://ns1/flink2=hdfs://dr/backup2"]);
    expect(rewriteMetadataPaths(bytes, full, { strict: true }).unmatched).toEqual([]);
  });

  it("the re-parse check rejects output whose references differ from the input's", () => {
    const before = referenceClosure(md, "");
    const tampered = structuredClone(md);
    const keyed = tampered.operators[0]!.subtasks[0]!.state!.managedKeyedState;
    if (keyed.type !== "incremental") throw new Error("fixture shape");
    keyed.privateState.pop();
    expect(() => verifyRewrittenClosure(before, serializeMetadata(tampered), (p) => p)).toThrow(PathRewriteError);
    expect(() => verifyRewrittenClosure(before, bytes, (p) => p)).not.toThrow();
    expect(() => verifyRewrittenClosure(before, bytes, (p) => p.replace("ns1", "ns2"))).toThrow(/unexpected file hdfs:\/\/ns1/);
  });

  it("rewrites the directories and segment of file-merging operator state", () => {
    const fm = structuredClone(md);
    fm.operators[0]!.subtasks[0]!.state!.managedOperatorState = [
      {
        type: "operatorStream",
        states: [],
        fileMerging: { taskOwnedDir: "hdfs://ns1/flink/cp/job/taskowned/tm", sharedDir: "hdfs://ns1/flink/cp/job/shared/op", isEmpty: 0 },
        delegate: { type: "segment", startPos: 0n, stateSize: 4n, scope: 0, filePath: "hdfs://ns1/flink/cp/job/taskowned/tm/p", logicalFileId: "l" },
      },
    ];
    const map = parsePathMap(["hdfs://ns1/flink/cp=hdfs://dr/cp"]);
    const result = rewriteMetadataPaths(serializeMetadata(fm), map);
    const handle = parseMetadata(result.bytes).operators[0]!.subtasks[0]!.state!.managedOperatorState[0]!;
    expect(handle).toMatchObject({
      fileMerging: { taskOwnedDir: "hdfs://dr/cp/job/taskowned/tm", sharedDir: "hdfs://dr/cp/job/shared/op" },
      delegate: { filePath: "hdfs://dr/cp/job/taskowned/tm/p" },
    });
    expect(result.rewritten).toBe(2 + 2 + 1);
  });
});

describeWithShared("rewriteMetadataPaths on real fixtures", (shared) => {
  const root = join(shared, "fixtures", "flink-metadata");

  it("real HDFS checkpoint: every absolute path rewritten, A->B->A restores the original bytes", () => {
    const original = readFileSync(join(root, "realworld-flink-1.x-rocksdb-incremental-checkpoint-hdfs", "_metadata"));
    const map = parsePathMap(["hdfs:/user/flink/checkpoints=hdfs://dr-nn:8020/dr/flink/checkpoints"]);
    const result = rewriteMetadataPaths(original, map, { strict: true });
    expect(result.unmatched).toEqual([]);
    expect(result.rewritten).toBe(30);
    expect(result.bytes.length).toBe(original.length + 30 * ("hdfs://dr-nn:8020/dr/flink/checkpoints".length - "hdfs:/user/flink/checkpoints".length));
    const locations = referenceClosure(parseMetadata(result.bytes), "x").map((f) => f.location);
    expect(locations.every((l) => l.startsWith("hdfs://dr-nn:8020/dr/flink/checkpoints/"))).toBe(true);
    expect(rewriteMetadataPaths(result.bytes, invertPathMap(map)).bytes.equals(original)).toBe(true);
  });

  it("a prefix that ends inside a path segment matches nothing", () => {
    const original = readFileSync(join(root, "realworld-flink-1.x-rocksdb-incremental-checkpoint-hdfs", "_metadata"));
    const map = parsePathMap(["hdfs:/user/flink/check=hdfs://x/y"]);
    const result = rewriteMetadataPaths(original, map);
    expect(result.rewritten).toBe(0);
    expect(result.unmatched.length).toBe(30);
    expect(result.bytes.equals(original)).toBe(true);
  });

  it("relative-only checkpoint: nothing to rewrite, bytes unchanged", () => {
    const original = readFileSync(join(root, "flink-1.17-rocksdb-checkpoint-unaligned", "_metadata"));
    const result = rewriteMetadataPaths(original, parsePathMap(["hdfs://ns1/flink=hdfs://dr/flink"]), { strict: true });
    expect(result).toMatchObject({ rewritten: 0, unmatched: [] });
    expect(result.bytes.equals(original)).toBe(true);
  });
});
