// sendRequest's cancel of an upload, against a plain node:http server that records what it saw: an
// upload that went out ends its body and the server's answer is awaited (the server is then done with
// the file), yet the caller gets the abort, never a success; a server that does not answer within the
// grace is cut off and the rejection says the outcome is unsettled; an upload cancelled before anything
// went out never reaches the server; a request without a body is cut off at once. A streamed body that
// fails mid-upload is stopped the same way, and the caller gets the body's own error.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterEach, expect, it } from "vitest";
import { RequestDeadline, sendRequest, TransportError } from "../../src/webhdfs/transport.js";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, events: string[]) => void;

let servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
});

async function serve(handler: Handler): Promise<{ url: URL; events: string[]; requests: () => number }> {
  const events: string[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    events.push("server: request");
    req.socket.once("close", () => events.push("server: connection closed"));
    handler(req, res, events);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`), events, requests: () => requests };
}

/** Reads the whole body, then answers 201 after `delayMs`. */
const answerAfterBody = (delayMs: number): Handler => (req, res, events) => {
  let bytes = 0;
  req.on("data", (c: Buffer) => (bytes += c.length));
  req.on("end", () => {
    events.push(`server: body ended after ${bytes} bytes`);
    setTimeout(() => {
      events.push("server: answered 201");
      res.writeHead(201, { "content-length": 0 }).end();
    }, delayMs);
  });
};

function upload(url: URL, body: PassThrough | Uint8Array, signal: AbortSignal, graceMs: number, events: string[]) {
  const agent = new http.Agent();
  const cancel = new RequestDeadline(60_000, signal);
  cancel.stopClock();
  return sendRequest({ method: "PUT", url, agent, body, cancel, cancelGraceMs: graceMs }).then(
    (res) => {
      events.push(`client: resolved ${res.status}`);
      return null;
    },
    (err: unknown) => {
      events.push("client: rejected");
      return err as TransportError;
    },
  ).finally(() => agent.destroy());
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

it("a streamed upload cancelled mid-body ends its body, waits for the server's answer, and rejects as aborted", async () => {
  const { url, events } = await serve(answerAfterBody(200));
  const body = new PassThrough();
  body.write(Buffer.alloc(10_000, 1));
  const abort = new AbortController();
  const done = upload(url, body, abort.signal, 2000, events);
  await tick(100); // the request and its first bytes have reached the server
  abort.abort();
  const err = await done;
  expect(err).toBeInstanceOf(TransportError);
  expect(err?.failure).toBe("aborted");
  expect(err?.unsettled).toBe(false);
  expect(events.filter((e) => !e.includes("connection closed"))).toEqual([
    "server: request",
    "server: body ended after 10000 bytes",
    "server: answered 201",
    "client: rejected",
  ]);
});

it("a buffered upload cancelled before its answer waits for it too", async () => {
  const { url, events } = await serve(answerAfterBody(300));
  const abort = new AbortController();
  const done = upload(url, new Uint8Array(5000), abort.signal, 2000, events);
  await tick(100);
  abort.abort();
  const err = await done;
  expect(err?.failure).toBe("aborted");
  expect(err?.unsettled).toBe(false);
  expect(events.indexOf("server: answered 201")).toBeGreaterThan(-1);
  expect(events.indexOf("server: answered 201")).toBeLessThan(events.indexOf("client: rejected"));
});

it("a server that does not answer within the grace is cut off, and the rejection is unsettled", async () => {
  const { url, events } = await serve(answerAfterBody(60_000));
  const body = new PassThrough();
  body.write(Buffer.alloc(1000));
  const abort = new AbortController();
  const done = upload(url, body, abort.signal, 300, events);
  await tick(100);
  const abortedAt = Date.now();
  abort.abort();
  const err = await done;
  const took = Date.now() - abortedAt;
  expect(err?.failure).toBe("aborted");
  expect(err?.unsettled).toBe(true);
  expect(err?.message).toMatch(/had not answered the cut-short upload within 300 ms/);
  expect(took).toBeGreaterThanOrEqual(290);
  expect(took).toBeLessThan(2000);
  await tick(100);
  expect(events).toContain("server: connection closed");
  expect(events).not.toContain("server: answered 201");
});

it("an upload cancelled before any of it went out never reaches the server and rejects at once", async () => {
  const { url, events, requests } = await serve(answerAfterBody(0));
  const body = new PassThrough(); // nothing written yet: the request's headers go with the first bytes
  const abort = new AbortController();
  const done = upload(url, body, abort.signal, 2000, events);
  await tick(20);
  abort.abort();
  const err = await done;
  expect(err?.failure).toBe("aborted");
  expect(err?.unsettled).toBe(false);
  await tick(200);
  expect(requests()).toBe(0);
});

it("without a grace (0), an upload is cut off at once, as before", async () => {
  const { url, events } = await serve(answerAfterBody(0));
  const body = new PassThrough();
  body.write(Buffer.alloc(1000));
  const abort = new AbortController();
  const done = upload(url, body, abort.signal, 0, events);
  await tick(100);
  abort.abort();
  const err = await done;
  expect(err?.failure).toBe("aborted");
  await tick(100);
  expect(events).not.toContain("server: answered 201");
});

it("a streamed upload whose body fails mid-way ends its body, waits for the server's answer, and rejects with the body's error", async () => {
  const { url, events } = await serve(answerAfterBody(200));
  const body = new PassThrough();
  body.write(Buffer.alloc(10_000, 1));
  const done = upload(url, body, new AbortController().signal, 2000, events);
  await tick(100); // the request and its first bytes have reached the server
  const broke = new Error("source read broke");
  body.destroy(broke);
  const err = await done;
  expect(err).toBe(broke);
  expect(events.filter((e) => !e.includes("connection closed"))).toEqual([
    "server: request",
    "server: body ended after 10000 bytes",
    "server: answered 201",
    "client: rejected",
  ]);
});

it("a failed body the server does not answer within the grace is cut off as unsettled, naming the body's error", async () => {
  const { url, events } = await serve(answerAfterBody(60_000));
  const body = new PassThrough();
  body.write(Buffer.alloc(1000));
  const done = upload(url, body, new AbortController().signal, 300, events);
  await tick(100);
  const broke = new Error("source read broke");
  body.destroy(broke);
  const err = await done;
  expect(err).toBeInstanceOf(TransportError);
  expect(err?.unsettled).toBe(true);
  expect(err?.cause).toBe(broke);
  expect(err?.message).toMatch(/request body failed: source read broke; the server had not answered the cut-short upload within 300 ms/);
  await tick(100);
  expect(events).not.toContain("server: answered 201");
});

it("a body that fails before any of it went out never reaches the server", async () => {
  const { url, events, requests } = await serve(answerAfterBody(0));
  const body = new PassThrough();
  const done = upload(url, body, new AbortController().signal, 2000, events);
  await tick(20);
  const broke = new Error("source read broke");
  body.destroy(broke);
  expect(await done).toBe(broke);
  await tick(200);
  expect(requests()).toBe(0);
});
