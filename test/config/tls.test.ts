// The `<side>.tls` keys: PEM files read at load (CA bundle, client certificate and key,
// server name), and each misconfiguration refused with the key and the file named.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, parseConfigText } from "../../src/config/load.js";
import { createTestCa, opensslForSuite, type TestCa } from "../helpers/test-ca.js";
import { webhdfsSettings } from "../../src/storage/webhdfs-backend.js";

let ca: TestCa | undefined;

beforeAll(async () => {
  const openssl = opensslForSuite();
  if (openssl !== null) ca = await createTestCa(openssl);
});
beforeEach((ctx) => {
  if (ca === undefined) ctx.skip("openssl is not installed");
});
afterAll(async () => {
  await ca?.remove();
});

const config = (tls: string, url = "https://127.0.0.1:1") => `
source: {namenodes: ["${url}"], uri: "hdfs://ns1", tls: ${tls}}
target: {namenodes: ["http://127.0.0.1:2"], uri: "hdfs://ns2"}
paths: [{source: /flink/cp, target: /dr/cp}]
`;

async function problemsOf(text: string): Promise<string> {
  const err = await parseConfigText(text, "tls.yaml", {}).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

describe("source.tls / target.tls", () => {
  it("reads the CA bundle, client certificate and key, and keeps the server name", async () => {
    const f = (ca as TestCa).files;
    const cfg = await parseConfigText(config(`{ca: "${f.ca}", cert: "${f.clientCert}", key: "${f.clientKey}", serverName: nn1.example.com}`), "t.yaml", {});
    expect(webhdfsSettings(cfg.source).tls).toEqual({ ca: (ca as TestCa).ca, cert: (ca as TestCa).client.cert, key: (ca as TestCa).client.key, serverName: "nn1.example.com" });
    expect(webhdfsSettings(cfg.target).tls).toBeUndefined();
  });

  it.each([
    ["a certificate without its key", () => `{cert: "${(ca as TestCa).files.clientCert}"}`, "source.tls: give both cert and key, or neither"],
    ["an unreadable CA file", () => `{ca: /nonexistent/ca.pem}`, "source.tls.ca: cannot read /nonexistent/ca.pem (ENOENT)"],
    ["a key of another certificate", () => `{cert: "${(ca as TestCa).files.clientCert}", key: "${(ca as TestCa).files.serverKey}"}`, "source.tls.key: " ],
    ["a CA file that is not PEM", () => `{ca: "${join((ca as TestCa).dir, "garbage.pem")}"}`, "is not a usable PEM certificate"],
  ])("refuses %s, naming the key", async (_name, tls, expected) => {
    await writeFile(join((ca as TestCa).dir, "garbage.pem"), "not a certificate\n");
    const message = await problemsOf(config(tls()));
    expect(message).toContain(expected);
    expect(message).not.toContain("PRIVATE KEY");
  });

  it("refuses tls on a side whose NameNodes are all http://", async () => {
    expect(await problemsOf(config(`{ca: "${(ca as TestCa).files.ca}"}`, "http://127.0.0.1:1"))).toContain("source.tls: set, but no source.namenodes URL is https://");
  });
});

describe("source.kerberos / delegationToken.file", () => {
  const side = (extra: string) => `
source: {namenodes: ["http://127.0.0.1:1"], uri: "hdfs://ns1", ${extra}}
target: {namenodes: ["http://127.0.0.1:2"], uri: "hdfs://ns2"}
paths: [{source: /flink/cp, target: /dr/cp}]
`;
  it("keeps principal, keytab, service principal and renewer; a token file keeps its path for re-reading", async () => {
    const keytab = join((ca as TestCa).dir, "replicator.keytab");
    await writeFile(keytab, "not checked here");
    const cfg = await parseConfigText(side(`kerberos: {principal: replicator@EXAMPLE.COM, keytab: "${keytab}", servicePrincipal: HTTP@nn.example.com}`), "k.yaml", {});
    expect(webhdfsSettings(cfg.source).kerberos).toEqual({ principal: "replicator@EXAMPLE.COM", keytab, servicePrincipal: "HTTP@nn.example.com" });
    const token = join((ca as TestCa).dir, "token");
    await writeFile(token, "TOKEN\n");
    expect(webhdfsSettings((await parseConfigText(side(`delegationToken: {file: "${token}"}`), "k.yaml", {})).source).delegationTokenFile).toBe(token);
  });

  it.each([
    ["a principal without realm", "kerberos: {principal: replicator}", "source.kerberos.principal: must be a Kerberos principal"],
    ["an unreadable keytab", "kerberos: {principal: r@EXAMPLE.COM, keytab: /nonexistent/r.keytab}", "source.kerberos.keytab: cannot read /nonexistent/r.keytab (ENOENT)"],
    ["kerberos with a static token", "kerberos: {principal: r@EXAMPLE.COM}, delegationToken: {env: T}", "give kerberos or delegationToken, not both"],
    ["kerberos with user", "kerberos: {principal: r@EXAMPLE.COM}, user: flink", "source.user: not used with kerberos"],
  ])("refuses %s, naming the key", async (_name, extra, expected) => {
    const err = await parseConfigText(side(extra), "k.yaml", { T: "x" }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(expected);
  });
});
