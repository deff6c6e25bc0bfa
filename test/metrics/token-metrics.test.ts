// The delegation-token metrics: expiry per cluster, renewals, re-fetches and
// failures, read from the clients at scrape time; nothing for a side without a token.

import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics/metrics.js";
import type { TokenStatus } from "../../src/webhdfs/index.js";

describe("delegation token metrics", () => {
  it("export each managed token's expiry and counts, labelled by cluster, and follow them between scrapes", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const token: TokenStatus = { source: "kerberos", expiresAt: 1_700_000_000_000, maxDate: 1_700_500_000_000, renewals: 2, refetches: 0, failures: 1 };
    m.watchTokens([
      { cluster: "hdfs1", token: () => token },
      { cluster: "hdfs2", token: () => null },
    ]);
    let text = await m.registry.metrics();
    const lines = text.split("\n");
    expect(lines).toContain('ckpt_replicator_delegation_token_expiry_timestamp_seconds{cluster="hdfs1",source="kerberos"} 1700000000');
    expect(lines).toContain('ckpt_replicator_delegation_token_renewals_total{cluster="hdfs1"} 2');
    expect(lines).toContain('ckpt_replicator_delegation_token_refetches_total{cluster="hdfs1"} 0');
    expect(lines).toContain('ckpt_replicator_delegation_token_failures_total{cluster="hdfs1"} 1');
    expect(text).not.toContain('cluster="hdfs2"');

    Object.assign(token, { expiresAt: 1_700_003_600_000, renewals: 3, refetches: 1 });
    text = await m.registry.metrics();
    expect(text.split("\n")).toContain('ckpt_replicator_delegation_token_expiry_timestamp_seconds{cluster="hdfs1",source="kerberos"} 1700003600');
    expect(text.split("\n")).toContain('ckpt_replicator_delegation_token_renewals_total{cluster="hdfs1"} 3');
    expect(text.split("\n")).toContain('ckpt_replicator_delegation_token_refetches_total{cluster="hdfs1"} 1');
  });
});
