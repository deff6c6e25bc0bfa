// Fault injection for the emulator: rules that match requests by cluster,
// role, op and path prefix and, for the next N matches, answer with an error,
// add latency, reset the connection, cut a DataNode body after N bytes or
// delete the file being read; plus whole-cluster unreachability (connections
// refused or reset) for a while. Used programmatically and by the admin API.

import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { RemoteHdfsError, SandboxError } from "./errors.js";
import type { Role } from "./http-wire.js";

export type FaultAction =
  /** Answer with this RemoteException instead of serving the request. */
  | { kind: "error"; status: number; javaClassName: string; exception?: string; message?: string | null }
  /** Delay the request, then serve it normally. */
  | { kind: "latency"; ms: number }
  /** Reset the TCP connection (RST) without any response. */
  | { kind: "reset" }
  /** DataNode OPEN only: send headers with the full Content-Length, then close after `afterBytes` body bytes. */
  | { kind: "cut-body"; afterBytes: number }
  /** DataNode OPEN only: delete the file from the namespace after `afterBytes` body bytes; `cut` (default true) also closes the connection. */
  | { kind: "delete-during-read"; afterBytes: number; cut?: boolean };

export interface FaultMatch {
  cluster?: string;
  role?: Role;
  /** WebHDFS op, any case (e.g. "OPEN"). */
  op?: string;
  /** Plain string prefix of the HDFS path (e.g. "/flink/chk-1"). */
  pathPrefix?: string;
  /** Only requests sent with this `user.name` (one client among several, e.g. one daemon instance). */
  userName?: string;
}

export interface FaultRule extends FaultMatch {
  action: FaultAction;
  /** How many matching requests it affects (default 1); "always" until removed. */
  times?: number | "always";
}

export interface ActiveFault extends FaultRule {
  readonly id: string;
  /** Remaining matches ("always" never runs out). */
  remaining: number | "always";
}

/** What a request handler must do, accumulated from all rules the request consumed. */
export interface FaultPlan {
  latencyMs: number;
  /** First error/reset rule consumed, if any. */
  terminal: Extract<FaultAction, { kind: "error" } | { kind: "reset" }> | null;
  /** Body fault for streamed DataNode reads. */
  body: Extract<FaultAction, { kind: "cut-body" } | { kind: "delete-during-read" }> | null;
}

export interface RequestFacts {
  cluster: string;
  role: Role;
  op: string;
  path: string;
  /** True for requests whose response is a streamed file body (DN OPEN). */
  streamsBody: boolean;
  /** `user.name` as sent (null without one). */
  userName: string | null;
}

export type UnreachableMode = "refuse" | "reset";

/**
 * One request as an observer sees it once its response is over (answered, reset or abandoned by the
 * client). Tests use it to record who wrote what (e.g. that the source is never written, and that only
 * one writer is active at a time).
 */
export interface ObservedRequest {
  cluster: string;
  role: Role;
  /** Upper-case WebHDFS op. */
  op: string;
  method: string;
  /** Decoded HDFS path. */
  path: string;
  /** `user.name` as sent (null without one). */
  userName: string | null;
  /** `doas` as sent (null without one). */
  doAs: string | null;
  /** `destination` of a RENAME (null otherwise). */
  destination: string | null;
  /** Date.now() when the request arrived and when its response ended. */
  startedAt: number;
  endedAt: number;
  /** HTTP status of the answer (meaningless when `completed` is false). */
  status: number;
  /** True when the whole answer was sent; false when the connection was reset or closed first. */
  completed: boolean;
}

export type RequestObserver = (r: ObservedRequest) => void;

/** Per-cluster switch the injector drives; implemented by the cluster's servers. */
export interface ReachabilityControl {
  setUnreachable(mode: UnreachableMode | null): Promise<void>;
}

const NO_FAULT: FaultPlan = Object.freeze({ latencyMs: 0, terminal: null, body: null }) as FaultPlan;

export class FaultInjector {
  private rules: ActiveFault[] = [];
  private nextId = 1;
  private readonly clusters = new Map<string, ReachabilityControl>();
  private readonly restoreTimers = new Map<string, NodeJS.Timeout>();
  private readonly observers = new Set<RequestObserver>();

  /** Calls `observer` for every NameNode and DataNode request once its response is over; returns an unsubscribe function. */
  observe(observer: RequestObserver): () => void {
    this.observers.add(observer);
    return () => {
      this.observers.delete(observer);
    };
  }

  /** Called by the NameNode and DataNode handlers for each parsed request. Free when nobody observes. */
  track(facts: Omit<RequestFacts, "streamsBody" | "userName">, method: string, params: Map<string, string>, res: ServerResponse): void {
    if (this.observers.size === 0) return;
    const startedAt = Date.now();
    res.once("close", () => {
      const record: ObservedRequest = {
        ...facts,
        method,
        userName: params.get("user.name") ?? null,
        doAs: params.get("doas") ?? null,
        destination: params.get("destination") ?? null,
        startedAt,
        endedAt: Date.now(),
        status: res.statusCode,
        completed: res.writableFinished,
      };
      for (const observer of this.observers) {
        try {
          observer(record);
        } catch {
          // an observer's bug must not break the emulator
        }
      }
    });
  }

