// Wire-level data types of WebHDFS (FileStatus, ContentSummary, FileChecksum)
// and the configuration of one HDFS cluster as the client sees it. These are the
// shapes every other module (replication, sandbox simulator, CLI) programs against.

export type FileType = "FILE" | "DIRECTORY" | "SYMLINK";

/** One FileStatus object as the NameNode returns it (contract section 3). Old servers omit some fields. */
export interface FileStatus {
  accessTime: number;
  blockSize: number;
  childrenNum?: number;
  fileId?: number;
  group: string;
  length: number;
  modificationTime: number;
  owner: string;
  /** Name relative to the listed directory; "" from GETFILESTATUS. */
  pathSuffix: string;
  /** Octal string without leading zero, e.g. "644". */
  permission: string;
  replication: number;
  storagePolicy?: number;
  type: FileType;
  aclBit?: boolean;
  encBit?: boolean;
  ecBit?: boolean;
  snapshotEnabled?: boolean;
  symlink?: string;
}

export interface ContentSummary {
  directoryCount: number;
  fileCount: number;
  length: number;
  quota: number;
  spaceConsumed: number;
  spaceQuota: number;
  typeQuota: Record<string, { consumed: number; quota: number }>;
}

export interface FileChecksum {
  /** e.g. "MD5-of-0MD5-of-512CRC32C". */
  algorithm: string;
  /** Hex as sent by the server (64 digits; only the first `length` bytes are meaningful). */
  bytes: string;
  length: number;
}

/** Retry policy for transient failures (RetriableException, safe mode, 5xx, network errors). */
export interface RetryPolicy {
  /** Attempts per logical operation across all NameNodes, including the first. */
  maxAttempts: number;
  /** First backoff delay; doubles each attempt with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Adds credentials to a request. Implementations must never expose secrets through toString/JSON. */
export interface AuthProvider {
  /** Query parameters to add to every NameNode request (e.g. user.name, doas, delegation). */
  queryParams(): Record<string, string>;
  /** Extra request headers for a request to `namenode` (e.g. Authorization: Negotiate ... from SPNEGO). */
  headers(namenode: string): Promise<Record<string, string>> | Record<string, string>;
  /** Names of query parameters whose values are secret and must be masked in logs/errors. */
  readonly secretParams: readonly string[];
  /** Every secret value this provider sent or may still see in an answer (current and recent tokens). */
  secrets?(): string[];
  /** Called before each operation: make the credentials current (fetch, renew or re-read a token). */
  prepare?(signal?: AbortSignal): Promise<void>;
  /**
   * The server refused the credentials (isCredentialFailure): get new ones if that can help; true when the
   * operation should be tried once more with them.
   */
  recover?(err: unknown, sent: Record<string, string>, signal?: AbortSignal): Promise<boolean>;
}

/** TLS settings for https:// NameNodes and DataNodes (PEM text; absent: the system's trusted CAs). */
export interface TlsSettings {
  /** CA certificates that may sign the servers' certificates (replaces the default trust store). */
  ca?: string;
  /** Client certificate and its private key, for servers that require one. */
  cert?: string;
  key?: string;
  /** The host name the server certificates are checked against (and sent as SNI) instead of the URL's host. */
  serverName?: string;
}

/** How to reach one HDFS cluster over WebHDFS. */
export interface ClusterConnection {
  /** Human name for logs/metrics, e.g. "hdfs1". */
  name: string;
  /** NameNode HTTP base URLs, e.g. ["http://nn1:9870", "http://nn2:9870"]. The first is tried first. */
  namenodes: string[];
  /** Simple-auth user (user.name). */
  user?: string;
  /** Proxy user (doas). */
  doAs?: string;
  /** Static delegation token (already resolved from file/env by the config loader). */
  delegationToken?: string;
  /** A file holding the delegation token, re-read when it changes (takes precedence over delegationToken). */
  delegationTokenFile?: string;
  /** Renewer named when fetching tokens with Kerberos (default: the client principal). */
  tokenRenewer?: string;
  /** Per-request deadline for the NameNode step and for the DataNode response headers. */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  tls?: TlsSettings;
}
