// `ckpt-replicator inspect FILE [--json]`: summarises a Flink `_metadata` file
// (version, checkpoint id, kind, operators, handle counts, inline bytes and the
// files it references). The bytes source is pluggable (local files by default).

import type { Writable } from "node:stream";
import { isRemoteLocation, remoteMetadataSource } from "../remote-metadata.js";
import type { CommandModule } from "yargs";
import {
  checkpointKind,
  checkpointPropertiesOf,
  handleTypeCounts,
  inlineStateSummary,
  parseMetadata,
  referenceClosure,
  referencedCheckpoints,
  directoryOf,
  localMetadataSource,
  type CheckpointPropertiesInfo,
  type FileReference,
  type MetadataSource,
} from "../../flink/index.js";

export interface InspectReport {
  file: string;
  /** Base for relative paths: the directory holding the file. */
  directory: string;
  version: number;
  /** A number, or a decimal string if it exceeds 2^53. */
  checkpointId: number | string;
  kind: "checkpoint" | "savepoint" | "unknown";
  properties?: CheckpointPropertiesInfo;
  layout: { channels: string; changelog: string };
  operators: {
    operatorId: string;
    name?: string;
    uid?: string;
    parallelism: number;
    maxParallelism: number;
    subtaskStates: number;
    finishedSubtasks: number;
    fullyFinished: boolean;
    coordinatorStateBytes: number;
  }[];
  handleCounts: Record<string, number>;
  inline: { handles: number; bytes: number };
  files: { path: string; location: string; relative: boolean; size: number; shared: boolean; usedBy: string[] }[];
  /** Older checkpoints this one depends on (format version 7). */
  referencedCheckpoints: (number | string)[];
}

const jsonNumber = (n: bigint): number | string => (n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString());

export async function inspectMetadata(file: string, source: MetadataSource = localMetadataSource): Promise<InspectReport> {
  const md = parseMetadata(await source(file));
  const directory = directoryOf(file);
  const properties = checkpointPropertiesOf(md);
  return {
    file,
    directory,
    version: md.version,
    checkpointId: jsonNumber(md.checkpointId),
    kind: checkpointKind(md),
    ...(properties ? { properties } : {}),
    layout: { ...md.layout },
    operators: md.operators.map((op) => ({
      operatorId: op.operatorId,
      ...(op.name !== undefined ? { name: op.name, uid: op.uid } : {}),
      parallelism: op.parallelism,
      maxParallelism: op.maxParallelism,
      subtaskStates: op.subtasks.filter((s) => s.state !== null).length,
      finishedSubtasks: op.subtasks.filter((s) => s.state === null).length,
      fullyFinished: op.finishedMarker !== undefined,
      coordinatorStateBytes: op.coordinatorState?.type === "inline" ? op.coordinatorState.data.length : 0,
    })),
    handleCounts: handleTypeCounts(md),
    inline: inlineStateSummary(md),
    files: referenceClosure(md, directory).map((f: FileReference) => ({
      path: f.storedPath,
      location: f.location,
      relative: f.relative,
      size: f.size,
      shared: f.shared,
      usedBy: f.usedBy,
    })),
    referencedCheckpoints: referencedCheckpoints(md).map(jsonNumber),
  };
}

export function formatInspectReport(r: InspectReport): string {
  const lines: string[] = [];
  const p = r.properties;
  const kindDetail = p ? ` (${[p.name, p.formatType, p.sharingFilesStrategy].filter(Boolean).join(", ")})` : " (not recorded before format version 4)";
  lines.push(`file:           ${r.file}`);
  lines.push(`format version: ${r.version}`);
  lines.push(`checkpoint id:  ${r.checkpointId}`);
  lines.push(`kind:           ${r.kind}${kindDetail}`);
  if (r.layout.channels !== "flink-1.12+" || r.layout.changelog !== "flink-1.15+") {
    lines.push(`layout:         channels ${r.layout.channels}, changelog ${r.layout.changelog}`);
  }
  lines.push(`operators:      ${r.operators.length}`);
  for (const op of r.operators) {
    const label = op.name ? ` ${op.name}${op.uid ? ` [uid ${op.uid}]` : ""}` : "";
    const state = op.fullyFinished ? "finished" : `${op.subtaskStates} subtask states${op.finishedSubtasks ? `, ${op.finishedSubtasks} finished` : ""}`;
    const coordinator = op.coordinatorStateBytes ? `, coordinator ${op.coordinatorStateBytes} B` : "";
    lines.push(`  ${op.operatorId}${label}: parallelism ${op.parallelism}/${op.maxParallelism}, ${state}${coordinator}`);
  }
  lines.push("handles:");
  for (const [name, count] of Object.entries(r.handleCounts).sort()) lines.push(`  ${name} x${count}`);
  lines.push(`inline state:   ${r.inline.handles} handles, ${r.inline.bytes} bytes`);
  const shared = r.files.filter((f) => f.shared).length;
  const totalBytes = r.files.reduce((n, f) => n + Math.max(0, f.size), 0);
  lines.push(`files:          ${r.files.length} (${shared} shared, ${r.files.length - shared} exclusive; ${totalBytes} bytes)`);
  for (const f of r.files) {
    lines.push(`  ${f.relative ? "relative" : "absolute"}\t${f.shared ? "shared" : "exclusive"}\t${f.size}\t${f.path}`);
  }
  if (r.referencedCheckpoints.length > 0) lines.push(`depends on checkpoints: ${r.referencedCheckpoints.join(", ")}`);
  return lines.join("\n") + "\n";
}

export interface InspectCommandArgs {
  file: string;
  json?: boolean;
}

export async function runInspectCommand(args: InspectCommandArgs, context: { stdout?: Writable; source?: MetadataSource } = {}): Promise<void> {
  const report = await inspectMetadata(args.file, context.source);
  const stdout = context.stdout ?? process.stdout;
  stdout.write(args.json ? JSON.stringify(report, null, 2) + "\n" : formatInspectReport(report));
}

export const inspectCommand: CommandModule<object, { file: string; json: boolean; config?: string; namenode?: string[]; user?: string }> = {
  command: "inspect <file>",
  describe: "Summarise a Flink _metadata file (version, kind, operators, handles, referenced files)",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "Local path, or hdfs:// / webhdfs:// URI, of the _metadata file" })
      .option("json", { type: "boolean", default: false, describe: "Print the summary as JSON" })
      .option("config", { type: "string", describe: "For hdfs:// URIs: the replicator config whose clusters to read from" })
      .option("namenode", { type: "string", array: true, describe: "For hdfs:// URIs: NameNode HTTP URL (repeatable for HA)" })
      .option("user", { type: "string", describe: "For hdfs:// URIs: user.name" }),
  handler: async (argv) => {
    const source = isRemoteLocation(argv.file) ? remoteMetadataSource({ config: argv.config, namenode: argv.namenode, user: argv.user }) : undefined;
    await runInspectCommand({ file: argv.file, json: argv.json }, source ? { source } : {});
  },
};
