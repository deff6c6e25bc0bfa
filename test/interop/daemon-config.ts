// The daemon configuration every real-stack scenario starts from: hdfs1's
// NameNodes as the source (as the harness's root user), a target block given
// by the scenario (hdfs2, or a bucket), its roots, and the loop settings the
// harness's timings are written for (1 s scans, 4 copies, retain 1..3, 30 s
// temporaries' grace). A scenario changes only what it names.

import { writeFileSync } from "node:fs";

export interface InteropDaemonConfig {
  sourceNamenodes: string[];
  /** The target side's YAML mapping body (indented by two spaces), e.g. its name, namenodes and uri. */
  target: string;
  paths: Array<{ source: string; target: string }>;
  leaseTtl: string;
  /** copy.bandwidth; absent: unlimited. */
  bandwidth?: string;
}

/** The connection settings both sides get: the MiniDFSCluster's answers are fast, its restarts are not. */
export const SIDE_TIMING = `  requestTimeout: 10s
  retry: { attempts: 4, baseDelay: 100ms, maxDelay: 1s }`;

export function writeInteropDaemonConfig(file: string, c: InteropDaemonConfig): void {
  writeFileSync(file, `source:
  name: hdfs1
  namenodes: [${c.sourceNamenodes.map((n) => `"${n}"`).join(", ")}]
  uri: hdfs://hdfs1
  user: root
${SIDE_TIMING}
target:
${c.target}
${SIDE_TIMING}
paths:
${c.paths.map((p) => `  - { source: ${p.source}, target: ${JSON.stringify(p.target)} }`).join("\n")}
scan:
  interval: 1s
copy:
  concurrency: 4
${c.bandwidth !== undefined ? `  bandwidth: ${c.bandwidth}\n` : ""}retain:
  min: 1
  max: 3
reap:
  tempGrace: 30s
lease:
  ttl: ${c.leaseTtl}
metrics: false
log:
  level: info
`);
}
