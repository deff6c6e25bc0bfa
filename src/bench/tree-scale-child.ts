// Child-process entry of the tree-scale benchmark (node tree-scale-child.js
// <namenode> <root>): scans one generated tree cold, then warm a few times,
// with the daemon's TreeScanner over WebHDFS, in a process of its own so its
// peak RSS is the scanner's alone, and sends the figures to the parent over IPC.

import { TreeScanner, type TreeSnapshot } from "../replication/scan.js";
import { WebHdfsStorage } from "../storage/webhdfs.js";
import { WebHdfsClient } from "../webhdfs/index.js";
import { countingStorage, peakRssDuring, timed } from "./measure.js";

/** The one message the child sends its parent. */
export interface TreeScaleFigures {
  files: number;
  coldMs: number;
  coldRequests: number;
  warmMs: number;
  warmRequests: number;
  peakRss: number;
  /** RSS before the first scan (the process's own baseline). */
  startRss: number;
}

const [namenode, root, repeatsText] = process.argv.slice(2);
if (namenode === undefined || root === undefined || process.send === undefined) {
  process.stderr.write("usage: node tree-scale-child.js <namenode> <root> [warm repeats] (started by the benchmark harness)\n");
  process.exit(2);
}
const repeats = Number(repeatsText ?? 3);
const client = new WebHdfsClient({ name: "hdfs1", namenodes: [namenode], user: "replicator", requestTimeoutMs: 120_000 });
const counted = countingStorage(new WebHdfsStorage(client));
// NameNode requests: a listing is one LISTSTATUS_BATCH page per 1,000 entries (HDFS's dfs.ls.limit default).
let pages = 0;
const storage = {
  ...counted.storage,
  list: async (path: string) => {
    const entries = await counted.storage.list(path);
    pages += Math.max(1, Math.ceil((entries?.length ?? 0) / 1000));
    return entries;
  },
};
const requests = () => pages + (counted.calls.get("stat") ?? 0);
const scanner = new TreeScanner({ storage, roots: [root], listConcurrency: 8, fullRescanEvery: 1_000_000 });
const startRss = process.memoryUsage.rss();
const { result, peakRss } = await peakRssDuring(async () => {
  const cold = await timed(() => scanner.scan());
  const coldRequests = requests();
  let snapshot: TreeSnapshot = cold.result;
  let warmMs = 0;
  for (let i = 0; i < repeats; i++) {
    const warm = await timed(() => scanner.scan());
    warmMs += warm.ms;
    snapshot = warm.result;
  }
  const files = [...snapshot.jobs.values()].reduce((n, j) => n + j.sharedFiles.size, 0);
  return { files, coldMs: cold.ms, coldRequests, warmMs: warmMs / repeats, warmRequests: (requests() - coldRequests) / repeats };
}, 50);
client.close();
process.send({ ...result, peakRss, startRss } satisfies TreeScaleFigures, () => process.disconnect());
