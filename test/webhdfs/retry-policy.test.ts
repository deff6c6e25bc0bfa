// Backoff arithmetic, failure classification and NameNode order, without servers.

import { describe, expect, it } from "vitest";
import { WebHdfsError, type WebHdfsErrorDetails } from "../../src/webhdfs/errors.js";
import { NamenodeSelector, backoffDelay, classifyFailure } from "../../src/webhdfs/namenodes.js";

const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

function error(fields: Partial<WebHdfsErrorDetails>): WebHdfsError {
  return new WebHdfsError({ cluster: "c", operation: "OP", path: "/p", step: "namenode", failure: "remote", ...fields });
}

describe("backoffDelay", () => {
  it("doubles its ceiling per attempt up to maxDelayMs, with full jitter", () => {
    expect([1, 2, 3, 4, 7, 20].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 4999, 4999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    const samples = Array.from({ length: 200 }, () => backoffDelay(2, policy));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(200);
    expect(new Set(samples).size).toBeGreaterThan(10);
  });
});

describe("classifyFailure", () => {
  it.each([
    [{ javaClassName: "org.apache.hadoop.ipc.StandbyException", status: 403 }, "failover"],
    [{ failure: "network", code: "ECONNREFUSED" }, "failover"],
    [{ failure: "timeout" }, "failover"],
    [{ failure: "network", step: "datanode" }, "retry"],
    [{ javaClassName: "org.apache.hadoop.ipc.RetriableException", status: 403 }, "retry"],
    [{ javaClassName: "org.apache.hadoop.hdfs.server.namenode.SafeModeException", status: 403 }, "retry"],
    [{ failure: "http-status", status: 503 }, "retry"],
    [{ javaClassName: "java.io.FileNotFoundException", status: 404 }, "fail"],
    [{ failure: "http-status", status: 404 }, "fail"],
    [{ failure: "unexpected-response", status: 200 }, "fail"],
    [{ failure: "aborted" }, "fail"],
    [{ failure: "network", step: "datanode", bodyConsumed: true }, "fail"],
  ] as [Partial<WebHdfsErrorDetails>, string][])("%j -> %s", (fields, action) => {
    expect(classifyFailure(error(fields))).toBe(action);
  });

  it("anything that is not a WebHdfsError fails at once", () => {
    expect(classifyFailure(new Error("source stream broke"))).toBe("fail");
  });
});

describe("NamenodeSelector", () => {
  it("starts with the first NameNode and rotates the failover order from the active one", () => {
    const selector = new NamenodeSelector(["a", "b", "c"]);
    expect(selector.failoverOrder()).toEqual(["a", "b", "c"]);
    selector.markActive("c");
    expect(selector.active()).toBe("c");
    expect(selector.failoverOrder()).toEqual(["c", "a", "b"]);
    selector.markActive("unknown");
    expect(selector.active()).toBe("c");
  });
});
