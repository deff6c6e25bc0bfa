// The inode tree of one emulated namespace without HDFS semantics: inode ids,
// attaching/detaching children, path resolution with traverse checks, and the
// journal plumbing (every change goes through here so it is recorded once).
// Namespace (namespace.ts) builds the HDFS operations on top of it.

import type { HdfsPath } from "./paths.js";
import {
  ROOT_INODE_ID,
  type DirectoryInode,
  type FileInode,
  type Inode,
  type InodeAttributes,
} from "./inode.js";
import type { JournalRecord, JournalSink, PutRecord } from "./journal.js";
import type { PermissionChecker } from "./permissions.js";

/** Result of walking a path: the target (if present) and its parent directory (if present). */
export interface Resolved {
  readonly path: HdfsPath;
  readonly inode: Inode | undefined;
  /** Parent directory of the target when every ancestor exists and is a directory. */
  readonly parent: DirectoryInode | undefined;
  /** Deepest existing ancestor (a directory, or the file blocking the walk). */
  readonly deepest: Inode;
  /** Number of path components matched by `deepest`. */
  readonly depth: number;
}

export class InodeTree {
  readonly root: DirectoryInode;
  private readonly byId = new Map<number, Inode>();
  private nextId = ROOT_INODE_ID + 1;
  private journal: JournalSink | null = null;

  constructor(
    rootAttributes: InodeAttributes,
    readonly permissions: PermissionChecker,
    private readonly onFileRemoved: (file: FileInode) => void,
  ) {
    this.root = { type: "DIRECTORY", id: ROOT_INODE_ID, name: "", parent: null, children: new Map(), sortedNames: null, ...rootAttributes };
    this.byId.set(this.root.id, this.root);
  }

  /** Starts recording changes (after the journal has been replayed). */
  attachJournal(journal: JournalSink): void {
    this.journal = journal;
  }

  allocateId(): number {
    return this.nextId++;
  }

  isLive(inode: Inode): boolean {
    return this.byId.get(inode.id) === inode;
  }

  /** Walks `path`; checks EXECUTE on every traversed directory for `user` (null: no checks). */
  resolve(path: HdfsPath, user: string | null): Resolved {
    let current: Inode = this.root;
    let depth = 0;
    for (const name of path.components) {
      if (current.type !== "DIRECTORY") break;
      if (user !== null) this.permissions.check(current, pathText(path, depth), user, "EXECUTE");
      const next: Inode | undefined = current.children.get(name);
      if (next === undefined) break;
      current = next;
      depth++;
    }
    const found = depth === path.components.length;
    const parentFound = found ? current.parent : depth === path.components.length - 1 && current.type === "DIRECTORY" ? current : undefined;
    return {
      path,
      inode: found ? current : undefined,
      parent: parentFound ?? undefined,
      deepest: current,
      depth,
    };
  }

  pathOf(inode: Inode): string {
    const names: string[] = [];
    for (let n: Inode | null = inode; n !== null && n.parent !== null; n = n.parent) names.push(n.name);
    return "/" + names.reverse().join("/");
  }

  /** Adds a new inode under `parent` and records it. */
  add(parent: DirectoryInode, inode: Inode): void {
    this.link(parent, inode);
    this.touchDirectory(parent, inode.modificationTime);
    this.record(putRecordOf(inode));
  }

  /** Removes `inode` and its subtree; the data of every removed file is released. */
  remove(inode: Inode, now: number): void {
    const parent = inode.parent;
    if (parent === null) return;
    this.unlink(inode);
    this.forgetSubtree(inode);
    this.touchDirectory(parent, now);
    this.record({ op: "del", id: inode.id });
  }

  /** Moves `inode` to `parent` under `name`. */
  move(inode: Inode, parent: DirectoryInode, name: string, now: number): void {
    const oldParent = inode.parent;
    this.unlink(inode);
    inode.name = name;
    this.link(parent, inode);
    if (oldParent !== null) this.touchDirectory(oldParent, now);
    this.touchDirectory(parent, now);
    this.record({ op: "mv", id: inode.id, parent: parent.id, name });
  }

  /** Records the current attributes of `inode` after an in-place change. */
  updated(inode: Inode): void {
    this.record(putRecordOf(inode));
  }

