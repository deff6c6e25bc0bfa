// The reasons each adapter gives its backend's failures: the only place where a
// Java exception class, an HTTP status or an errno code is turned into what the
// engine decides on (retry, "gone", "taken", "refused").

import { describe, expect, it } from "vitest";
import { explainUnreadable } from "../../src/replication/probe.js";
import { isAlreadyExists, isMissing, isWorthRetrying, StorageError, storageReason } from "../../src/storage/errors.js";
import { errnoReason } from "../../src/storage/local.js";
import { toStorageError, webHdfsReason } from "../../src/storage/webhdfs.js";
import { HdfsPathError, WebHdfsError, type WebHdfsErrorDetails } from "../../src/webhdfs/errors.js";

const base = { cluster: "hdfs2", operation: "CREATE", path: "/dr/f", step: "namenode", namenode: "http://nn1:9870" } as const;
const remote = (status: number, javaClassName: string) =>
  new WebHdfsError({ ...base, failure: "remote", status, javaClassName, exception: javaClassName.slice(javaClassName.lastIndexOf(".") + 1), remoteMessage: "x" });
const failed = (d: Partial<WebHdfsErrorDetails>) => new WebHdfsError({ ...base, failure: "network", ...d });

describe("WebHDFS failures as storage reasons", () => {
  it.each([
    ["FileNotFoundException", remote(404, "java.io.FileNotFoundException"), "not-found"],
    ["FileAlreadyExistsException", remote(403, "org.apache.hadoop.fs.FileAlreadyExistsException"), "exists"],
    ["AlreadyBeingCreatedException (a retried CREATE of the same name)", remote(403, "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"), "exists"],
    ["AccessControlException", remote(403, "org.apache.hadoop.security.AccessControlException"), "denied"],
    ["a 401 from the authentication filter", failed({ failure: "http-status", status: 401 }), "denied"],
    ["a refused connection", failed({ failure: "network", code: "ECONNREFUSED" }), "unreachable"],
    ["a deadline", failed({ failure: "timeout" }), "unreachable"],
    ["RetriableException", remote(403, "org.apache.hadoop.ipc.RetriableException"), "transient"],
    ["SafeModeException", remote(403, "org.apache.hadoop.hdfs.server.namenode.SafeModeException"), "transient"],
    ["a 500 IOException", remote(500, "java.io.IOException"), "transient"],
    ["a body cut short", failed({ failure: "truncated", step: "datanode" }), "transient"],
    ["the caller's abort", failed({ failure: "aborted" }), "aborted"],
    ["a 400 IllegalArgumentException", remote(400, "java.lang.IllegalArgumentException"), "fatal"],
    ["a 403 IOException (HDFS maps most IOExceptions to 403)", remote(403, "java.io.IOException"), "failed"],
  ])("%s -> %s", (_what, err, reason) => {
    expect(webHdfsReason(err)).toBe(reason);
    const typed = toStorageError("hdfs2", "write", "/dr/f", err);
    expect(typed).toBeInstanceOf(StorageError);
    expect(typed).toMatchObject({ reason, storage: "hdfs2", operation: "write", path: "/dr/f", message: err.message, cause: err });
  });

  it("a path the client refused is fatal; an error that is not the client's (a body stream's) passes through", () => {
    expect(toStorageError("hdfs2", "stat", "rel", new HdfsPathError("rel", "must be absolute"))).toMatchObject({ reason: "fatal" });
    const other = new Error("source broke");
    expect(toStorageError("hdfs2", "write", "/f", other)).toBe(other);
  });

  it("the adapter's hints reach the operator: a server that is not a NameNode, every NameNode tried", () => {
    const notNameNode = toStorageError("hdfs2", "list", "/dr", failed({ failure: "http-status", status: 400, namenode: "http://dn1:9864" }));
    expect(explainUnreadable(notNameNode)).toContain("is http://dn1:9864 the HTTP address of a NameNode?");
    expect(explainUnreadable(toStorageError("hdfs2", "list", "/dr", failed({ failure: "network" })))).toMatch(/^unreachable \(every NameNode was tried\): /);
    expect(explainUnreadable(toStorageError("hdfs2", "list", "/dr", remote(403, "org.apache.hadoop.security.AccessControlException")))).toMatch(/^permission denied: /);
  });
});

describe("errno codes as storage reasons", () => {
  it.each([
    ["ENOENT", "not-found"],
    ["ENOTDIR", "not-found"],
    ["EEXIST", "exists"],
    ["EACCES", "denied"],
    ["EROFS", "denied"],
    ["ENOSPC", "transient"],
    ["EIO", "transient"],
    ["ENOTEMPTY", "failed"],
  ])("%s -> %s", (code, reason) => {
    expect(errnoReason(Object.assign(new Error(code), { code }))).toBe(reason);
  });

  it("an aborted stream is aborted", () => {
    expect(errnoReason(Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR" }))).toBe("aborted");
  });
});

describe("what the engine decides on a reason", () => {
  const err = (reason: StorageError["reason"]) => new StorageError({ reason, storage: "t", operation: "write", path: "/f", message: reason });

  it("only a StorageError has a reason; the predicates read nothing else (not a message, not a code)", () => {
    expect(storageReason(Object.assign(new Error("/f does not exist"), { code: "ENOENT", status: 404, javaClassName: "java.io.FileNotFoundException" }))).toBeNull();
    expect(isMissing(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(false);
    expect(isMissing(err("not-found"))).toBe(true);
    expect(isAlreadyExists(err("exists"))).toBe(true);
  });

  it("a copy is retried after a transient, unreachable, unclassified or not-found failure and any non-storage error, never after a refusal", () => {
    for (const r of ["transient", "unreachable", "failed", "not-found", "exists"] as const) expect(isWorthRetrying(err(r))).toBe(true);
    for (const r of ["denied", "fatal", "aborted", "unsupported", "conflict"] as const) expect(isWorthRetrying(err(r))).toBe(false);
    expect(isWorthRetrying(new Error("verification"))).toBe(true);
  });
});