  /** Adds a rule; returns its id (for remove()). */
  add(rule: FaultRule): string {
    validateRule(rule);
    const id = `f${this.nextId++}`;
    this.rules.push({ ...rule, op: rule.op?.toUpperCase(), id, remaining: rule.times ?? 1 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Consumes the rules matching a request and returns what to do. Cheap when no rules exist. */
  take(facts: RequestFacts): FaultPlan {
    if (this.rules.length === 0) return NO_FAULT;
    const plan: FaultPlan = { latencyMs: 0, terminal: null, body: null };
    for (const rule of this.rules) {
      if (!matches(rule, facts)) continue;
      const action = rule.action;
      if (action.kind === "latency") plan.latencyMs += action.ms;
      else if (action.kind === "error" || action.kind === "reset") {
        if (plan.terminal !== null) continue;
        plan.terminal = action;
      } else {
        if (!facts.streamsBody || plan.body !== null) continue;
        plan.body = action;
      }
      if (rule.remaining !== "always") rule.remaining--;
    }
    this.rules = this.rules.filter((r) => r.remaining === "always" || r.remaining > 0);
    return plan;
  }

  /** Called by the sandbox for each cluster it starts. */
  registerCluster(name: string, control: ReachabilityControl): void {
    this.clusters.set(name, control);
  }

  /**
   * Makes every NameNode and DataNode of `cluster` unreachable: "refuse" closes the listening sockets
   * (connection refused), "reset" accepts and immediately resets. After `durationMs` (if given) it comes back.
   */
  async makeUnreachable(cluster: string, mode: UnreachableMode, durationMs?: number): Promise<void> {
    const control = this.control(cluster);
    this.cancelRestore(cluster);
    await control.setUnreachable(mode);
    if (durationMs !== undefined) {
      const timer = setTimeout(() => {
        this.restoreTimers.delete(cluster);
        control.setUnreachable(null).catch(() => undefined);
      }, durationMs);
      this.restoreTimers.set(cluster, timer);
    }
  }

  async makeReachable(cluster: string): Promise<void> {
    this.cancelRestore(cluster);
    await this.control(cluster).setUnreachable(null);
  }

  /** Stops pending restore timers (sandbox shutdown). */
  dispose(): void {
    for (const timer of this.restoreTimers.values()) clearTimeout(timer);
    this.restoreTimers.clear();
  }

  private cancelRestore(cluster: string): void {
    const timer = this.restoreTimers.get(cluster);
    if (timer !== undefined) clearTimeout(timer);
    this.restoreTimers.delete(cluster);
  }

  private control(cluster: string): ReachabilityControl {
    const control = this.clusters.get(cluster);
    if (control === undefined) throw new SandboxError(`unknown cluster "${cluster}"`);
    return control;
  }
}

function matches(rule: ActiveFault, facts: RequestFacts): boolean {
  return (
    (rule.cluster === undefined || rule.cluster === facts.cluster) &&
    (rule.role === undefined || rule.role === facts.role) &&
    (rule.op === undefined || rule.op === facts.op) &&
    (rule.pathPrefix === undefined || facts.path.startsWith(rule.pathPrefix)) &&
    (rule.userName === undefined || rule.userName === facts.userName)
  );
}

function validateRule(rule: FaultRule): void {
  const a = rule.action as FaultAction | undefined;
  const bad = (why: string) => new SandboxError(`invalid fault rule: ${why}`);
  if (a === undefined || typeof a !== "object") throw bad("missing action");
  if (rule.role !== undefined && rule.role !== "namenode" && rule.role !== "datanode") throw bad(`role must be namenode or datanode`);
  if (rule.times !== undefined && rule.times !== "always" && !(Number.isInteger(rule.times) && rule.times > 0)) {
    throw bad(`times must be a positive integer or "always"`);
  }
  switch (a.kind) {
    case "error":
      if (!Number.isInteger(a.status) || a.status < 100 || a.status > 599) throw bad("error.status must be an HTTP status");
      if (typeof a.javaClassName !== "string" || a.javaClassName === "") throw bad("error.javaClassName is required");
      return;
    case "latency":
      if (!(typeof a.ms === "number" && a.ms >= 0)) throw bad("latency.ms must be >= 0");
      return;
    case "reset":
      return;
    case "cut-body":
    case "delete-during-read":
      if (!(Number.isInteger(a.afterBytes) && a.afterBytes >= 0)) throw bad(`${a.kind}.afterBytes must be an integer >= 0`);
      return;
    default:
      throw bad(`unknown action kind "${(a as { kind?: unknown }).kind}"`);
  }
}

/**
 * Applies the latency and terminal part of a fault plan to a request: waits, then resets the connection
 * (returns false: nothing more to answer) or throws the configured remote error. True: serve normally.
 */
export async function applyFaultPlan(plan: FaultPlan, req: IncomingMessage): Promise<boolean> {
  if (plan.latencyMs > 0) await sleep(plan.latencyMs);
  if (plan.terminal?.kind === "reset") {
    req.socket.resetAndDestroy();
    return false;
  }
  if (plan.terminal?.kind === "error") {
    const f = plan.terminal;
    throw new RemoteHdfsError(f.status, f.javaClassName, f.message ?? null, f.exception);
  }
  return true;
}
