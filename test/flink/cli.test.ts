// The `inspect` and `rewrite-metadata` command handlers: inspect --json agrees
// with MANIFEST.md, malformed input raises a MetadataFormatError naming offset and
// structure path, and rewrite-metadata writes OUT atomically (or not at all).

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import yargs from "yargs";
import { describeWithShared } from "../helpers/shared.js";
import { inspectCommand, runInspectCommand } from "../../src/cli/commands/inspect.js";
import { rewriteMetadataCommand, runRewriteMetadataCommand } from "../../src/cli/commands/rewrite-metadata.js";
import { buildCheckpointMetadata, directoryOf, MetadataFormatError, parseMetadata, PathRewriteError, serializeMetadata } from "../../src/flink/index.js";
import { UsageError } from "../../src/util/errors.js";
import { readManifest } from "./manifest.js";

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

const work = mkdtempSync(join(tmpdir(), "ckpt-flink-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("directoryOf", () => {
  it.each([
    ["/a/b/_metadata", "/a/b"],
    ["/_metadata", "/"],
    ["_metadata", "."],
    ["hdfs://ns1/cp/job/chk-1/_metadata", "hdfs://ns1/cp/job/chk-1"],
    ["hdfs:/_metadata", "hdfs:/"],
  ])("%s -> %s", (location, dir) => expect(directoryOf(location)).toBe(dir));
});

describeWithShared("inspect command", (shared) => {
  const root = join(shared, "fixtures", "flink-metadata");
  for (const entry of readManifest(root)) {
    it(`--json for ${entry.folder} agrees with MANIFEST.md`, async () => {
      const out = capture();
      const file = join(root, entry.folder, "_metadata");
      await runInspectCommand({ file, json: true }, { stdout: out.stream });
      const report = JSON.parse(out.text()) as {
        version: number;
        checkpointId: number;
        kind: string;
        files: { path: string; location: string; relative: boolean; size: number; shared: boolean }[];
        inline: { handles: number; bytes: number };
      };
      expect(report.version).toBe(entry.version);
      expect(report.checkpointId).toBe(entry.checkpointId);
      expect(report.inline).toEqual(entry.inline);
      const files = report.files.map(({ path, relative, size, shared }) => ({ path, relative, size, shared }));
      const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
      expect(files.sort(byPath)).toEqual([...entry.files].sort(byPath));
      for (const f of report.files) if (f.relative) expect(f.location).toBe(join(root, entry.folder, f.path));
      if (entry.properties) expect(report.kind).toBe(entry.properties.name!.includes("Savepoint") ? "savepoint" : "checkpoint");
      else expect(report.kind).toBe("unknown");
    });
  }

  it("human output lists version, id, kind, operators, handles, inline bytes and files", async () => {
    const out = capture();
    await runInspectCommand({ file: join(root, "flink-2.0-snapshot-table-savepoint", "_metadata") }, { stdout: out.stream });
    const text = out.text();
    expect(text).toMatch(/^format version: 5$/m);
    expect(text).toMatch(/^checkpoint id:  1$/m);
    expect(text).toMatch(/^kind:           savepoint \(Suspend Savepoint, CANONICAL\)$/m);
    expect(text).toMatch(/^operators:      7$/m);
    expect(text).toContain("OverAggregate[6] [uid 6_over-aggregate]");
    expect(text).toMatch(/^ {2}KeyGroupsSavepointStateHandle x1$/m);
    expect(text).toMatch(/^inline state:   4 handles, 24793 bytes$/m);
    expect(text).toMatch(/^files:          0 /m);
  });

  it("a truncated file raises MetadataFormatError with the byte offset and structure path", async () => {
    const bytes = readFileSync(join(root, "flink-1.15-hashmap-checkpoint", "_metadata"));
    const broken = join(work, "truncated_metadata");
    writeFileSync(broken, bytes.subarray(0, 300));
    const err = await runInspectCommand({ file: broken, json: true }, { stdout: capture().stream }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetadataFormatError);
    expect((err as MetadataFormatError).kind).toBe("metadata-format");
    // Byte 283 is the stateHandleId of operator 1's first subtask entry (spec section 16).
    expect((err as Error).message).toBe(
      "invalid Flink metadata at byte 283 (operators[1]/subtasks[0]/managedKeyedState/stateHandleId): " +
        "a modified UTF-8 string (38 bytes), but only 17 bytes remain",
    );
    expect(err).toMatchObject({ offset: 283, structurePath: "operators[1]/subtasks[0]/managedKeyedState/stateHandleId" });
    expect((err as Error).message).not.toContain("\n");
  });

  it("a file that is not Flink metadata names the magic number", async () => {
    const notMetadata = join(work, "not_metadata");
    writeFileSync(notMetadata, "hello world, not a checkpoint");
    await expect(runInspectCommand({ file: notMetadata }, { stdout: capture().stream })).rejects.toThrow(
      "invalid Flink metadata at byte 0 (magic): the magic number 0x4960672d of a Flink _metadata file, found 0x68656c6c",
    );
  });

  it("the bytes source is pluggable (e.g. WebHDFS later)", async () => {
    const bytes = readFileSync(join(root, "flink-1.19-rocksdb-checkpoint", "_metadata"));
    const out = capture();
    const source = vi.fn(async () => bytes);
    await runInspectCommand({ file: "hdfs://ns1/flink/cp/job/chk-1/_metadata", json: true }, { stdout: out.stream, source });
    expect(source).toHaveBeenCalledWith("hdfs://ns1/flink/cp/job/chk-1/_metadata");
    const report = JSON.parse(out.text()) as { files: { location: string }[] };
    expect(report.files.length).toBe(50);
    expect(report.files.every((f) => f.location.startsWith("hdfs://ns1/flink/cp/job/chk-1/"))).toBe(true);
  });
});

