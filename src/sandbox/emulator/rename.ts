// RENAME semantics of the NameNode (FSDirRenameOp): the legacy form that
// answers {"boolean":false} for most failures and moves into an existing
// directory, and the "rename2" form (renameoptions=NONE|OVERWRITE) that throws
// and can atomically replace the destination.

import { hdfsErrors } from "./errors.js";
import type { DirectoryInode, Inode } from "./inode.js";
import type { InodeTree } from "./namespace-tree.js";
import { childOf, parentOf, type HdfsPath } from "./paths.js";

function isSameOrInside(candidate: HdfsPath, ancestor: HdfsPath): boolean {
  return (
    candidate.components.length >= ancestor.components.length &&
    ancestor.components.every((c, i) => candidate.components[i] === c)
  );
}

function checkMovePermissions(tree: InodeTree, src: Inode, dstParent: DirectoryInode, srcPath: string, user: string): void {
  const srcParent = src.parent as DirectoryInode;
  tree.permissions.check(srcParent, tree.pathOf(srcParent), user, "WRITE");
  tree.permissions.checkSticky(srcParent, src, srcPath, user);
  tree.permissions.check(dstParent, tree.pathOf(dstParent), user, "WRITE");
}

/** Legacy RENAME: true on success, false for the "soft" failures of contract 4.10. */
export function renameLegacy(tree: InodeTree, src: HdfsPath, dst: HdfsPath, user: string, now: number): boolean {
  const source = tree.resolve(src, user).inode;
  if (source === undefined || source.parent === null) return false;
  if (src.text === dst.text) return true;
  let target = dst;
  const dstResolved = tree.resolve(dst, user);
  if (dstResolved.inode?.type === "DIRECTORY") target = childOf(dst, src.components[src.components.length - 1] ?? "");
  if (isSameOrInside(target, src)) return false;
  const targetResolved = target === dst ? dstResolved : tree.resolve(target, user);
  if (targetResolved.inode !== undefined) return false;
  const parent = targetResolved.parent;
  if (parent === undefined) return false;
  checkMovePermissions(tree, source, parent, src.text, user);
  tree.move(source, parent, target.components[target.components.length - 1] ?? "", now);
  return true;
}

/** RENAME with renameoptions: throws on failure; OVERWRITE replaces a file or an empty directory. */
export function renameWithOptions(tree: InodeTree, src: HdfsPath, dst: HdfsPath, overwrite: boolean, user: string, now: number): void {
  const source = tree.resolve(src, user).inode;
  if (source === undefined) throw hdfsErrors.fileNotFound(`rename source ${src.text} is not found.`);
  if (source.parent === null) throw hdfsErrors.io403(`Rename source / is the root`);
  if (src.text === dst.text) {
    throw hdfsErrors.alreadyExists(`The source ${src.text} and destination ${dst.text} are the same`);
  }
  if (dst.components.length === 0) throw hdfsErrors.io403(`rename destination cannot be the root`);
  if (isSameOrInside(dst, src)) {
    throw hdfsErrors.io403(`Rename destination ${dst.text} is a directory or file under source ${src.text}`);
  }
  const dstResolved = tree.resolve(dst, user);
  const parentPath = parentOf(dst).text;
  if (dstResolved.parent === undefined) {
    const blocker = dstResolved.deepest;
    if (blocker.type === "FILE" && dstResolved.depth === dst.components.length - 1) {
      throw hdfsErrors.parentNotDirectory(`rename destination parent ${parentPath} is a file.`);
    }
    throw hdfsErrors.fileNotFound(`rename destination parent ${parentPath} not found.`);
  }
  const existing = dstResolved.inode;
  if (existing !== undefined) {
    if (!overwrite) throw hdfsErrors.alreadyExists(`rename destination ${dst.text} already exists`);
    if (existing.type !== source.type) {
      throw hdfsErrors.io403(
        existing.type === "DIRECTORY"
          ? `Source ${src.text} and destination ${dst.text} must both be directories`
          : `Source ${src.text} and destination ${dst.text} must both be files`,
      );
    }
    if (existing.type === "DIRECTORY" && existing.children.size > 0) {
      throw hdfsErrors.io403(`rename destination directory is not empty: ${dst.text}`);
    }
  }
  checkMovePermissions(tree, source, dstResolved.parent, src.text, user);
  if (existing !== undefined) tree.remove(existing, now);
  tree.move(source, dstResolved.parent, dst.components[dst.components.length - 1] ?? "", now);
}
