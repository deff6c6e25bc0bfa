// HDFS namespace semantics over the inode tree: lookups with the NameNode's
// not-found messages, MKDIRS, file creation/append/close with leases, DELETE,
// SETTIMES/SETPERMISSION/SETOWNER and content summaries. Renames live in
// rename.ts. Every method takes the calling user and enforces permissions.

import { hdfsErrors } from "./errors.js";
import { DEFAULT_DIRECTORY_PERMISSION, type DirectoryInode, type FileInode, type Inode } from "./inode.js";
import { InodeTree, type Resolved } from "./namespace-tree.js";
import type { HdfsPath } from "./paths.js";

export interface CreateFileRequest {
  overwrite: boolean;
  permission: number;
  blockSize: number;
  replication: number;
  /** Lease holder name (e.g. "DFSClient_NONMAPREDUCE_<n>"). */
  holder: string;
}

export interface ContentSummaryCounts {
  directoryCount: number;
  fileCount: number;
  length: number;
  spaceConsumed: number;
}

/** Host name HDFS writes into lease messages ("... on <ip>"). */
const CLIENT_HOST = "127.0.0.1";

export class Namespace {
  constructor(
    readonly tree: InodeTree,
    private readonly now: () => number = Date.now,
  ) {}

  /** GETFILESTATUS-style lookup: missing → 404 `File does not exist: /p`. */
  stat(path: HdfsPath, user: string): Inode {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined) throw hdfsErrors.fileNotFound(`File does not exist: ${path.text}`);
    return inode;
  }

  /** LISTSTATUS lookup: a directory (READ_EXECUTE checked) or a single file. */
  listTarget(path: HdfsPath, user: string): Inode {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined) throw hdfsErrors.fileNotFound(`File ${path.text} does not exist.`);
    if (inode.type === "DIRECTORY") this.tree.permissions.check(inode, path.text, user, "READ_EXECUTE");
    return inode;
  }

  /** NN step of OPEN/GETFILECHECKSUM/APPEND: missing → `File /p not found.`; files need READ. */
  lookupForRedirect(path: HdfsPath, user: string): Inode {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined) throw hdfsErrors.fileNotFound(`File ${path.text} not found.`);
    if (inode.type === "FILE") this.tree.permissions.check(inode, path.text, user, "READ");
    return inode;
  }

  /** DN-side file lookup (the DN's own DFSClient): missing → `File does not exist`, directory → `Path is not a file`. */
  fileForDataNode(path: HdfsPath, user: string): FileInode {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined) throw hdfsErrors.fileNotFound(`File does not exist: ${path.text}`);
    if (inode.type !== "FILE") throw hdfsErrors.fileNotFound(`Path is not a file: ${path.text}`);
    this.tree.permissions.check(inode, path.text, user, "READ");
    return inode;
  }

  mkdirs(path: HdfsPath, permission: number, user: string): void {
    const resolved = this.tree.resolve(path, user);
    if (resolved.inode !== undefined) {
      if (resolved.inode.type !== "DIRECTORY") throw hdfsErrors.alreadyExists(`Path is not a directory: ${path.text}`);
      return;
    }
    this.createMissingDirectories(resolved, path.components.length, permission, user, (p) =>
      hdfsErrors.alreadyExists(`Parent path is not a directory: ${p}`),
    );
  }

  /** DN step of CREATE: applies overwrite/lease/existence rules and returns the new file under construction. */
  startFile(path: HdfsPath, request: CreateFileRequest, user: string): FileInode {
    let resolved = this.tree.resolve(path, user);
    const existing = resolved.inode;
    if (existing !== undefined) {
      if (existing.type === "DIRECTORY") throw hdfsErrors.alreadyExists(`${path.text} already exists as a directory`);
      if (!request.overwrite) {
        if (existing.lease !== null) throw this.leaseConflict("CREATE_FILE", path, request.holder, existing);
        throw hdfsErrors.alreadyExists(`${path.text} for client ${CLIENT_HOST} already exists`);
      }
      const parent = existing.parent as DirectoryInode;
      this.tree.permissions.check(parent, this.tree.pathOf(parent), user, "WRITE");
      this.tree.remove(existing, this.now());
      resolved = this.tree.resolve(path, user);
    }
    const parent =
      resolved.parent ??
      this.createMissingDirectories(resolved, path.components.length - 1, DEFAULT_DIRECTORY_PERMISSION, user, (p) =>
        hdfsErrors.parentNotDirectory(`Parent path is not a directory: ${p}`),
      );
    this.tree.permissions.check(parent, this.tree.pathOf(parent), user, "WRITE");
    const now = this.now();
    const file: FileInode = {
      type: "FILE",
      id: this.tree.allocateId(),
      name: path.components[path.components.length - 1] ?? "",
      parent: null,
      owner: user,
      group: parent.group,
      permission: request.permission,
      modificationTime: now,
      accessTime: now,
      length: 0,
      blockSize: request.blockSize,
      replication: request.replication,
      lease: { holder: request.holder, bytesWritten: 0 },
    };
    this.tree.add(parent, file);
    return file;
  }

  /** DN step of APPEND: takes the lease on an existing closed file. */
  startAppend(path: HdfsPath, holder: string, user: string): FileInode {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined) throw hdfsErrors.fileNotFound(`File does not exist: ${path.text}`);
    if (inode.type !== "FILE") throw hdfsErrors.fileNotFound(`Failed to append to non-existent file ${path.text}`);
    if (inode.lease !== null) throw this.leaseConflict("APPEND_FILE", path, holder, inode);
    this.tree.permissions.check(inode, path.text, user, "WRITE");
    inode.lease = { holder, bytesWritten: inode.length };
    this.tree.updated(inode);
    return inode;
  }

  /** Closes a file with its final length; fails if the file was deleted or replaced meanwhile. */
  completeFile(file: FileInode, length: number): void {
    if (!this.tree.isLive(file) || file.lease === null) {
      throw hdfsErrors.fileNotFound(`File does not exist: ${this.tree.pathOf(file)} (inode ${file.id}): lease expired or file deleted`);
    }
    file.length = length;
    file.lease = null;
    file.modificationTime = this.now();
    this.tree.updated(file);
  }

  /** DELETE: false when missing or root; 403 for a non-empty directory without `recursive`. */
  delete(path: HdfsPath, recursive: boolean, user: string): boolean {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined || inode.parent === null) return false;
    if (inode.type === "DIRECTORY" && inode.children.size > 0 && !recursive) throw hdfsErrors.notEmpty(path.text);
    const parentPath = this.tree.pathOf(inode.parent);
    this.tree.permissions.check(inode.parent, parentPath, user, "WRITE_EXECUTE");
    this.tree.permissions.checkSticky(inode.parent, inode, path.text, user);
    this.tree.remove(inode, this.now());
    return true;
  }

  /** SETTIMES: -1 keeps a value. */
  setTimes(path: HdfsPath, modificationTime: number, accessTime: number, user: string): void {
    const inode = this.existing(path, user);
    this.tree.permissions.check(inode, path.text, user, "WRITE");
    if (modificationTime !== -1) inode.modificationTime = modificationTime;
    if (accessTime !== -1) inode.accessTime = accessTime;
    this.tree.updated(inode);
  }

  setPermission(path: HdfsPath, permission: number, user: string): void {
    const inode = this.existing(path, user);
    this.tree.permissions.checkOwner(inode, path.text, user);
    inode.permission = permission;
    this.tree.updated(inode);
  }

  setOwner(path: HdfsPath, owner: string | undefined, group: string | undefined, user: string): void {
    const inode = this.existing(path, user);
    if (owner !== undefined && owner !== inode.owner) this.tree.permissions.checkSuperuser(path.text, user);
    else this.tree.permissions.checkOwner(inode, path.text, user);
    if (owner !== undefined) inode.owner = owner;
    if (group !== undefined) inode.group = group;
    this.tree.updated(inode);
  }

  contentSummary(path: HdfsPath, user: string): ContentSummaryCounts {
    const root = this.stat(path, user);
    const counts: ContentSummaryCounts = { directoryCount: 0, fileCount: 0, length: 0, spaceConsumed: 0 };
    const stack: Inode[] = [root];
    while (stack.length > 0) {
      const inode = stack.pop() as Inode;
      if (inode.type === "DIRECTORY") {
        counts.directoryCount++;
        stack.push(...inode.children.values());
      } else {
        counts.fileCount++;
        counts.length += inode.length;
        counts.spaceConsumed += inode.length * inode.replication;
      }
    }
    return counts;
  }

  /** Setters' not-found form (`File/Directory /p does not exist.`). */
  private existing(path: HdfsPath, user: string): Inode {
    const { inode } = this.tree.resolve(path, user);
    if (inode === undefined) throw hdfsErrors.fileNotFound(`File/Directory ${path.text} does not exist.`);
    return inode;
  }

  /**
   * Creates directories for components [resolved.depth, upTo) and returns the last one.
   * Intermediate directories get `permission | u+wx`, the last one `permission` (when upTo is the full path).
   */
  private createMissingDirectories(
    resolved: Resolved,
    upTo: number,
    permission: number,
    user: string,
    blockedByFile: (path: string) => Error,
  ): DirectoryInode {
    const start = resolved.deepest;
    if (start.type !== "DIRECTORY") throw blockedByFile(this.tree.pathOf(start));
    if (resolved.depth < upTo) this.tree.permissions.check(start, this.tree.pathOf(start), user, "WRITE");
    let parent: DirectoryInode = start;
    const now = this.now();
    for (let depth = resolved.depth; depth < upTo; depth++) {
      const isLast = depth === resolved.path.components.length - 1;
      const dir: DirectoryInode = {
        type: "DIRECTORY",
        id: this.tree.allocateId(),
        name: resolved.path.components[depth] ?? "",
        parent: null,
        children: new Map(),
        sortedNames: null,
        owner: user,
        group: parent.group,
        permission: isLast ? permission : permission | 0o300,
        modificationTime: now,
        accessTime: 0,
      };
      this.tree.add(parent, dir);
      parent = dir;
    }
    return parent;
  }

  private leaseConflict(op: string, path: HdfsPath, holder: string, file: FileInode): Error {
    return hdfsErrors.alreadyBeingCreated(
      `Failed to ${op} ${path.text} for ${holder} on ${CLIENT_HOST} because this file lease is currently owned by ${file.lease?.holder} on ${CLIENT_HOST}`,
    );
  }
}