describe("rewrite-metadata command", () => {
  const md = buildCheckpointMetadata({
    version: 3,
    checkpointId: 12,
    operators: [
      {
        operatorId: "0123456789abcdef0123456789abcdef",
        parallelism: 1,
        subtasks: [
          {
            index: 0,
            keyed: { kind: "keyGroups", keyGroups: { start: 0, count: 1 }, file: { absolute: "hdfs://ns1/flink/cp/job/chk-12/kg", size: 50 } },
            operatorState: { states: [{ name: "s", offsets: [0] }], file: { absolute: "hdfs://other/x", size: 5 } },
          },
        ],
      },
    ],
  });
  const input = join(work, "in_metadata");
  writeFileSync(input, serializeMetadata(md));

  it("writes OUT with rewritten paths and reports unmatched ones", async () => {
    const output = join(work, "out_metadata");
    const out = capture();
    await runRewriteMetadataCommand({ input, output, maps: ["hdfs://ns1/flink=hdfs://dr/flink"] }, { stdout: out.stream });
    const back = parseMetadata(readFileSync(output));
    expect(back.operators[0]!.subtasks[0]!.state!.managedKeyedState).toMatchObject({ delegate: { filePath: "hdfs://dr/flink/cp/job/chk-12/kg" } });
    expect(out.text()).toContain("rewrote 1 path(s)");
    expect(out.text()).toContain("  hdfs://other/x");
    expect(readdirSync(work).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("--strict fails without creating OUT", async () => {
    const output = join(work, "strict_out");
    await expect(
      runRewriteMetadataCommand({ input, output, maps: ["hdfs://ns1/flink=hdfs://dr/flink"], strict: true }, { stdout: capture().stream }),
    ).rejects.toBeInstanceOf(PathRewriteError);
    expect(readdirSync(work)).not.toContain("strict_out");
  });

  it("an ambiguous map is a UsageError before anything is read", async () => {
    const source = vi.fn();
    await expect(
      runRewriteMetadataCommand({ input, output: join(work, "x"), maps: ["hdfs://a=hdfs://t", "hdfs://a=hdfs://u"] }, { source }),
    ).rejects.toBeInstanceOf(UsageError);
    expect(source).not.toHaveBeenCalled();
  });

  it("parses repeated --map options through yargs", async () => {
    const output = join(work, "yargs_out");
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await yargs(["rewrite-metadata", input, output, "--map", "hdfs://ns1/flink=hdfs://dr/flink", "--map", "hdfs://other=hdfs://dr/other", "--strict"])
        .command(rewriteMetadataCommand)
        .command(inspectCommand)
        .strict()
        .fail((msg, err) => {
          throw err ?? new Error(msg);
        })
        .parseAsync();
    } finally {
      write.mockRestore();
    }
    const back = parseMetadata(readFileSync(output));
    expect(back.operators[0]!.subtasks[0]!.state!.managedOperatorState[0]).toMatchObject({ delegate: { filePath: "hdfs://dr/other/x" } });
  });
});
