// Public surface of the WebHDFS client: what the rest of the product imports.

export { WebHdfsClient, DEFAULT_TIMEOUT_MS, type OpOptions, type UploadBody, type WebHdfsClientOptions } from "./client.js";
export {
  WebHdfsError, HdfsPathError, isNotFound, isStandby, isRetriable, isAlreadyExists, isPermissionDenied,
  isCredentialFailure, isTokenRejected,
  type WebHdfsFailure, type WebHdfsStep,
} from "./errors.js";
export { createSimpleAuth } from "./auth.js";
export {
  FileTokenAuth, KerberosTokenAuth, TokenFileError, type Negotiator, type TokenOps, type TokenStatus, type TokenSourceKind,
} from "./delegation.js";
export {
  GssNegotiator, KerberosUnavailableError, SpnegoError, kerberosAvailable, servicePrincipalFor, type KerberosSettings,
} from "./spnego.js";
export { encodeHdfsPath, assertAbsoluteHdfsPath } from "./paths.js";
export { DEFAULT_RETRY_POLICY } from "./namenodes.js";
export { checksumHex, sameChecksum, type DirectoryListingPage } from "./wire.js";
export type {
  AuthProvider, ClusterConnection, ContentSummary, FileChecksum, FileStatus, FileType, RetryPolicy, TlsSettings,
} from "./types.js";
