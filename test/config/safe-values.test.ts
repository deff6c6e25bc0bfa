// Issue #9 §3: durations need units, loop and deadline durations have minimums
// that the error states, and metrics.listen explains a bare port.

import { describe, expect, it } from "vitest";
import { ConfigError, parseConfigText } from "../../src/config/load.js";

const minimal = `
source: {namenodes: ["http://127.0.0.1:1"], uri: "hdfs://ns1"}
target: {namenodes: ["http://127.0.0.1:2"], uri: "hdfs://ns2"}
paths: [{source: /flink/cp, target: /dr/cp}]
`;

/** `extra` is appended; a "source:"/"target:" extra adds its keys to that side instead. */
async function rejection(extra: string): Promise<string> {
  const side = /^(source|target): \{(.*)\}$/.exec(extra);
  const text = side ? minimal.replace(new RegExp(`^${side[1]}: \\{(.*)\\}$`, "m"), `${side[1]}: {$1, ${side[2]}}`) : minimal + extra;
  const err = await parseConfigText(text, "safe.yaml", {}).then(() => null, (e: unknown) => e);
  expect(err, `accepted: ${extra}`).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

describe("safe configuration values", () => {
  it.each([
    ["lease: {ttl: 0}", "lease.ttl: 0 has no unit; write a duration with its unit, e.g. 0ms or 0s"],
    ["scan: {interval: 0}", "scan.interval: 0 has no unit"],
    ["scan: {interval: 60}", "scan.interval: 60 has no unit; write a duration with its unit, e.g. 60ms or 60s"],
    ['scan: {interval: "60"}', "scan.interval: 60 has no unit"],
    ["source: {requestTimeout: 30}", "source.requestTimeout: 30 has no unit"],
    ["reap: {tempGrace: 600}", "reap.tempGrace: 600 has no unit"],
  ])("rejects the bare number in %s", async (extra, expected) => {
    expect(await rejection(extra)).toContain(expected);
  });

  it.each([
    ["lease: {ttl: 0s}", "lease.ttl: 0s is below the minimum of 500ms (the lease is renewed every ttl/4 and writes pause at ttl/2)"],
    ["lease: {ttl: 100ms}", "lease.ttl: 100ms is below the minimum of 500ms"],
    ["scan: {interval: 0s}", "scan.interval: 0s is below the minimum of 100ms (a shorter interval only multiplies requests and failure logs)"],
    ["scan: {interval: 10ms}", "scan.interval: 10ms is below the minimum of 100ms"],
    ["reap: {tempGrace: 10ms}", "reap.tempGrace: 10ms is below the minimum of 1s (a younger temporary may still be being written)"],
    ["target: {requestTimeout: 0s}", "target.requestTimeout: 0s is below the minimum of 100ms"],
  ])("rejects %s stating the minimum", async (extra, expected) => {
    expect(await rejection(extra)).toContain(expected);
  });

  it("accepts values at the minimums", async () => {
    const cfg = await parseConfigText(minimal + "lease: {ttl: 500ms}\nscan: {interval: 100ms}\nreap: {tempGrace: 1s}\n", "safe.yaml", {});
    expect([cfg.lease.ttl, cfg.scan.interval, cfg.reap.tempGrace]).toEqual([500, 100, 1000]);
  });

  it("metrics.listen: a bare port gets a helpful message; host:port and false are accepted", async () => {
    expect(await rejection("metrics: {listen: 9464}")).toContain(
      'metrics.listen: 9464 is a bare port; write host:port as a string, e.g. "127.0.0.1:9464" (this host only) or "0.0.0.0:9464" (every interface)',
    );
    expect(await rejection('metrics: {listen: "9464"}')).toContain("metrics.listen: 9464 is a bare port");
    expect(await rejection('metrics: {listen: "localhost:70000"}')).toContain('metrics.listen: "localhost:70000" must be host:port with a port from 0 to 65535');
    expect(await rejection("metrics: true")).toContain('metrics: must be false (no metrics endpoint) or a mapping such as {listen: "127.0.0.1:9464"}');
    expect((await parseConfigText(minimal + 'metrics: {listen: "0.0.0.0:9464"}', "safe.yaml", {})).metrics).toEqual({ listen: "0.0.0.0:9464" });
    expect((await parseConfigText(minimal + "metrics: false", "safe.yaml", {})).metrics).toBe(false);
  });
});
