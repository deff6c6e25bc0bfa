// Public surface of the replication engine for the daemon, the CLI and metrics.

export { Engine, type EngineOptions, type EngineStatus, type CycleOptions, type CycleReport, type StopOutcome } from "./engine.js";
export type { EngineHooks, JobStatus, JobTotals, PendingWork, PublishedEvent, RestorePoint } from "./status.js";
export type { SyncOutcome, PlannedUnit } from "./job.js";
export type { TreeRoot, TreeRootProblem, TreeSnapshot } from "./scan.js";
export { verifyCheckpoints, newestRestorable, metadataPathOf, type UnitVerdict, type VerifyOptions } from "./verify.js";
export { LeaseHeldError, LeaseLostError } from "./lease.js";
export type { ReplicationRecord } from "./records.js";
export { readRecord } from "./records.js";
