// The status page at / as an operator's browser shows it (headless Chromium via
// playwright-core, Debian's /usr/bin/chromium): per job the newest source and
// restorable checkpoints, RPO against its objective, lag, restorable count, last
// error and the ready restore command; every value HTML-escaped (markup in an
// error message stays text and never runs), and nothing loaded but the page.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics/metrics.js";
import { buildReport } from "../../src/metrics/report.js";
import { startStatusServer } from "../../src/metrics/server.js";
import { escapeHtml, renderStatusPage } from "../../src/metrics/page.js";
import type { EngineStatus } from "../../src/replication/index.js";
import { newJobStatus } from "../../src/replication/status.js";
import { findTool, requireTool } from "../helpers/tools.js";

const CHROMIUM = "/usr/bin/chromium";
const NOW = Date.parse("2026-12-01T10:00:00.000Z");
const EVIL = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> & "quotes" 'too'`;

function status(): EngineStatus {
  return {
    jobs: [
      {
        ...newJobStatus("a1b2c3d4", "/flink/checkpoints/a1b2c3d4", "/dr/flink/a1b2c3d4"),
        newestSourceCheckpoint: 12,
        newestSourceCompletedAt: NOW - 30_000,
        newestPublishedCheckpoint: 10,
        newestPublishedCompletedAt: NOW - 95_000,
        lastPublishAt: NOW - 90_000,
        publishedOnTarget: 2,
        restorableCheckedAt: NOW - 5_000,
        current: { unit: "chk-12", filesTotal: 37, filesDone: 17, bytesTotal: 3 * 1024 * 1024, bytesDone: 1024 * 1024 },
        // The whole backlog: chk-12 (20 files, 2 MiB left) and chk-11 behind it.
        pending: { files: 31, bytes: 3 * 1024 * 1024, checkpoints: ["chk-12", "chk-11"] },
        lastError: EVIL,
        lastErrorAt: NOW - 10_000,
      },
      { ...newJobStatus("ffff0000", "/flink/checkpoints/ffff0000", "/dr/flink/ffff0000"), newestSourceCheckpoint: 3, newestSourceCompletedAt: NOW - 1000, restorableCheckedAt: NOW - 5000 },
    ],
    lastScanAt: NOW - 2000,
    lastScanOk: false,
    sourceRootsHealthy: true,
    targetRootsHealthy: false,
    copyQueue: 20,
    bytesInFlight: 2 * 1024 * 1024,
    bandwidth: 0,
  };
}

describe("status page rendering", () => {
  it("escapes every HTML-special character", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const html = renderStatusPage(buildReport({ status: status(), now: NOW }));
    expect(html).not.toContain("<img");
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&lt;script&gt;window.__pwned=2&lt;/script&gt;");
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//); // nothing external
    expect(html).not.toMatch(/<link\b/);
  });
});

describe("status page in headless Chromium", () => {
  let context: BrowserContext | null = null;
  let userDataDir = "";
  let server: { url: string; close(): Promise<void> } | null = null;
  const requests: string[] = [];

  beforeAll(async () => {
    if (findTool(CHROMIUM) === null) return;
    const metrics = createMetrics({ defaultMetrics: false });
    const current = status();
    metrics.bindStatus(() => current, () => true);
    metrics.setRpo({ objective: 15 * 60_000, jobs: { a1b2c3d4: 60_000 } });
    server = await startStatusServer({
      listen: "127.0.0.1:0",
      registry: metrics.registry,
      status: () => current,
      report: () => {
        metrics.refresh();
        return buildReport({
          status: current,
          view: metrics.view,
          rpo: metrics.rpo(),
          leaseHeld: true,
          sourceName: "hdfs1",
          targetName: "hdfs2",
          targetUri: (p) => `hdfs://hdfs2${p}`,
          configFile: "/etc/ckpt-replicator/prod-to-dr.yaml",
          now: NOW,
        });
      },
      ready: () => ({ ok: true, reason: "ok" }),
    });
    userDataDir = await mkdtemp(join(tmpdir(), "chromium-profile-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    context.on("request", (r) => requests.push(r.url()));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it("shows each job's checkpoints, RPO, lag, restorable count, last error and restore command, escaped and self-contained", async (ctx) => {
    requireTool(ctx, CHROMIUM, "status page in headless Chromium");
    if (!context || !server) throw new Error("Chromium did not start");
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const res = await page.goto(`${server.url}/`, { waitUntil: "load", timeout: 15_000 });
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(await page.title()).toBe("ckpt-replicator: hdfs1 → hdfs2");

    const row = page.locator('tr[data-job="a1b2c3d4"]:not(.cmd)');
    const cell = async (field: string) => (await row.locator(`td[data-field="${field}"]`).innerText()).replace(/\s+/g, " ").trim();
    expect(await cell("job")).toBe("a1b2c3d4");
    expect(await cell("source")).toBe("chk-12 2026-12-01T09:59:30.000Z");
    expect(await cell("restorable")).toBe("chk-10 2026-12-01T09:58:25.000Z");
    expect(await cell("rpo")).toBe("1 min 35 s objective 1 min 0 s");
    expect(await cell("lag")).toBe("1 min 5 s");
    expect(await cell("restorable-count")).toBe("2");
    expect(await cell("pending")).toBe("31 files, 3.0 MiB 2 to publish: chk-12, chk-11");
    expect(await cell("error")).toBe(`${EVIL} 2026-12-01T09:59:50.000Z`.replace(/\s+/g, " "));
    expect(await row.getAttribute("class")).toBe("bad"); // over its objective
    const cmd = page.locator('tr.cmd[data-job="a1b2c3d4"]');
    expect(await cmd.locator('[data-field="restore-command"]').innerText()).toBe(
      "flink run --fromSavepoint hdfs://hdfs2/dr/flink/a1b2c3d4/chk-10 --restoreMode no_claim <your-job.jar>",
    );
    expect(await cmd.locator('[data-field="verify-command"]').innerText()).toBe(
      "ckpt-replicator latest --config /etc/ckpt-replicator/prod-to-dr.yaml --job a1b2c3d4 --format flink",
    );

    // A job with nothing on the target yet, and the target shown as unreachable.
    expect((await page.locator('tr[data-job="ffff0000"]:not(.cmd) td[data-field="restorable"]').innerText()).trim()).toBe("–");
    expect(await page.locator('tr.cmd[data-job="ffff0000"] [data-field="restore-command"]').innerText()).toBe("no restorable checkpoint yet");
    expect((await page.locator('[data-field="target-reachable"]').innerText()).trim()).toBe("unreachable");

    // The injected markup stayed text: no element was created from it and nothing ran.
    expect(await page.locator("img, script").count()).toBe(0);
    expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
    expect(errors).toEqual([]);
    const origin = new URL(server.url).origin;
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(requests.filter((u) => u !== `${origin}/` && u !== `${origin}/favicon.ico`)).toEqual([]);
    await page.close();
  }, 60_000);
});
