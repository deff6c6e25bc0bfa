// Namespace operations and answer interpretation against a scripted fake NameNode:
// {"boolean":false} never read as success, HTML 404 vs FileNotFound, garbage 2xx,
// path/query encoding of special characters, LISTSTATUS_BATCH paging and fallback,
// and delegation tokens kept out of every error message and log line.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  HdfsPathError, WebHdfsClient, WebHdfsError, createSimpleAuth, encodeHdfsPath, isNotFound, isPermissionDenied,
} from "../../src/webhdfs/index.js";
import { maskUrl } from "../../src/webhdfs/paths.js";
import {
  FAST_RETRY, NOT_FOUND, captureLogger, fileStatus, redirect, sendEmpty, sendJson, sendRemoteException, startFakeServer,
  type FakeServer, type Handler,
} from "./fake-server.js";

let nn: FakeServer | undefined;
let c: WebHdfsClient | undefined;

afterEach(async () => {
  c?.close();
  await nn?.close();
  nn = undefined;
});

async function namenode(handler: Handler, extra: { delegationToken?: string; logger?: ReturnType<typeof captureLogger>["logger"] } = {}): Promise<WebHdfsClient> {
  nn = await startFakeServer(handler);
  c = new WebHdfsClient(
    { name: "hdfs2", namenodes: [nn.url], user: "flink", retry: FAST_RETRY, delegationToken: extra.delegationToken },
    { logger: extra.logger },
  );
  return c;
}

describe("answers that are not success", () => {
  it('RENAME sends renameoptions and treats {"boolean":false} as an error', async () => {
    const client = await namenode((_req, res) => sendJson(res, 200, { boolean: false }));
    const err = await client.rename("/a", "/b").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebHdfsError);
    expect((err as WebHdfsError).failure).toBe("rejected");
    expect((err as WebHdfsError).message).toMatch(/^hdfs2: RENAME \/a -> \/b failed at namenode http:\/\/127\.0\.0\.1:\d+ \(200 rejected\)/);
    expect(nn?.requests[0]?.query.get("renameoptions")).toBe("NONE");
    await expect(client.rename("/a", "/b", { overwrite: true })).rejects.toBeInstanceOf(WebHdfsError);
    expect(nn?.requests[1]?.query.get("renameoptions")).toBe("OVERWRITE");
  });

  it("RENAME succeeds on 200 with an empty body", async () => {
    const client = await namenode((_req, res) => sendEmpty(res));
    await expect(client.rename("/a", "/b")).resolves.toBeUndefined();
  });

  it("RENAME onto an existing path reports the server's exception in one line", async () => {
    const client = await namenode((_req, res) =>
      sendRemoteException(res, 403, "org.apache.hadoop.fs.FileAlreadyExistsException", "rename destination /b already exists"),
    );
    const err = (await client.rename("/a", "/b").catch((e: unknown) => e)) as WebHdfsError;
    expect(err.message).toBe(
      `hdfs2: RENAME /a -> /b failed at namenode ${nn?.url} (403 FileAlreadyExistsException): rename destination /b already exists`,
    );
  });

  it('MKDIRS answering {"boolean":false} is an error; DELETE returns the boolean', async () => {
    const client = await namenode((_req, res, r) =>
      sendJson(res, 200, { boolean: r.op === "DELETE" && r.query.get("recursive") === "true" }),
    );
    await expect(client.mkdirs("/d")).rejects.toMatchObject({ failure: "rejected" });
    await expect(client.delete("/d", { recursive: true })).resolves.toBe(true);
    await expect(client.delete("/d")).resolves.toBe(false);
    expect(nn?.requests[1]?.query.get("skiptrash")).toBe("true");
  });

  it("an HTML 404 is not FileNotFound: it is an http-status error naming the likely cause", async () => {
    const client = await namenode((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<html><body><h2>HTTP ERROR 404</h2>Problem accessing /webhdfs/v1/a</body></html>");
    });
    const err = (await client.getFileStatus("/a").catch((e: unknown) => e)) as WebHdfsError;
    expect(err.failure).toBe("http-status");
    expect(err.status).toBe(404);
    expect(isNotFound(err)).toBe(false);
    await expect(client.stat("/a")).rejects.toBeInstanceOf(WebHdfsError);
    expect(err.message).toContain("without a RemoteException body (no RemoteException: wrong URL prefix or WebHDFS disabled?)");
  });

  it("a 2xx with garbage or the wrong JSON shape says what was expected", async () => {
    const client = await namenode((_req, res, r) => {
      if (r.op === "GETFILESTATUS") sendJson(res, 200, { FileStatuses: {} });
      else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("not json at all");
      }
    });
    await expect(client.getFileStatus("/a")).rejects.toMatchObject({
      failure: "unexpected-response",
      detail: 'expected {"FileStatus":{...}}, got "{\\"FileStatuses\\":{}}"',
    });
    await expect(client.getContentSummary("/a")).rejects.toMatchObject({ failure: "unexpected-response" });
    expect(nn?.count()).toBe(2);
  });

  it("a remote exception with a null message keeps null and still formats", async () => {
    const client = await namenode((_req, res) => sendRemoteException(res, 403, "org.apache.hadoop.security.AccessControlException", null));
    const err = (await client.mkdirs("/x").catch((e: unknown) => e)) as WebHdfsError;
    expect(err.remoteMessage).toBeNull();
    expect(isPermissionDenied(err)).toBe(true);
    expect(err.message).toMatch(/\(403 AccessControlException\): \(no message\)$/);
  });
});

