// One real HDFS for a vitest: the interop module's Maven build (reused by `npm run interop`: same
// output directory and classpath file) and an interop.Cluster JVM (HA MiniDFSCluster with WebHDFS on
// loopback) started on free ports and stopped through its stdin.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Proc, freePorts, sleep } from "./procs.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FLINK = "2.3.0";
const HADOOP = "3.4.2";

/** True when `out` exists and is newer than every file under `inputs`. */
function newerThanAll(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return false;
  const t = statSync(out).mtimeMs;
  const walk = (p: string): boolean => (statSync(p).isDirectory() ? readdirSync(p).every((n) => walk(join(p, n))) : statSync(p).mtimeMs < t);
  return inputs.every((i) => !existsSync(i) || walk(i));
}

/** The interop classpath (classes and dependencies), built with Maven unless up to date. */
export function buildInterop(work: string): string {
  const dir = join(root, "test", "interop", "target", `flink-${FLINK}-hadoop-${HADOOP}`);
  const cpFile = join(dir, "classpath.txt");
  const pom = join(root, "test", "interop", "pom.xml");
  if (!newerThanAll(cpFile, [pom, join(root, "test", "interop", "src")])) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync("mvn", ["-q", "-B", "-f", pom, `-Dflink.version=${FLINK}`, `-Dhadoop.version=${HADOOP}`, "compile", "dependency:build-classpath", `-Dmdep.outputFile=${cpFile}`],
      { encoding: "utf8", timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(join(work, "maven.log"), `${r.stdout ?? ""}${r.stderr ?? ""}`);
    if (r.status !== 0) throw new Error(`mvn build of test/interop failed (exit ${String(r.status)}): ${`${r.stdout ?? ""}${r.stderr ?? ""}`.slice(-2000)}`);
  }
  return `${join(dir, "classes")}:${readFileSync(cpFile, "utf8").trim()}`;
}

export interface MiniDfs {
  /** WebHDFS of both NameNodes. */
  namenodes: string[];
  stop(): Promise<void>;
}

/** Starts interop.Cluster `name` (formatted, under work/name) and waits until it is up. */
export async function startMiniDfs(classpath: string, name: string, work: string): Promise<MiniDfs> {
  const p = await freePorts(5);
  const baseDir = join(work, name);
  mkdirSync(baseDir, { recursive: true });
  const argfile = join(work, `${name}.args`);
  writeFileSync(argfile, ["-Djava.net.preferIPv4Stack=true", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m", "-cp", classpath].join("\n"));
  const proc = new Proc(name, "java", [`@${argfile}`, "interop.Cluster", name, baseDir, join(baseDir, "ready.json"), ...p.map(String), "true"],
    { logFile: join(work, `${name}.log`), stdin: true, cwd: work });
  await proc.waitLine((l) => l.includes("\"ready\":true"), 180_000, `${name} ready`);
  return {
    namenodes: [`http://127.0.0.1:${p[1]!}`, `http://127.0.0.1:${p[3]!}`],
    async stop() {
      proc.send("stop");
      await Promise.race([proc.exited, sleep(20_000)]);
      proc.kill();
    },
  };
}
