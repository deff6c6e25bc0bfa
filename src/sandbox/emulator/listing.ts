// LISTSTATUS and LISTSTATUS_BATCH bodies. LISTSTATUS is streamed with the
// NameNode's exact layout (`{"FileStatuses":{"FileStatus":[` newline, entries
// separated by `,` newline, newline `]}}` newline); LISTSTATUS_BATCH pages by
// child name in byte order with an exact remainingEntries count.

import type { ServerResponse } from "node:http";
import { fileStatusJson, firstIndexAfter, sortedChildNames, type Inode } from "./inode.js";
import { sendJson, startStreamedJson, writeWithBackpressure } from "./http-wire.js";

const LIST_HEAD = '{"FileStatuses":{"FileStatus":[\n';
const LIST_TAIL = '\n]}}\n';
/** Entries rendered per write while streaming (the NN's internal page, dfs.ls.limit). */
const STREAM_PAGE = 1000;

/** Streams a LISTSTATUS answer for a directory (or the single-entry answer for a file). */
export async function streamListStatus(res: ServerResponse, target: Inode): Promise<void> {
  startStreamedJson(res);
  res.write(LIST_HEAD);
  if (target.type === "FILE") {
    res.write(fileStatusJson(target, ""));
  } else {
    const names = sortedChildNames(target); // a replaced (not mutated) array: safe to iterate while the dir changes
    for (let start = 0; start < names.length; start += STREAM_PAGE) {
      const parts: string[] = [];
      for (const name of names.slice(start, start + STREAM_PAGE)) {
        const child = target.children.get(name);
        if (child !== undefined) parts.push(fileStatusJson(child, name));
      }
      if (parts.length === 0) continue;
      await writeWithBackpressure(res, (start > 0 ? ",\n" : "") + parts.join(",\n"));
      if (res.destroyed) return;
    }
  }
  res.end(LIST_TAIL);
}

/** Answers one LISTSTATUS_BATCH page of at most `pageSize` entries after `startAfter`. */
export function sendListStatusBatch(res: ServerResponse, target: Inode, startAfter: string, pageSize: number): void {
  let entries: string[];
  let remaining = 0;
  if (target.type === "FILE") {
    entries = [fileStatusJson(target, "")];
  } else {
    const names = sortedChildNames(target);
    const from = startAfter === "" ? 0 : firstIndexAfter(names, startAfter);
    const page = names.slice(from, from + pageSize);
    entries = page.flatMap((name) => {
      const child = target.children.get(name);
      return child === undefined ? [] : [fileStatusJson(child, name)];
    });
    remaining = Math.max(0, names.length - from - page.length);
  }
  const body = `{"DirectoryListing":{"partialListing":{"FileStatuses":{"FileStatus":[${entries.join(",")}]}},"remainingEntries":${remaining}}}`;
  sendJson(res, "namenode", 200, body);
}
