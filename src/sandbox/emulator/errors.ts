// Errors of the WebHDFS emulator. RemoteHdfsError is an HDFS-level failure the
// emulator puts on the wire as a RemoteException body (status + Java class +
// message, exactly as a NameNode/DataNode would); SandboxError is a failure of
// the sandbox itself (bad options, unknown cluster, unreadable state dir).

import { CkptError } from "../../util/errors.js";

export class SandboxError extends CkptError {
  readonly kind = "sandbox";
}

/** An exception a real NN/DN would report; carries everything needed to render the wire body. */
export class RemoteHdfsError extends CkptError {
  readonly kind = "sandbox-remote";
  /** `Throwable.getMessage()` on the wire; may be null like in Java. */
  readonly remoteMessage: string | null;

  constructor(
    readonly status: number,
    readonly javaClassName: string,
    remoteMessage: string | null,
    exception?: string,
  ) {
    super(`${status} ${javaClassName}: ${remoteMessage ?? "(no message)"}`);
    this.remoteMessage = remoteMessage;
    this.exception = exception ?? simpleName(javaClassName);
  }

  /** Java simple class name (the `exception` field). */
  readonly exception: string;

  /** The wire body: one `RemoteException` object with alphabetical keys. */
  toJson(): string {
    return JSON.stringify({
      RemoteException: { exception: this.exception, javaClassName: this.javaClassName, message: this.remoteMessage },
    });
  }
}

function simpleName(javaClassName: string): string {
  return javaClassName.slice(javaClassName.lastIndexOf(".") + 1).replace(/^.*\$/, "");
}

const J = {
  fnf: "java.io.FileNotFoundException",
  io: "java.io.IOException",
  iae: "java.lang.IllegalArgumentException",
  uoe: "java.lang.UnsupportedOperationException",
  ace: "org.apache.hadoop.security.AccessControlException",
  faee: "org.apache.hadoop.fs.FileAlreadyExistsException",
  pnd: "org.apache.hadoop.fs.ParentNotDirectoryException",
  pined: "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
  abce: "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException",
  ipe: "org.apache.hadoop.fs.InvalidPathException",
  standby: "org.apache.hadoop.ipc.StandbyException",
  retriable: "org.apache.hadoop.ipc.RetriableException",
  security: "java.lang.SecurityException",
  invalidToken: "org.apache.hadoop.security.token.SecretManager$InvalidToken",
} as const;

/** SecurityUtil.FAILED_TO_GET_UGI_MSG_HEADER: how the servlets report a request whose user cannot be established. */
export const FAILED_TO_GET_UGI = "Failed to obtain user group information:";

/** Factories for the exceptions of contract section 2.3, so messages are written once. */
export const hdfsErrors = {
  fileNotFound: (message: string) => new RemoteHdfsError(404, J.fnf, message),
  io403: (message: string) => new RemoteHdfsError(403, J.io, message),
  illegalArgument: (message: string) => new RemoteHdfsError(400, J.iae, message),
  badParam: (name: string, cause: string) =>
    new RemoteHdfsError(400, J.iae, `Invalid value for webhdfs parameter "${name}": ${cause}`),
  requiredParam: (name: string, op: string) =>
    new RemoteHdfsError(400, J.iae, `Required param ${name} for op: ${op} is null or empty`),
  unsupported: (message: string) => new RemoteHdfsError(400, J.uoe, message),
  accessDenied: (message: string) => new RemoteHdfsError(403, J.ace, message),
  alreadyExists: (message: string) => new RemoteHdfsError(403, J.faee, message),
  parentNotDirectory: (message: string) => new RemoteHdfsError(403, J.pnd, message),
  notEmpty: (path: string) => new RemoteHdfsError(403, J.pined, `\`${path} is non empty': Directory is not empty`),
  alreadyBeingCreated: (message: string) => new RemoteHdfsError(403, J.abce, message),
  invalidPath: (path: string) => new RemoteHdfsError(400, J.ipe, `Invalid path name Invalid file name: ${path}`),
  standby: (category: "READ" | "WRITE", state: "standby" | "observer") =>
    new RemoteHdfsError(
      403,
      J.standby,
      `Operation category ${category} is not supported in state ${state}. Visit https://s.apache.org/sbnn-error`,
    ),
  retriable: (message: string) => new RemoteHdfsError(403, J.retriable, message),
  invalidToken: (message: string) => new RemoteHdfsError(403, J.invalidToken, message),
  /** 403 SecurityException "Failed to obtain user group information: <cause class>: <cause message>". */
  noUserInformation: (causeClass: string, causeMessage: string) =>
    new RemoteHdfsError(403, J.security, `${FAILED_TO_GET_UGI} ${causeClass}: ${causeMessage}`),
};