  /** Applies one journal record during replay (no new records are written). */
  apply(record: JournalRecord): void {
    const existing = this.byId.get(record.id);
    if (record.op === "del") {
      if (existing !== undefined && existing.parent !== null) {
        this.unlink(existing);
        this.forgetSubtree(existing, false);
      }
      return;
    }
    if (record.op === "mv") {
      const parent = this.byId.get(record.parent);
      if (existing === undefined || parent?.type !== "DIRECTORY") throw new Error(`mv of unknown inode ${record.id}`);
      this.unlink(existing);
      existing.name = record.name;
      this.link(parent, existing);
      return;
    }
    if (existing !== undefined) {
      Object.assign(existing, attributesOf(record));
      if (existing.type === "FILE") Object.assign(existing, fileFieldsOf(record));
      return;
    }
    const parent = record.parent === null ? undefined : this.byId.get(record.parent);
    if (parent?.type !== "DIRECTORY") throw new Error(`inode ${record.id} has no parent directory ${record.parent}`);
    const inode: Inode =
      record.type === "DIRECTORY"
        ? { type: "DIRECTORY", id: record.id, name: record.name, parent: null, children: new Map(), sortedNames: null, ...attributesOf(record) }
        : { type: "FILE", id: record.id, name: record.name, parent: null, ...attributesOf(record), ...fileFieldsOf(record) };
    this.link(parent, inode);
    this.nextId = Math.max(this.nextId, record.id + 1);
  }

  /** Every inode as a `put` record, parents before children: the snapshot for compaction. */
  *snapshot(): Generator<PutRecord> {
    const stack: Inode[] = [this.root];
    while (stack.length > 0) {
      const inode = stack.pop() as Inode;
      yield putRecordOf(inode);
      if (inode.type === "DIRECTORY") stack.push(...inode.children.values());
    }
  }

  /** Files left under construction (e.g. by a crash before the journal recorded their close). */
  filesUnderConstruction(): FileInode[] {
    return [...this.byId.values()].filter((i): i is FileInode => i.type === "FILE" && i.lease !== null);
  }

  private record(record: JournalRecord): void {
    this.journal?.append(record);
  }

  private touchDirectory(dir: DirectoryInode, now: number): void {
    dir.modificationTime = now;
    this.record(putRecordOf(dir));
  }

  private link(parent: DirectoryInode, inode: Inode): void {
    inode.parent = parent;
    parent.children.set(inode.name, inode);
    parent.sortedNames = null;
    this.byId.set(inode.id, inode);
  }

  private unlink(inode: Inode): void {
    const parent = inode.parent;
    if (parent === null) return;
    parent.children.delete(inode.name);
    parent.sortedNames = null;
    inode.parent = null;
  }

  private forgetSubtree(inode: Inode, releaseData = true): void {
    const stack: Inode[] = [inode];
    while (stack.length > 0) {
      const n = stack.pop() as Inode;
      this.byId.delete(n.id);
      if (n.type === "DIRECTORY") stack.push(...n.children.values());
      else if (releaseData) this.onFileRemoved(n);
    }
  }
}

function pathText(path: HdfsPath, depth: number): string {
  return "/" + path.components.slice(0, depth).join("/");
}

function attributesOf(r: PutRecord): InodeAttributes {
  return { owner: r.owner, group: r.group, permission: r.permission, modificationTime: r.modificationTime, accessTime: r.accessTime };
}

function fileFieldsOf(r: PutRecord): Pick<FileInode, "length" | "blockSize" | "replication" | "lease"> {
  return {
    length: r.length ?? 0,
    blockSize: r.blockSize ?? 134217728,
    replication: r.replication ?? 1,
    lease: r.underConstruction === true ? { holder: "recovered-after-restart", bytesWritten: r.length ?? 0 } : null,
  };
}

export function putRecordOf(inode: Inode): PutRecord {
  const base: PutRecord = {
    op: "put",
    id: inode.id,
    parent: inode.parent?.id ?? null,
    name: inode.name,
    type: inode.type,
    owner: inode.owner,
    group: inode.group,
    permission: inode.permission,
    modificationTime: inode.modificationTime,
    accessTime: inode.accessTime,
  };
  if (inode.type === "FILE") {
    base.length = inode.length;
    base.blockSize = inode.blockSize;
    base.replication = inode.replication;
    if (inode.lease !== null) base.underConstruction = true;
  }
  return base;
}
