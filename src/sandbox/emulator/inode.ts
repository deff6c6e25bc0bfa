// The in-memory inode model of one emulated HDFS namespace: directory and file
// inodes, children kept sorted in unsigned UTF-8 byte order (HDFS listing
// order), and the FileStatus JSON rendering with the NameNode's key order.

export interface InodeAttributes {
  owner: string;
  group: string;
  /** Permission bits incl. sticky (0o1777 max). */
  permission: number;
  modificationTime: number;
  accessTime: number;
}

export interface DirectoryInode extends InodeAttributes {
  readonly type: "DIRECTORY";
  readonly id: number;
  name: string;
  parent: DirectoryInode | null;
  readonly children: Map<string, Inode>;
  /** Child names in byte order; rebuilt lazily after a change. */
  sortedNames: string[] | null;
}

/** An open writer's hold on a file (the HDFS lease). */
export interface Lease {
  readonly holder: string;
  /** Bytes the writer has flushed so far (what a DN reader can see). */
  bytesWritten: number;
}

export interface FileInode extends InodeAttributes {
  readonly type: "FILE";
  readonly id: number;
  name: string;
  parent: DirectoryInode | null;
  /** Closed length (while an append is running: the length before it). */
  length: number;
  blockSize: number;
  replication: number;
  lease: Lease | null;
}

export type Inode = DirectoryInode | FileInode;

export const ROOT_INODE_ID = 16385;
/** Defaults when CREATE / MKDIRS / SETPERMISSION carry no permission (no server-side umask). */
export const DEFAULT_FILE_PERMISSION = 0o644;
export const DEFAULT_DIRECTORY_PERMISSION = 0o755;

export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function sortedChildNames(dir: DirectoryInode): string[] {
  if (dir.sortedNames === null) dir.sortedNames = [...dir.children.keys()].sort(compareNames);
  return dir.sortedNames;
}

/** Index of the first child name sorting strictly after `after` (binary search). */
export function firstIndexAfter(names: readonly string[], after: string): number {
  let lo = 0;
  let hi = names.length;
  const key = Buffer.from(after, "utf8");
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(Buffer.from(names[mid] ?? "", "utf8"), key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Length a reader of the NameNode metadata sees: whole blocks only while a writer is active. */
export function visibleNameNodeLength(file: FileInode): number {
  if (file.lease === null) return file.length;
  return Math.max(file.length, Math.floor(file.lease.bytesWritten / file.blockSize) * file.blockSize);
}

/** Length a DataNode reader can read: everything flushed so far. */
export function visibleDataNodeLength(file: FileInode): number {
  return file.lease === null ? file.length : file.lease.bytesWritten;
}

/** Octal string without leading zeros, as on the wire ("644", "1777"). */
export function permissionString(permission: number): string {
  return permission.toString(8);
}

/** `drwxr-xr-x`-style text used in AccessControlException messages. */
export function symbolicPermission(inode: Inode): string {
  const p = inode.permission;
  const triple = (bits: number) => `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${bits & 1 ? "x" : "-"}`;
  let text = (inode.type === "DIRECTORY" ? "d" : "-") + triple(p >> 6) + triple(p >> 3) + triple(p);
  if (p & 0o1000) text = text.slice(0, -1) + (p & 1 ? "t" : "T");
  return text;
}

/** One FileStatus object, keys in the NameNode's alphabetical order. */
export function fileStatusJson(inode: Inode, pathSuffix: string): string {
  const isFile = inode.type === "FILE";
  return JSON.stringify({
    accessTime: isFile ? inode.accessTime : 0,
    blockSize: isFile ? inode.blockSize : 0,
    childrenNum: isFile ? 0 : inode.children.size,
    fileId: inode.id,
    group: inode.group,
    length: isFile ? visibleNameNodeLength(inode) : 0,
    modificationTime: inode.modificationTime,
    owner: inode.owner,
    pathSuffix,
    permission: permissionString(inode.permission),
    replication: isFile ? inode.replication : 0,
    storagePolicy: 0,
    type: inode.type,
  });
}
