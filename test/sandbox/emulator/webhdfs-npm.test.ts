// Third-party cross-check: the npm `webhdfs` client (CommonJS) creates, lists,
// reads, renames and deletes files through the emulator.

import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { useSandbox } from "./sandbox-fixture.js";

interface WebHdfsClient {
  writeFile(path: string, data: Buffer | string, callback: (err: Error | null) => void): unknown;
  readFile(path: string, callback: (err: Error | null, data: Buffer) => void): unknown;
  readdir(path: string, callback: (err: Error | null, files: { pathSuffix: string; length: number }[]) => void): unknown;
  mkdir(path: string, callback: (err: Error | null) => void): unknown;
  rename(path: string, destination: string, callback: (err: Error | null) => void): unknown;
  unlink(path: string, recursive: boolean, callback: (err: Error | null) => void): unknown;
  exists(path: string, callback: (exists: boolean) => void): unknown;
}

const require = createRequire(import.meta.url);
const WebHDFS = require("webhdfs") as { createClient(options: Record<string, unknown>): WebHdfsClient };

const fx = useSandbox();

function call<T>(fn: (cb: (err: Error | null, value?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

describe("npm webhdfs client against the emulator", () => {
  it("creates, lists, reads, renames and deletes", async () => {
    const nn = new URL(fx.nn());
    const client = WebHDFS.createClient({ host: nn.hostname, port: Number(nn.port), user: "alice", path: "/webhdfs/v1" });
    await call((cb) => client.mkdir("/npm", cb));
    const content = Buffer.from("written by the npm webhdfs client\n".repeat(1000));
    await call((cb) => client.writeFile("/npm/a.txt", content, cb));
    const listed = await call<{ pathSuffix: string; length: number }[]>((cb) => client.readdir("/npm", cb));
    expect(listed.map((f) => [f.pathSuffix, f.length])).toEqual([["a.txt", content.length]]);
    const read = await call<Buffer>((cb) => client.readFile("/npm/a.txt", cb));
    expect(Buffer.compare(read, content)).toBe(0);
    await call((cb) => client.rename("/npm/a.txt", "/npm/b.txt", cb));
    expect(await new Promise((r) => client.exists("/npm/a.txt", r))).toBe(false);
    expect((await call<Buffer>((cb) => client.readFile("/npm/b.txt", cb))).length).toBe(content.length);
    await call((cb) => client.unlink("/npm", true, cb));
    expect(await new Promise((r) => client.exists("/npm", r))).toBe(false);
  });

  it("surfaces the emulator's RemoteException for a missing file", async () => {
    const nn = new URL(fx.nn());
    const client = WebHDFS.createClient({ host: nn.hostname, port: Number(nn.port), user: "alice" });
    await expect(call((cb) => client.readFile("/npm-missing", cb))).rejects.toThrow(/not found|does not exist/);
  });
});
