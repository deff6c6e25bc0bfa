// Recorded WebHDFS traffic from ../shared/fixtures/webhdfs through the client's parsers,
// and the recorded F1 OPEN exchange (NN 307 + DN 200) replayed byte for byte to the client.

import { readFileSync, readdirSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithShared } from "../helpers/shared.js";
import { WebHdfsClient, WebHdfsError, isNotFound, isRetriable, isStandby } from "../../src/webhdfs/index.js";
import { errorFromResponse, type StepContext } from "../../src/webhdfs/responses.js";
import { checksumHex, fileChecksumBody, fileChecksumObject, listStatusBody, parseJson, parseRemoteException } from "../../src/webhdfs/wire.js";

const ctx: StepContext = { cluster: "hdfs1", operation: "OPEN", path: "/p", step: "namenode", namenode: "http://nn:9870", secrets: [] };

/** An IncomingMessage stand-in carrying a recorded body, for the error-interpretation path. */
function recordedResponse(status: number, body: string): IncomingMessage {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  Object.assign(stream, { statusCode: status, statusMessage: "", headers: { "content-type": "application/json" }, complete: true });
  return stream;
}

describeWithShared("WebHDFS fixtures parse", (shared) => {
  const dir = join(shared, "fixtures", "webhdfs");
  const read = (name: string): string => readFileSync(join(dir, name), "utf8");

  it("knows how to read every fixture file in the folder", () => {
    const handled = /^(F1|F2|F3|F4|F5|F6|F7|F8|F9|F10)-|^README\.md$|^derived$/;
    expect(readdirSync(dir).filter((name) => !handled.test(name))).toEqual([]);
  });

  it.each([
    ["F4-standby-exception-knox.json", 403, "org.apache.hadoop.ipc.StandbyException"],
    ["F5-mkdirs-safemode-retriable-knox.json", 403, "org.apache.hadoop.ipc.RetriableException"],
    ["F8-standby-exception-sbnn.json", 403, "org.apache.hadoop.ipc.StandbyException"],
    ["F10-open-filenotfound-nn.json", 404, "java.io.FileNotFoundException"],
  ])("%s becomes a typed remote error keeping javaClassName", async (name, status, javaClassName) => {
    const body = read(name);
    expect(parseRemoteException(body)?.javaClassName).toBe(javaClassName);
    const err = await errorFromResponse(ctx, recordedResponse(status, body));
    expect(err).toBeInstanceOf(WebHdfsError);
    expect(err.failure).toBe("remote");
    expect(err.status).toBe(status);
    expect(err.javaClassName).toBe(javaClassName);
    expect(err.message).not.toContain("\n");
    expect(isStandby(err)).toBe(javaClassName.endsWith("StandbyException"));
    expect(isRetriable(err)).toBe(javaClassName.endsWith("RetriableException"));
    expect(isNotFound(err)).toBe(status === 404);
  });

  it("F5 keeps the multi-line safe-mode message in remoteMessage and flattens the error message", async () => {
    const err = await errorFromResponse(ctx, recordedResponse(403, read("F5-mkdirs-safemode-retriable-knox.json")));
    expect(err.remoteMessage).toContain("\n");
    expect(err.remoteMessage).toMatch(/^org\.apache\.hadoop\.hdfs\.server\.namenode\.SafeModeException: Cannot create directory/);
    expect(err.message).toMatch(/^hdfs1: OPEN \/p failed at namenode http:\/\/nn:9870 \(403 RetriableException\): org\.apache/);
  });

  it("F2 (old server, no fileId/childrenNum) and F3 (Hadoop 2) listings parse", () => {
    const old = listStatusBody.parse(parseJson(read("F2-liststatus-hadoop1-knox.json")));
    expect(old?.map((s) => s.pathSuffix)).toEqual(["mapred", "tmp", "user"]);
    expect(old?.[0]?.fileId).toBeUndefined();
    expect(old?.[0]?.childrenNum).toBeUndefined();
    expect(old?.[1]?.permission).toBe("777");
    const newer = listStatusBody.parse(parseJson(read("F3-liststatus-hadoop2-knox.json")));
    expect(newer?.length).toBeGreaterThan(3);
    expect(newer?.[0]).toMatchObject({ pathSuffix: "app-logs", childrenNum: 1, fileId: 16394, type: "DIRECTORY" });
  });

  it("F9 (empty directory, streamed layout) parses as an empty listing", () => {
    expect(listStatusBody.parse(parseJson(read("F9-liststatus-empty-dir.body")))).toEqual([]);
  });

  it("F7 checksum parses; only the first `length` bytes are meaningful", () => {
    const checksum = fileChecksumObject.parse(parseJson(read("F7-filechecksum-inner-cdh.json")));
    expect(checksum?.algorithm).toBe("MD5-of-0MD5-of-512CRC32C");
    expect(checksum?.bytes).toHaveLength(64);
    expect(checksumHex(checksum!)).toBe("000002000000000000000000cbce76920e8bd8fea88009894bb094a5");
  });

  it("the derived empty-file checksum parses in its wire wrapper", () => {
    const checksum = fileChecksumBody.parse(parseJson(read("derived/empty-file-checksum.json")));
    expect(checksum?.algorithm).toBe("MD5-of-0MD5-of-0CRC32");
    expect(checksumHex(checksum!)).toBe("00000000000000000000000070bc8f4b72a86921468bf8e8441dce51");
  });

  it("F6 CREATE Locations are absolute DataNode URLs carrying op=CREATE", () => {
    const locations = read("F6-create-redirect-hadoop3.txt").split("\n").filter((l) => l.startsWith("http://"));
    expect(locations.length).toBeGreaterThanOrEqual(3);
    for (const location of locations) {
      const url = new URL(location);
      expect(url.searchParams.get("op")).toBe("CREATE");
      expect(url.pathname.startsWith("/webhdfs/v1/")).toBe(true);
    }
  });

  replayRecordedOpen(() => read("F1-open-nn307-dn200-hadoop2.http"));
});