describe("paths", () => {
  const tricky = "/ckpt/dir with space/a+b/100%/c:d/Ünïcødé/日本";

  it("every segment is percent-encoded", () => {
    expect(encodeHdfsPath(tricky)).toBe(
      "/ckpt/dir%20with%20space/a%2Bb/100%25/c%3Ad/%C3%9Cn%C3%AFc%C3%B8d%C3%A9/%E6%97%A5%E6%9C%AC",
    );
    expect(encodeHdfsPath("/")).toBe("/");
  });

  it("maskUrl hides secret query values in logged URLs", () => {
    const url = new URL("http://dn:9864/webhdfs/v1/a?op=OPEN&delegation=abc%2Bdef&user.name=u&offset=0");
    expect(maskUrl(url, ["delegation"])).toBe("http://dn:9864/webhdfs/v1/a?op=OPEN&delegation=***&user.name=u&offset=0");
  });

  it("special characters arrive at the server as the same path, and + survives in query values", async () => {
    const client = await namenode((_req, res) => sendEmpty(res));
    await client.rename(tricky, `${tricky}+x y`);
    const request = nn?.requests[0];
    expect(request?.hdfsPath).toBe(tricky);
    expect(request?.rawUrl.startsWith(`/webhdfs/v1${encodeHdfsPath(tricky)}?`)).toBe(true);
    expect(request?.query.get("destination")).toBe(`${tricky}+x y`);
  });

  it("a NameNode URL with a path (a gateway) keeps its path before /webhdfs/v1, with or without a trailing /", async () => {
    nn = await startFakeServer((_req, res) => sendJson(res, 200, { boolean: true }));
    for (const base of [`${nn.url}/gateway/default`, `${nn.url}/gateway/default/`]) {
      const client = new WebHdfsClient({ name: "gw", namenodes: [base], user: "flink", retry: FAST_RETRY });
      try {
        await client.mkdirs("/a b");
      } finally {
        client.close();
      }
    }
    expect(nn.requests.map((r) => r.rawUrl.split("?")[0])).toEqual(["/gateway/default/webhdfs/v1/a%20b", "/gateway/default/webhdfs/v1/a%20b"]);
    expect(nn.requests[0]?.query.get("user.name")).toBe("flink");
  });

  it("reaches a NameNode on an IPv6 address", async (ctx) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ boolean: true }));
      seen.push(req.url ?? "");
    });
    const seen: string[] = [];
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(0, "::1", () => resolve(true));
    });
    if (!listening) {
      ctx.skip("no IPv6 loopback (::1) on this machine");
      return;
    }
    const client = new WebHdfsClient({ name: "v6", namenodes: [`http://[::1]:${(server.address() as AddressInfo).port}`], user: "flink", retry: FAST_RETRY });
    try {
      await client.mkdirs("/v6");
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^\/webhdfs\/v1\/v6\?op=MKDIRS&/);
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });

  it.each(["relative/path", "", "/a//b", "/a/./b", "/a/../b"])("%j is rejected before any request", async (path) => {
    const client = await namenode((_req, res) => sendEmpty(res));
    await expect(client.getFileStatus(path)).rejects.toBeInstanceOf(HdfsPathError);
    await expect(client.rename("/a", path)).rejects.toBeInstanceOf(HdfsPathError);
    expect(nn?.count()).toBe(0);
  });
});

