// Token renewal on a host whose clock is off from the NameNode's: the token's dates are on the
// NameNode's clock, so the daemon estimates the offset from a fetched token's issue date and judges
// renewals and max dates with it. Without that, a host 15 minutes fast took every fresh 10-minute
// token for past its max date and re-fetched in a loop; a slow host renewed too late.

import { describe, expect, it } from "vitest";
import { KerberosTokenAuth, type TokenOps } from "../../src/webhdfs/delegation.js";
import { encodeIdentifier, encodeToken } from "../../src/webhdfs/token-codec.js";
import { silentLogger } from "../../src/util/log.js";

const RENEW_INTERVAL = 60_000;
const MAX_LIFETIME = 600_000;

/** A NameNode whose clock is `nnClock()`: tokens issued now, renewals extend by the interval up to the max date. */
function namenode(nnClock: () => number) {
  const calls = { fetch: 0, renew: 0 };
  let seq = 0;
  const maxDates = new Map<string, number>();
  const ops: TokenOps = {
    async fetch() {
      calls.fetch++;
      const issueDate = nnClock();
      const identifierBytes = encodeIdentifier({ owner: "replicator", renewer: "replicator", realUser: "", issueDate, maxDate: issueDate + MAX_LIFETIME, sequenceNumber: ++seq, masterKeyId: 1 });
      const token = encodeToken({ identifierBytes, password: Buffer.alloc(20, seq), kind: "HDFS_DELEGATION_TOKEN", service: "127.0.0.1:8020" });
      maxDates.set(token, issueDate + MAX_LIFETIME);
      return token;
    },
    async renew(token) {
      calls.renew++;
      return Math.min(nnClock() + RENEW_INTERVAL, maxDates.get(token)!);
    },
    async cancel() {},
  };
  return { ops, calls };
}

describe("delegation tokens on a skewed host clock", () => {
  for (const skewMs of [15 * 60_000, -15 * 60_000, 0]) {
    it(`renews on schedule and re-fetches once per max lifetime with the host ${skewMs / 60_000} min off`, async () => {
      let t = Date.UTC(2026, 11, 1, 12, 0, 0); // the NameNode's time
      const nn = namenode(() => t);
      const auth = new KerberosTokenAuth({
        negotiator: { principal: "replicator@EXAMPLE.COM", authorization: async () => "Negotiate x" },
        ops: nn.ops,
        logger: silentLogger,
        now: () => t + skewMs, // the host's clock
      });
      // 20 minutes of requests, one every 5 s.
      for (let i = 0; i < 240; i++) {
        await auth.prepare();
        t += 5_000;
      }
      // Two max lifetimes of 10 minutes: the first fetch and one or two replacements, never a fetch per request.
      expect(nn.calls.fetch).toBeGreaterThanOrEqual(2);
      expect(nn.calls.fetch).toBeLessThanOrEqual(3);
      // Renewed every ~45 s (3/4 of the 60 s interval): about 26 in 20 minutes, plus one per fetch.
      expect(nn.calls.renew).toBeGreaterThanOrEqual(20);
      expect(nn.calls.renew).toBeLessThanOrEqual(35);
      expect(auth.status().failures).toBe(0);
    });
  }
});
