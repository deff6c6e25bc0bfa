// HDFS permission checking under simple authentication: the owner/group/other
// bits of an inode against the calling user, with a superuser that bypasses
// every check, and the AccessControlException text a NameNode writes.

import { hdfsErrors } from "./errors.js";
import { symbolicPermission, type Inode } from "./inode.js";

export type FsAction = "READ" | "WRITE" | "EXECUTE" | "READ_EXECUTE" | "WRITE_EXECUTE" | "ALL";

const ACTION_BITS: Record<FsAction, number> = {
  READ: 4,
  WRITE: 2,
  EXECUTE: 1,
  READ_EXECUTE: 5,
  WRITE_EXECUTE: 3,
  ALL: 7,
};

export interface PermissionPolicy {
  /** The NameNode's own user; never refused. */
  superuser: string;
  /** Members of this group are superusers too. */
  supergroup: string;
  /** Group membership per user name (users not listed belong to no group). */
  userGroups: Readonly<Record<string, readonly string[]>>;
}

export class PermissionChecker {
  constructor(private readonly policy: PermissionPolicy) {}

  isSuperuser(user: string): boolean {
    return user === this.policy.superuser || this.groupsOf(user).includes(this.policy.supergroup);
  }

  groupsOf(user: string): readonly string[] {
    return this.policy.userGroups[user] ?? [];
  }

  /** Throws AccessControlException (403) unless `user` may perform `action` on `inode` (at `path`). */
  check(inode: Inode, path: string, user: string, action: FsAction): void {
    if (this.isSuperuser(user)) return;
    const needed = ACTION_BITS[action];
    const mode = inode.permission;
    const granted =
      user === inode.owner ? (mode >> 6) & 7 : this.groupsOf(user).includes(inode.group) ? (mode >> 3) & 7 : mode & 7;
    if ((granted & needed) === needed) return;
    throw hdfsErrors.accessDenied(
      `Permission denied: user=${user}, access=${action}, inode="${path}":${inode.owner}:${inode.group}:${symbolicPermission(inode)}`,
    );
  }

  /** Only the owner (or a superuser) may change permission bits or times-by-owner operations. */
  checkOwner(inode: Inode, path: string, user: string): void {
    if (this.isSuperuser(user) || user === inode.owner) return;
    throw hdfsErrors.accessDenied(`Permission denied. user=${user} is not the owner of inode=${path}`);
  }

  checkSuperuser(path: string, user: string): void {
    if (this.isSuperuser(user)) return;
    throw hdfsErrors.accessDenied(`Non-super user cannot change owner (user=${user}, inode=${path})`);
  }

  /** Sticky-bit rule for deleting/renaming `child` out of `parent`. */
  checkSticky(parent: Inode, child: Inode, path: string, user: string): void {
    if ((parent.permission & 0o1000) === 0 || this.isSuperuser(user)) return;
    if (user === parent.owner || user === child.owner) return;
    throw hdfsErrors.accessDenied(
      `Permission denied by sticky bit: user=${user}, path="${path}":${child.owner}:${child.group}:${symbolicPermission(child)}, parent="${path.slice(0, path.lastIndexOf("/")) || "/"}":${parent.owner}:${parent.group}:${symbolicPermission(parent)}`,
    );
  }
}