describe("LISTSTATUS_BATCH", () => {
  const names = ["a", "b", "c", "d", "e"];
  const page = (after: string | null): Record<string, unknown> => {
    const start = after === null ? 0 : names.findIndex((n) => n > after);
    const entries = names.slice(start, start + 2);
    return {
      DirectoryListing: {
        partialListing: { FileStatuses: { FileStatus: entries.map((n) => fileStatus(n)) } },
        remainingEntries: names.length - start - entries.length,
      },
    };
  };

  it("pages with startafter until remainingEntries is 0", async () => {
    const client = await namenode((_req, res, r) => sendJson(res, 200, page(r.query.get("startafter"))));
    const pages: string[][] = [];
    for await (const entries of client.listStatusBatches("/d")) pages.push(entries.map((s) => s.pathSuffix));
    expect(pages).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(nn?.requests.map((r) => r.query.get("startafter"))).toEqual([null, "b", "d"]);
  });

  it("falls back to LISTSTATUS when the server rejects the op, and remembers that", async () => {
    const client = await namenode((_req, res, r) => {
      if (r.op === "LISTSTATUS_BATCH") {
        sendRemoteException(res, 400, "java.lang.IllegalArgumentException",
          'Invalid value for webhdfs parameter "op": No enum constant GetOpParam.Op.LISTSTATUS_BATCH');
      } else {
        sendJson(res, 200, { FileStatuses: { FileStatus: names.map((n) => fileStatus(n)) } });
      }
    });
    for (let round = 0; round < 2; round++) {
      const pages: number[] = [];
      for await (const entries of client.listStatusBatches("/d")) pages.push(entries.length);
      expect(pages).toEqual([5]);
    }
    expect(nn?.count("LISTSTATUS_BATCH")).toBe(1);
    expect(nn?.count("LISTSTATUS")).toBe(2);
  });

  it("a missing directory is not mistaken for an unsupported op", async () => {
    const client = await namenode((_req, res) => sendRemoteException(res, 404, NOT_FOUND, "File /d does not exist."));
    const iterate = async (): Promise<void> => {
      for await (const _ of client.listStatusBatches("/d")) void _;
    };
    await expect(iterate()).rejects.toSatisfy(isNotFound);
    expect(nn?.count("LISTSTATUS")).toBe(0);
  });
});

describe("secrets", () => {
  const token = "SeCrEtT0k3n+/=xyz";

  it("the delegation token is sent but never appears in an error message or a log line", async () => {
    const logs = captureLogger();
    let dnUrl = "";
    const client = await namenode(
      (_req, res, r) => {
        if (r.op === "OPEN") {
          redirect(res, `${dnUrl}${r.rawUrl}`);
        } else {
          sendRemoteException(res, 403, "java.lang.SecurityException",
            `Failed to obtain user group information: token ${r.query.get("delegation")} is expired`);
        }
      },
      { delegationToken: token, logger: logs.logger },
    );
    const dn = await startFakeServer((_req, res, r) =>
      sendRemoteException(res, 403, "java.io.IOException", `bad token ${r.query.get("delegation")}`),
    );
    dnUrl = dn.url;
    try {
      const errors = [
        await client.getFileStatus("/a").catch((e: unknown) => e),
        await client.open("/a").catch((e: unknown) => e),
      ] as WebHdfsError[];
      expect(nn?.requests[0]?.query.get("delegation")).toBe(token);
      expect(dn.requests[0]?.query.get("delegation")).toBe(token);
      expect(nn?.requests[0]?.query.get("user.name")).toBeNull();
      for (const err of errors) {
        expect(err).toBeInstanceOf(WebHdfsError);
        expect(err.message).not.toContain(token);
        expect(err.message).toContain("***");
        expect(String(err.remoteMessage)).not.toContain(token);
      }
      expect(logs.lines.length).toBeGreaterThan(2);
      for (const line of [...logs.lines]) {
        expect(line).not.toContain(token);
        expect(line).not.toContain(encodeURIComponent(token));
      }
    } finally {
      await dn.close();
    }
  });

  it("the auth provider does not reveal the token through JSON or string conversion", () => {
    const auth = createSimpleAuth({ user: "flink", doAs: "etl", delegationToken: token });
    expect(JSON.stringify(auth)).not.toContain(token);
    expect(String(auth)).not.toContain(token);
    expect(auth.queryParams()).toEqual({ delegation: token, doas: "etl" });
    expect(createSimpleAuth({ user: "flink" }).queryParams()).toEqual({ "user.name": "flink" });
  });
});