/** Serves the two recorded responses of F1 (NN then DN) as raw bytes and opens the file through the client. */
function replayRecordedOpen(transcript: () => string): void {
  let server: net.Server;
  let port = 0;
  const served: string[] = [];
  beforeAll(async () => {
    const text = transcript();
    const split = text.indexOf("HTTP/1.1 200 OK");
    const toWire = (part: string): string => {
      const end = part.indexOf("\n\n");
      return `${part.slice(0, end).split("\n").join("\r\n")}\r\n\r\n${part.slice(end + 2)}`;
    };
    const responses = [toWire(text.slice(0, split)), toWire(text.slice(split))];
    server = net.createServer((socket) => {
      socket.once("data", (chunk) => {
        served.push(chunk.toString("latin1").split("\r\n", 1)[0] ?? "");
        socket.end(responses[Math.min(served.length - 1, 1)] ?? "");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("F1: the recorded NN 307 and DN 200 are followed and the body read", async () => {
    const client = new WebHdfsClient(
      { name: "hdfs1", namenodes: [`http://127.0.0.1:${port}`], user: "hdfs" },
      { rewriteDataNodeUrl: (url) => new URL(`${url.pathname}${url.search}`, `http://127.0.0.1:${port}`) },
    );
    try {
      const body = await buffer(await client.open("/test.txt"));
      expect(body.toString("utf8")).toBe("Hello Hadoop :-)\n");
      expect(served[0]).toMatch(/^GET \/webhdfs\/v1\/test\.txt\?op=OPEN&user\.name=hdfs /);
      expect(served[1]).toMatch(/^GET \/webhdfs\/v1\/test\.log\?op=OPEN&namenoderpcaddress=localhost:8020&offset=0 /);
    } finally {
      client.close();
    }
  });
}
