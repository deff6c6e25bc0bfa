// The status page at / on the metrics port: one self-contained HTML document
// (inline CSS, no script, no external asset) rendered from the same report as
// /status. Every value is HTML-escaped.

import type { JobReport, StatusReport } from "./report.js";

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** Seconds as "4 s", "12 min 5 s", "3 h 2 min", "2 d 4 h". */
export function humanDuration(seconds: number | null): string {
  if (seconds === null) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function iec(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const e = escapeHtml;

function jobRow(j: JobReport): string {
  const state = j.newestRestorePoint === null ? "bad" : j.rpoMet === false ? "bad" : j.lastError !== null ? "warn" : "ok";
  const cell = (name: string, html: string) => `<td data-field="${name}">${html}</td>`;
  const chk = (c: { id: number; completedAt: { iso: string } } | null) => (c === null ? "–" : `chk-${e(c.id)}<br><small>${e(c.completedAt.iso)}</small>`);
  return [
    `<tr class="${state}" data-job="${e(j.job)}">`,
    cell("job", `<code>${e(j.job || "(root)")}</code>`),
    cell("source", chk(j.newestSourceCheckpoint)),
    cell(
      "restorable",
      chk(j.newestRestorableCheckpoint) +
        (j.newestRestorePoint?.kind === "savepoint" ? `<br>newer savepoint: <code>${e(j.newestRestorePoint.unit)}</code><br><small>${e(j.newestRestorePoint.completedAt.iso)}</small>` : ""),
    ),
    cell("rpo", `<span class="${j.rpoMet === false ? "bad" : "ok"}">${e(humanDuration(j.rpoSeconds))}</span><br><small>objective ${e(humanDuration(j.rpoObjectiveSeconds))}</small>`),
    cell("lag", e(humanDuration(j.lagSeconds))),
    cell("restorable-count", j.restorableCheckpoints === null ? "–" : e(j.restorableCheckpoints)),
    cell(
      "pending",
      j.pending.checkpoints.length === 0
        ? "none"
        : `${e(j.pending.files)} files, ${e(iec(j.pending.bytes))}<br><small>${e(j.pending.checkpoints.length)} to publish: ${e(j.pending.checkpoints.slice(0, 5).join(", "))}${j.pending.checkpoints.length > 5 ? ", …" : ""}</small>`,
    ),
    cell("error", j.lastError === null ? "–" : `<span class="err">${e(j.lastError)}</span>${j.lastErrorAt ? `<br><small>${e(j.lastErrorAt.iso)}</small>` : ""}`),
    "</tr>",
    `<tr class="cmd" data-job="${e(j.job)}"><td colspan="8">`,
    j.restoreCommand === null
      ? `<span data-field="restore-command">no restorable checkpoint yet</span>`
      : `restore: <code data-field="restore-command">${e(j.restoreCommand)}</code>`,
    `<br>verify first: <code data-field="verify-command">${e(j.verifyCommand)}</code>`,
    "</td></tr>",
  ].join("");
}

export function renderStatusPage(r: StatusReport): string {
  const flag = (ok: boolean, yes: string, no: string) => `<span class="${ok ? "ok" : "bad"}">${e(ok ? yes : no)}</span>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>ckpt-replicator: ${e(r.source.name)} → ${e(r.target.name)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
tr.cmd td{border-bottom:2px solid #bbb;background:#fafafa}
code{font:12px ui-monospace,monospace;word-break:break-all}
small{color:#666}
span.ok{color:#116611}span.bad{color:#b00020;font-weight:600}span.warn{color:#9a6700}
tr.bad td:first-child{border-left:4px solid #b00020}tr.warn td:first-child{border-left:4px solid #d4a72c}tr.ok td:first-child{border-left:4px solid #2da44e}
.err{color:#b00020}
</style>
</head>
<body>
<h1>ckpt-replicator: ${e(r.source.name)} → ${e(r.target.name)}</h1>
<p id="summary">
source ${e(r.source.name)}: ${flag(r.source.healthy, "healthy", "unhealthy")} ·
target ${e(r.target.name)}: <span data-field="target-reachable">${flag(r.target.reachable, "reachable", "unreachable")}</span> ·
lease: ${flag(r.leaseHeld, "held", "not held")} ·
last scan: ${r.lastScanAt ? e(r.lastScanAt.iso) : "none yet"} ·
copy queue: ${e(r.copyQueueFiles)} files, ${e(iec(r.bytesInFlight))} in flight ·
page generated ${e(r.generatedAt.iso)}
</p>
<table id="jobs">
<thead><tr><th>job</th><th>newest source checkpoint</th><th>newest restorable on target</th><th>RPO</th><th>lag</th><th>restorable</th><th>pending</th><th>last error</th></tr></thead>
<tbody>
${r.jobs.length === 0 ? `<tr><td colspan="8">no job seen yet</td></tr>` : r.jobs.map(jobRow).join("\n")}
</tbody>
</table>
<p><small>RPO: age of the newest restore point on the target, the restorable checkpoint or savepoint that completed last on the source. Lag: newest source checkpoint minus newest restorable, by NameNode time. Restorable: last verified count, kept while the target is unreachable. Pending: what the checkpoints selected to publish still lack on the target. JSON: <a href="status">/status</a>, metrics: <a href="metrics">/metrics</a>.</small></p>
</body>
</html>
`;
}
