// The catalog's compact form of a checkpoint's references (closure-files.ts):
// what the engine plans and verifies from is the same as the parsed closure
// (every location, size and shared flag, in order), across directories,
// relative references and unknown sizes.

import { describe, expect, it } from "vitest";
import { buildCheckpointMetadata, parseMetadata, referenceClosure, serializeMetadata } from "../../src/flink/index.js";
import { ClosureFiles } from "../../src/replication/closure-files.js";

describe("ClosureFiles", () => {
  it("yields every reference of a parsed checkpoint as the closure has it", () => {
    const md = buildCheckpointMetadata({
      version: 4,
      checkpointId: 7,
      operators: [
        {
          operatorId: "0123456789abcdef0123456789abcdef",
          parallelism: 2,
          maxParallelism: 4,
          subtasks: [0, 1].map((s) => ({
            index: s,
            keyed: {
              kind: "incremental" as const,
              keyGroups: { start: s * 2, count: 2 },
              meta: { absolute: `hdfs://nn/flink/job/chk-7/meta-${s}-a-rather-long-file-name`, size: 10 + s },
              shared: Array.from({ length: 3 }, (_, i) => ({ localPath: `${i}.sst`, file: { absolute: `hdfs://nn/flink/job/shared/${s}-${i}-0f3c2a6e-2d4b-4c1e-9b7a-5e8f1d2c3b4a`, size: 100 * i } })),
              private: [{ localPath: "MANIFEST", file: { relative: `x-${s}`, size: 5 } }],
            },
          })),
        },
      ],
    });
    const closure = referenceClosure(parseMetadata(serializeMetadata(md)), "hdfs://nn/flink/job/chk-7");
    const compact = new ClosureFiles(closure);
    expect(compact.length).toBe(closure.length);
    expect([...compact]).toEqual(closure.map((r) => ({ location: r.location, size: r.size, shared: r.shared })));
    expect(compact.bytes).toBe(closure.reduce((n, r) => n + Math.max(0, r.size), 0));
  });

  it("counts unknown sizes as 0 bytes and keeps locations in several directories apart", () => {
    const refs = [
      { location: "s3://b/a/x", size: -1, shared: true },
      { location: "s3://b/b/x", size: 3, shared: false },
      { location: "s3://b/a/y", size: 4, shared: false },
    ];
    const compact = new ClosureFiles(refs);
    expect([...compact]).toEqual(refs);
    expect(compact.bytes).toBe(7);
    expect([...new ClosureFiles([])]).toEqual([]);
  });
});
