// Contract items 55-57 (secure mode) of the emulator against a Kerberized real NameNode: the same raw
// WebHDFS requests to both, reduced to what the contract says matters, and compared. The real side
// authenticates with real SPNEGO (the product's GssNegotiator, from a keytab); the emulator side with
// its test stand-in (`Authorization: Negotiate <anything>`). Token values themselves differ (other
// secret, other ids) and are compared by shape only. Also the raw http(s) request helper of the
// secure scenario.

import http from "node:http";
import https from "node:https";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { startSandbox } from "../../src/sandbox/emulator/index.js";

export interface SecureDiff {
  checked: number;
  same: string[];
  differences: Array<{ item: string; real: unknown; emulator: unknown }>;
  observed: Record<string, unknown>;
}

export interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One raw request (http or https; `ca` trusted for https, the certificate checked for localhost), body as text. */
export function req(method: string, url: string, o: { headers?: Record<string, string>; ca?: Buffer } = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith("https:") ? https : http;
    const r = mod.request(url, { method, timeout: 20_000, headers: o.headers ?? {}, ...(o.ca ? { ca: o.ca, servername: "localhost" } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    r.on("timeout", () => r.destroy(new Error(`timeout ${method} ${url}`)));
    r.on("error", reject);
    r.end();
  });
}

const json = (body: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return null;
  }
};

/** The remote exception of a refused token, with the token's own description (ids, dates) cut out. */
function refusal(r: Resp): Record<string, unknown> {
  const e = (json(r.body)?.RemoteException ?? {}) as { exception?: string; javaClassName?: string; message?: string };
  const msg = e.message ?? "";
  return {
    status: r.status,
    exception: e.exception ?? null,
    javaClassName: e.javaClassName ?? null,
    startsWithUgiFailure: msg.startsWith("Failed to obtain user group information: "),
    namesInvalidToken: msg.includes("SecretManager$InvalidToken"),
    // Token-independent for a cancelled token, so compared as text.
    invalidTokenMessage: msg.replace(/^.*SecretManager\$InvalidToken: /, ""),
  };
}

/** One side's answers: items 55 (no credentials), 57 (fetch, renew, cancel), 56 (the cancelled token used). */
async function probe(nn: string, negotiate: () => Promise<string>, renewer: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const anon = await req("GET", `${nn}/webhdfs/v1/?op=GETFILESTATUS`);
  out["55 no credentials"] = { status: anon.status, wwwAuthenticate: anon.headers["www-authenticate"] ?? null, bodyIsJson: json(anon.body) !== null };
  const got = await req("GET", `${nn}/webhdfs/v1/?op=GETDELEGATIONTOKEN&renewer=${renewer}`, { headers: { authorization: await negotiate() } });
  const tok = ((json(got.body)?.Token ?? null) as { urlString?: string } | null)?.urlString ?? "";
  out["57 GETDELEGATIONTOKEN"] = { status: got.status, keys: Object.keys(json(got.body) ?? {}), tokenKeys: Object.keys((json(got.body)?.Token ?? {}) as object),
    urlSafeBase64: /^[A-Za-z0-9_-]+$/.test(tok) };
  const used = await req("GET", `${nn}/webhdfs/v1/?op=GETFILESTATUS&delegation=${tok}`);
  out["57 token accepted"] = { status: used.status };
  const renewed = await req("PUT", `${nn}/webhdfs/v1/?op=RENEWDELEGATIONTOKEN&token=${tok}`, { headers: { authorization: await negotiate() } });
  out["57 RENEWDELEGATIONTOKEN"] = { status: renewed.status, keys: Object.keys(json(renewed.body) ?? {}), longIsNumber: typeof json(renewed.body)?.long === "number" };
  const cancelled = await req("PUT", `${nn}/webhdfs/v1/?op=CANCELDELEGATIONTOKEN&token=${tok}`, { headers: { authorization: await negotiate() } });
  out["57 CANCELDELEGATIONTOKEN"] = { status: cancelled.status, bodyEmpty: cancelled.body.length === 0 };
  out["56 cancelled token used"] = refusal(await req("GET", `${nn}/webhdfs/v1/?op=GETFILESTATUS&delegation=${tok}`));
  return out;
}

export async function runSecureDiff(o: { realNamenode: string; negotiate: () => Promise<string>; renewer: string; work: string }): Promise<SecureDiff> {
  const real = await probe(o.realNamenode, o.negotiate, o.renewer);
  const stateDir = await mkdtemp(join(o.work, "secure-emulator-"));
  const sandbox = await startSandbox({ stateDir, clusters: ["hdfs9"], superuser: "root", defaultReplication: 1, security: { enabled: true, spnegoUser: o.renewer } });
  let emulated: Record<string, unknown>;
  try {
    const nn = sandbox.endpoints.clusters.hdfs9!.namenodes[0]!;
    emulated = await probe(nn, () => Promise.resolve("Negotiate emulator-stand-in"), o.renewer);
  } finally {
    await sandbox.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  const same: string[] = [];
  const differences: SecureDiff["differences"] = [];
  for (const item of Object.keys(real)) {
    if (JSON.stringify(real[item]) === JSON.stringify(emulated[item])) same.push(item);
    else differences.push({ item, real: real[item], emulator: emulated[item] });
  }
  return { checked: Object.keys(real).length, same, differences, observed: { real } };
}
