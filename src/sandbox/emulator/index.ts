// Public surface of the WebHDFS emulator (the sandbox): start it, inject
// faults, and the types that describe its endpoints and options.

export { startSandbox, DEFAULT_CLUSTERS } from "./sandbox.js";
export type { MintTokenRequest, Sandbox, SandboxEndpoints, SandboxOptions, SecurityOptions } from "./sandbox.js";
export type { IssuedToken } from "./tokens.js";
export { FaultInjector } from "./faults.js";
export type { ActiveFault, FaultAction, FaultMatch, FaultRule, ObservedRequest, RequestObserver, UnreachableMode } from "./faults.js";
export type { NameNodeState } from "./cluster.js";
export type { EndpointTls } from "./endpoint-server.js";
export { RemoteHdfsError, SandboxError } from "./errors.js";
export { md5Md5Crc32c, emptyFileChecksum, BYTES_PER_CRC } from "./checksum.js";
export type { ChecksumValue } from "./checksum.js";
