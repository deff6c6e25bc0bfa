// A real S3-compatible server for the tests: moto's server (PyPI `moto[server]`,
// installed by .ci/install-s3-server), started on a free loopback port. When it
// is missing the tests fail under CI=true and otherwise skip, printing why.

import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { S3Storage, type S3StorageOptions } from "../../src/storage/s3.js";
import { findTool } from "./tools.js";

export const MOTO = "moto_server";

/** Null when the server can be run; else the printed reason (and under CI=true, an error). */
export function s3ServerMissing(what: string): string | null {
  if (findTool(MOTO) !== null) return null;
  if (process.env.CI === "true") throw new Error(`${what}: ${MOTO} is missing, and CI=true requires it (.ci/install-s3-server installs it)`);
  const reason = `SKIPPED: ${what}: ${MOTO} is not installed (run .ci/install-s3-server)`;
  process.stderr.write(`${reason}\n`);
  return reason;
}

export interface S3Server {
  endpoint: string;
  storage(bucket: string, o?: Partial<S3StorageOptions>): Promise<S3Storage>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export const TEST_CREDENTIALS = { accessKeyId: "test-key", secretAccessKey: "test-secret" };

export async function startS3Server(): Promise<S3Server> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const deadline = Date.now() + 120_000; // a loaded machine starts Python slowly
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${MOTO} exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${MOTO} did not answer on ${endpoint} within 120 s: ${stderr}`);
    }
    await sleep(200);
  }
  const admin = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: TEST_CREDENTIALS });
  return {
    endpoint,
    async storage(bucket, o = {}) {
      await admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
        if ((err as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw err;
      });
      return new S3Storage({
        name: "s3",
        bucket,
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
        conditionalWrites: true,
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
        staleUploadAfterMs: 24 * 3600_000,
        requestTimeoutMs: 10_000,
        maxAttempts: 3,
        ...o,
      });
    },
    async stop() {
      admin.destroy();
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([new Promise((r) => child.once("exit", r)), sleep(5000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  };
}
