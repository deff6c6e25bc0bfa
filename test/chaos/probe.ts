// A deliberately minimal WebHDFS client over node:http for the chaos checker
// and for tampering. It shares no code with the product (src/webhdfs,
// src/storage): the checker must not trust the code it judges. It follows the
// HA pair itself (StandbyException / connection errors -> the other NameNode)
// and follows OPEN/CREATE redirects to the DataNode by hand.

import { request, type IncomingHttpHeaders } from "node:http";

export interface ProbeStatus {
  name: string;
  type: "FILE" | "DIRECTORY" | "SYMLINK";
  length: number;
  modificationTime: number;
  fileId: number;
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class ProbeError extends Error {}

const REQUEST_TIMEOUT_MS = 4000;

function raw(url: string, method: string, body?: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: REQUEST_TIMEOUT_MS, headers: body ? { "Content-Length": body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const expected = Number(res.headers["content-length"] ?? NaN);
        const got = Buffer.concat(chunks);
        if (Number.isFinite(expected) && got.length !== expected) reject(new ProbeError(`${method} ${url}: body cut after ${got.length} of ${expected} bytes`));
        else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: got });
      });
    });
    req.on("timeout", () => req.destroy(new ProbeError(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

function exceptionOf(a: RawAnswer): string | null {
  try {
    const parsed = JSON.parse(a.body.toString("utf8")) as { RemoteException?: { exception?: string } };
    return parsed.RemoteException?.exception ?? null;
  } catch {
    return null;
  }
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** One cluster, seen through its NameNode pair. */
export class Probe {
  private active = 0;

  constructor(
    readonly cluster: string,
    private readonly namenodes: string[],
    readonly user: string,
  ) {}

  /** A NameNode request, tried on both NameNodes (a few rounds) until one answers as active. */
  private async nn(method: string, path: string, params: Record<string, string>, body?: Buffer): Promise<RawAnswer> {
    const query = new URLSearchParams({ ...params, "user.name": this.user }).toString();
    let last: unknown = null;
    for (let attempt = 0; attempt < this.namenodes.length * 3; attempt++) {
      const index = (this.active + attempt) % this.namenodes.length;
      const url = `${this.namenodes[index]}/webhdfs/v1${encodePath(path)}?${query}`;
      try {
        const answer = await raw(url, method, body);
        const exception = exceptionOf(answer);
        if (exception === "StandbyException" || exception === "RetriableException" || answer.status >= 500) {
          last = new ProbeError(`${this.cluster}: ${method} ${path}: ${answer.status} ${exception ?? ""}`);
          await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
          continue;
        }
        this.active = index;
        return answer;
      } catch (err) {
        last = err;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
    throw last instanceof Error ? last : new ProbeError(String(last));
  }

  private static json<T>(a: RawAnswer, what: string): T {
    if (a.status !== 200) throw new ProbeError(`${what}: HTTP ${a.status} ${a.body.toString("utf8").slice(0, 300)}`);
    return JSON.parse(a.body.toString("utf8")) as T;
  }

  /** The entries of a directory, or null when it does not exist. */
  async list(path: string): Promise<ProbeStatus[] | null> {
    const a = await this.nn("GET", path, { op: "LISTSTATUS" });
    if (a.status === 404) return null;
    const parsed = Probe.json<{ FileStatuses: { FileStatus: (ProbeStatus & { pathSuffix: string })[] } }>(a, `${this.cluster}: LISTSTATUS ${path}`);
    return parsed.FileStatuses.FileStatus.map((s) => ({ name: s.pathSuffix, type: s.type, length: s.length, modificationTime: s.modificationTime, fileId: s.fileId }));
  }

  async stat(path: string): Promise<ProbeStatus | null> {
    const a = await this.nn("GET", path, { op: "GETFILESTATUS" });
    if (a.status === 404) return null;
    const s = Probe.json<{ FileStatus: ProbeStatus & { pathSuffix: string } }>(a, `${this.cluster}: GETFILESTATUS ${path}`).FileStatus;
    return { name: path.split("/").pop() ?? "", type: s.type, length: s.length, modificationTime: s.modificationTime, fileId: s.fileId };
  }

  /** A whole (small) file, or null when it does not exist. */
  async read(path: string): Promise<Buffer | null> {
    const a = await this.nn("GET", path, { op: "OPEN" });
    if (a.status === 404) return null;
    if (a.status !== 307 || typeof a.headers.location !== "string") throw new ProbeError(`${this.cluster}: OPEN ${path}: HTTP ${a.status}`);
    const data = await raw(a.headers.location, "GET");
    if (data.status === 404) return null;
    if (data.status !== 200) throw new ProbeError(`${this.cluster}: OPEN ${path} at the DataNode: HTTP ${data.status}`);
    return data.body;
  }

  async delete(path: string, recursive = false): Promise<boolean> {
    const a = await this.nn("DELETE", path, { op: "DELETE", recursive: String(recursive) });
    return Probe.json<{ boolean: boolean }>(a, `${this.cluster}: DELETE ${path}`).boolean;
  }

  /** rename2 with OVERWRITE (as a publisher moves a temporary into place). */
  async rename(path: string, destination: string): Promise<void> {
    const a = await this.nn("PUT", path, { op: "RENAME", destination, renameoptions: "OVERWRITE" });
    if (a.status !== 200) throw new ProbeError(`${this.cluster}: RENAME ${path}: HTTP ${a.status} ${a.body.toString("utf8").slice(0, 200)}`);
  }

  /** Replaces a file's content (CREATE overwrite=true, NameNode step then DataNode step). */
  async overwrite(path: string, content: Buffer): Promise<void> {
    const a = await this.nn("PUT", path, { op: "CREATE", overwrite: "true" });
    if (a.status !== 307 || typeof a.headers.location !== "string") throw new ProbeError(`${this.cluster}: CREATE ${path}: HTTP ${a.status}`);
    const data = await raw(a.headers.location, "PUT", content);
    if (data.status !== 201) throw new ProbeError(`${this.cluster}: CREATE ${path} at the DataNode: HTTP ${data.status} ${data.body.toString("utf8").slice(0, 200)}`);
  }
}

/** Plain GET of a URL (daemon metrics); null when nothing answers. */
export async function httpGetText(url: string): Promise<{ status: number; text: string } | null> {
  try {
    const a = await raw(url, "GET");
    return { status: a.status, text: a.body.toString("utf8") };
  } catch {
    return null;
  }
}
