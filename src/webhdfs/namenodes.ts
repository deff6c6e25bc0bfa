// NameNode high availability and retries: which NameNode is believed active, the
// failover order, the classification of a failure (fail over / back off and retry /
// give up) and the bounded retry loop with jittered exponential backoff.

import type { Logger } from "../util/log.js";
import { WebHdfsError } from "./errors.js";
import type { RetryPolicy } from "./types.js";

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

const RETRY_SAME_NAMENODE = new Set([
  "org.apache.hadoop.ipc.RetriableException",
  "org.apache.hadoop.hdfs.server.namenode.SafeModeException",
]);

/** The client stopped talking to one NameNode and now talks to another (a failover as the client lives it). */
export type NamenodeSwitchListener = (from: string, to: string) => void;

/**
 * Remembers the NameNode that last answered authoritatively; the rest are tried in configured order.
 * Each change of that NameNode is announced to `onSwitch` once, at the moment it happens.
 */
export class NamenodeSelector {
  readonly #urls: readonly string[];
  readonly #onSwitch: NamenodeSwitchListener | undefined;
  #active = 0;

  constructor(urls: readonly string[], onSwitch?: NamenodeSwitchListener) {
    if (urls.length === 0) throw new Error("a cluster needs at least one NameNode URL");
    this.#urls = [...urls];
    this.#onSwitch = onSwitch;
  }

  active(): string {
    return this.#urls[this.#active] as string;
  }

  /** All NameNodes, the believed-active one first. */
  failoverOrder(): string[] {
    return this.#urls.map((_, i) => this.#urls[(this.#active + i) % this.#urls.length] as string);
  }

  markActive(url: string): void {
    const index = this.#urls.indexOf(url);
    if (index < 0 || index === this.#active) return;
    const from = this.active();
    this.#active = index;
    this.#onSwitch?.(from, url);
  }
}

export type FailureAction = "failover" | "retry" | "fail";

/**
 * What to do after a failed attempt:
 * - `failover`: the NameNode is standby or unreachable (connection refused/reset, deadline) -> next NameNode;
 * - `retry`: transient (RetriableException, safe mode, 5xx, DataNode network failure) -> back off, same NameNode;
 * - `fail`: anything else (not found, permission, unexpected answers, caller abort, consumed upload body).
 */
export function classifyFailure(err: unknown): FailureAction {
  if (!(err instanceof WebHdfsError)) return "fail";
  if (err.failure === "aborted" || err.bodyConsumed === true) return "fail";
  if (err.javaClassName === "org.apache.hadoop.ipc.StandbyException") return "failover";
  if (err.javaClassName !== undefined && RETRY_SAME_NAMENODE.has(err.javaClassName)) return "retry";
  if (err.failure === "network" || err.failure === "timeout") return err.step === "namenode" ? "failover" : "retry";
  if (err.failure === "truncated") return "retry";
  if (err.status !== undefined && err.status >= 500) return "retry";
  return "fail";
}

/** Full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with `onAbort()` as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  if (signal?.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = (): void => {
      clearTimeout(timer);
      reject(onAbort());
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
}

export interface RetryContext {
  selector: NamenodeSelector;
  policy: RetryPolicy;
  logger: Logger;
  signal?: AbortSignal;
  /** The error to throw when the caller aborts during a backoff sleep. */
  abortError: () => Error;
  /** For log lines. */
  describe: string;
}

/**
 * Runs `attempt(namenode)` until it succeeds, fails for good, or `policy.maxAttempts` attempts were made.
 * One attempt is one round over the NameNodes starting at the believed-active one (a round ends early on
 * a transient failure); between attempts it backs off. A NameNode that answers anything but a standby or
 * connection failure becomes the remembered active one.
 */
export async function withFailover<T>(ctx: RetryContext, attempt: (namenode: string) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let round = 1; ; round++) {
    for (const namenode of ctx.selector.failoverOrder()) {
      let action: FailureAction;
      try {
        const result = await attempt(namenode);
        ctx.selector.markActive(namenode);
        return result;
      } catch (err) {
        lastError = err;
        action = classifyFailure(err);
        if (action !== "failover") ctx.selector.markActive(namenode);
        ctx.logger.debug({ op: ctx.describe, namenode, round, action, err: errorSummary(err) }, "webhdfs attempt failed");
      }
      if (action === "fail") throw withAttempts(lastError, round);
      if (action === "retry") break;
    }
    if (round >= ctx.policy.maxAttempts) throw withAttempts(lastError, round);
    const delay = backoffDelay(round, ctx.policy);
    ctx.logger.debug({ op: ctx.describe, round, delayMs: delay, err: errorSummary(lastError) }, "webhdfs retrying");
    await sleep(delay, ctx.signal, ctx.abortError);
  }
}

function withAttempts(err: unknown, attempts: number): unknown {
  return err instanceof WebHdfsError && attempts > 1 ? err.with({ attempts }) : err;
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
