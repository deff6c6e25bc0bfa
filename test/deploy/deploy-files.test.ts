// Static checks of the deployment files (Dockerfile, .dockerignore, deploy/**)
// against the code they deploy: metric names, config schema, HTTP endpoints,
// paths and ports must agree, since no Docker engine or cluster runs in CI.

import { DEPLOYED_HEAP_CAP_MIB } from "../../src/bench/profile.js";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { parseConfigText } from "../../src/config/load.js";
import { parseDuration, parseSize } from "../../src/util/units.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import { startStatusServer } from "../../src/metrics/server.js";
import {
  dockerignoreExcludes,
  instructionArgs,
  parseDockerfile,
  parseUnitFile,
  projectRoot,
  promqlMatchers,
  promqlMetricNames,
  readProjectFile,
  runtimePackageImports,
  unitValue,
} from "./deploy-parsers.js";
import { alerts, configMap, container, containerPortOf, deployment, kustomization, namespace, networkPolicy, service, serviceMonitor } from "./manifests.js";
import { STOP_DEADLINE_MS } from "../../src/daemon/daemon.js";
import { webhdfsSettings } from "../../src/storage/webhdfs-backend.js";

/** The daemon's stop deadline (Daemon.stop: in-flight copies are aborted within it). */
const DAEMON_STOP_DEADLINE_S = STOP_DEADLINE_MS / 1000;

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(join(projectRoot, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => posix.join(dir, f.split("\\").join("/")))
    .sort();
}

describe("deploy/ YAML files", () => {
  it("every YAML file parses without errors or warnings", () => {
    const files = yamlFilesUnder("deploy");
    expect(files).toEqual(
      expect.arrayContaining(["deploy/prometheus/alerts.yaml", "deploy/kubernetes/deployment.yaml", "deploy/kubernetes/configmap.yaml"]),
    );
    for (const file of files) {
      const docs = parseAllDocuments(readProjectFile(file), { uniqueKeys: true });
      const list = Array.isArray(docs) ? docs : [docs];
      for (const doc of list) {
        expect([...doc.errors, ...doc.warnings].map((e) => `${file}: ${e.message}`)).toEqual([]);
      }
    }
  });
});

describe("deploy/prometheus/alerts.yaml", () => {
  const required = [
    "CkptRpoObjectiveMissed",
    "CkptRpoObjectiveAtRisk",
    "CkptReplicationLagHigh",
    "CkptNoRestorableCheckpoint",
    "CkptTargetUnreachable",
    "CkptJobFailing",
    "CkptCorruptMetadata",
    "CkptUnpublishableCheckpoints",
    "CkptCheckpointsAbandonedOften",
    "CkptSourceUnhealthy",
    "CkptReapHeld",
    "CkptLeaseNotHeld",
    "CkptReplicatorDown",
    "CkptScanStale",
    "CkptConfigReloadFailed",
    "CkptNamenodeFailoversFrequent",
  ];

  it("defines every alert with a for:, a severity and annotations", () => {
    expect(new Set(alerts().map((a) => a.alert))).toEqual(new Set(required));
    for (const a of alerts()) {
      expect(parseDuration(a.for ?? ""), `${a.alert} for:`).not.toBeNull();
      expect(["warning", "critical"], `${a.alert} severity`).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.length ?? 0, `${a.alert} summary`).toBeGreaterThan(10);
      expect(a.annotations?.description?.length ?? 0, `${a.alert} description`).toBeGreaterThan(40);
    }
  });

  it("every alert's runbook_url points at its own section of docs/operations.md", () => {
    const guide = readProjectFile("docs/operations.md");
    const anchors = new Set([...guide.matchAll(/^#{2,4} (.+)$/gm)].map((m) => githubAnchor(m[1] ?? "")));
    for (const a of alerts()) {
      expect(a.annotations?.runbook_url, a.alert).toBe(`docs/operations.md#${a.alert.toLowerCase()}`);
      expect(anchors, `docs/operations.md has no section "${a.alert}"`).toContain(a.alert.toLowerCase());
    }
  });

  it("pages on the RPO objective the daemon exports per job, and warns on 10 minutes of lag", () => {
    const byName = (name: string) => alerts().find((a) => a.alert === name);
    const missed = byName("CkptRpoObjectiveMissed");
    expect(missed?.labels?.severity).toBe("critical");
    expect(missed?.expr).toMatch(/time\(\) - ckpt_replicator_newest_restore_point_completed_timestamp_seconds\)\s*> ckpt_replicator_rpo_objective_seconds/);
    expect(byName("CkptRpoObjectiveAtRisk")?.labels?.severity).toBe("warning");
    expect(byName("CkptReplicationLagHigh")?.expr.trim()).toBe("ckpt_replicator_replication_lag_seconds > 600");
    // "Nothing restorable" reads the last verified count, never target reachability.
    expect(byName("CkptNoRestorableCheckpoint")?.expr.trim()).toBe("ckpt_replicator_restorable_checkpoints == 0");
  });

  it("reads only metrics the daemon exports (besides up)", async () => {
    const { registry } = createMetrics();
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(alerts().flatMap((a) => promqlMetricNames(a.expr)));
    expect(used).toContain("ckpt_replicator_checkpoints_abandoned_total"); // the extraction sees names inside selectors
    expect(used).toContain("up");
    const unknown = [...used].filter((name) => name !== "up" && !exported.has(name.replace(/_(bucket|sum|count)$/, "")));
    expect(unknown).toEqual([]);
  });

  it("matches label values the daemon actually emits", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.hooks.onAbandoned?.("job-a", "chk-1", "missing-file", "gone");
    metrics.hooks.onAbandoned?.("job-a", "chk-2", "subsumed", "newer");
    const json = await metrics.registry.getMetricsAsJSON();
    const matchers = alerts()
      .flatMap((a) => promqlMatchers(a.expr))
      .filter((m) => m.metric.startsWith("ckpt_replicator_"));
    expect(matchers.length).toBeGreaterThan(0);
    for (const m of matchers) {
      const values = json.find((j) => j.name === m.metric)?.values ?? [];
      const emitted = values.map((v) => (v.labels as Record<string, unknown>)[m.label]);
      expect(emitted, `${m.metric}{${m.label}${m.op}"${m.value}"}`).toContain(m.value);
    }
  });

  it("CkptReplicatorDown selects the scrape job the ServiceMonitor creates", () => {
    const down = alerts().find((a) => a.alert === "CkptReplicatorDown");
    const jobMatchers = promqlMatchers(down?.expr ?? "").filter((m) => m.metric === "up" && m.label === "job");
    expect(jobMatchers.length).toBeGreaterThan(0);
    // Prometheus Operator names the job after the Service unless spec.jobLabel says otherwise.
    expect(serviceMonitor().spec.jobLabel).toBeUndefined();
    for (const m of jobMatchers) expect(service().metadata.name).toMatch(new RegExp(`^(?:${m.value})$`));
  });

  it("stays valid when indented under spec: of a PrometheusRule (as deploy/README.md shows)", () => {
    const text = readProjectFile("deploy/prometheus/alerts.yaml");
    const indented = text
      .split("\n")
      .map((l) => (l === "" ? l : `  ${l}`))
      .join("\n");
    const wrapped = parse(`apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n${indented}`) as { spec: unknown };
    expect(wrapped.spec).toEqual(parse(text));
  });
});

describe("deploy/kubernetes", () => {
  it("kustomization lists every manifest of the directory", () => {
    const manifests = yamlFilesUnder("deploy/kubernetes")
      .map((f) => posix.basename(f))
      .filter((f) => f !== "kustomization.yaml");
    expect([...kustomization().resources].sort()).toEqual(manifests);
  });

  it("everything lands in the namespace the kustomization sets, which namespace.yaml creates", () => {
    const k = kustomization() as { namespace?: string; resources: string[] };
    expect(k.namespace).toBe(namespace().metadata.name);
    for (const file of k.resources) {
      const doc = parse(readProjectFile(`deploy/kubernetes/${file}`)) as { metadata: { namespace?: string } };
      expect(doc.metadata.namespace, `${file} sets its own namespace`).toBeUndefined();
    }
  });

  it("the NetworkPolicy example admits scrapes on the metrics port and lets the pod reach DNS and both clusters", async () => {
    const np = networkPolicy();
    expect(deployment().spec.template.metadata.labels).toEqual(expect.objectContaining(np.spec.podSelector.matchLabels));
    expect([...np.spec.policyTypes].sort()).toEqual(["Egress", "Ingress"]);
    const ingressPorts = np.spec.ingress.flatMap((r) => r.ports ?? []).map((p) => containerPortOf(p.port));
    expect(ingressPorts).toContain(9464);
    const egress = np.spec.egress.flatMap((r) => r.ports ?? []);
    expect(egress).toContainEqual({ protocol: "UDP", port: 53 });
    const config = await parseConfigText(configMap().data["config.yaml"] ?? "", "configmap.yaml", {});
    const nnPorts = [config.source, config.target].flatMap((side) => (side.kind === "webhdfs" ? webhdfsSettings(side).namenodes : [])).map((u) => Number(new URL(u).port || 80));
    expect(nnPorts.length).toBeGreaterThan(0);
    for (const port of nnPorts) expect(egress.map((p) => p.port), `NameNode port ${port}`).toContain(port);
    expect(egress.map((p) => p.port)).toContain(9864); // DataNode HTTP: OPEN and CREATE are redirected there
  });

  it("the ConfigMap's config passes the config loader without any Secret", async () => {
    const config = await parseConfigText(configMap().data["config.yaml"] ?? "", "configmap.yaml", {});
    expect(config.metrics).not.toBe(false);
    expect(config.source.kind).toBe("webhdfs");
  });

  it("every delegation-token variable named in the ConfigMap comes from an optional Secret", () => {
    const text = configMap().data["config.yaml"] ?? "";
    const names = [...text.matchAll(/delegationToken:\s*\{\s*env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const env = container().env?.find((e) => e.name === name);
      expect(env?.valueFrom?.secretKeyRef?.optional, `${name} in deployment.yaml`).toBe(true);
    }
  });

  it("probes and metrics.listen use the container's metrics port on all interfaces", async () => {
    const config = await parseConfigText(configMap().data["config.yaml"] ?? "", "configmap.yaml", {});
    if (config.metrics === false) throw new Error("metrics are disabled in the ConfigMap");
    const sep = config.metrics.listen.lastIndexOf(":");
    expect(["0.0.0.0", "[::]", ""]).toContain(config.metrics.listen.slice(0, sep));
    const port = Number(config.metrics.listen.slice(sep + 1));
    const c = container();
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      expect(containerPortOf(probe?.httpGet?.port ?? -1)).toBe(port);
    }
    expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
  });

  it("the status server answers the probe and scrape paths; /readyz fails while not ready", async () => {
    let ready = { ok: true, reason: "ok" };
    const server = await startStatusServer({
      listen: "127.0.0.1:0",
      registry: createMetrics({ defaultMetrics: false }).registry,
      status: () => {
        throw new Error("/status is not probed");
      },
      ready: () => ready,
    });
    try {
      const c = container();
      const paths = [c.livenessProbe, c.readinessProbe, c.startupProbe].map((p) => p?.httpGet?.path ?? "(none)");
      for (const endpoint of serviceMonitor().spec.endpoints) paths.push(endpoint.path ?? "/metrics");
      for (const path of paths) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
      ready = { ok: false, reason: "target lease not held" };
      expect((await fetch(`${server.url}${c.readinessProbe?.httpGet?.path}`)).status).toBe(503);
      expect((await fetch(`${server.url}${c.livenessProbe?.httpGet?.path}`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("the Deployment runs one non-root replica that can stop gracefully", () => {
    const d = deployment();
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy?.type).toBe("Recreate");
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(DAEMON_STOP_DEADLINE_S + 5);
    const pod = d.spec.template.spec.securityContext;
    const sc = container().securityContext;
    expect(pod?.runAsNonRoot ?? sc?.runAsNonRoot).toBe(true);
    expect(sc?.readOnlyRootFilesystem).toBe(true);
    expect(sc?.allowPrivilegeEscalation).toBe(false);
    expect(sc?.capabilities?.drop).toEqual(["ALL"]);
    expect(d.spec.selector.matchLabels).toEqual(expect.objectContaining(d.spec.template.metadata.labels));
  });

  it("mounts the ConfigMap where the container's --config points", () => {
    const c = container();
    const args = c.args ?? [];
    const configPath = args[args.indexOf("--config") + 1] ?? "";
    const mount = c.volumeMounts?.find((m) => m.mountPath === dirname(configPath));
    expect(mount?.subPath, "a subPath mount never sees ConfigMap updates").toBeUndefined();
    const volume = deployment().spec.template.spec.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.configMap?.name).toBe(configMap().metadata.name);
    expect(Object.keys(configMap().data)).toContain(posix.basename(configPath));
  });

  it("caps the V8 heap below the memory limit", () => {
    const { resources, env } = container();
    const limit = kubeBytes(resources?.limits?.memory ?? "");
    expect(kubeBytes(resources?.requests?.memory ?? "")).toBeLessThanOrEqual(limit);
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "")?.[1]);
    expect(heapMiB * 2 ** 20).toBeLessThan(limit * 0.9);
    expect(heapMiB * 2 ** 20).toBeGreaterThan(limit * 0.5);
    expect(heapMiB).toBe(DEPLOYED_HEAP_CAP_MIB);
  });

  it("the Service and ServiceMonitor reach the pod's metrics port, ready or not", () => {
    const s = service();
    const podLabels = deployment().spec.template.metadata.labels;
    expect(podLabels).toEqual(expect.objectContaining(s.spec.selector));
    expect(s.spec.publishNotReadyAddresses).toBe(true);
    const port = s.spec.ports.find((p) => p.name === serviceMonitor().spec.endpoints[0]?.port);
    expect(containerPortOf(port?.targetPort ?? -1)).toBe(9464);
    expect(s.metadata.labels).toEqual(expect.objectContaining(serviceMonitor().spec.selector.matchLabels));
  });
});

describe("Dockerfile", () => {
  const stages = parseDockerfile(readProjectFile("Dockerfile"));
  const runtime = stages.at(-1);
  if (!runtime) throw new Error("Dockerfile has no FROM");

  it("caps the V8 heap as the deployment files do and as the benchmarks measure it", () => {
    const env = instructionArgs(runtime, "ENV").join(" ");
    expect(env).toContain(`NODE_OPTIONS=--max-old-space-size=${DEPLOYED_HEAP_CAP_MIB}`);
  });

  it("builds in one stage, installs production dependencies in another, and the runtime takes only their output", () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const build = stages.find((s) => s.name !== null && instructionArgs(s, "RUN").some((r) => r.includes("npm run build")));
    expect(build?.name).toBeTruthy();
    expect(instructionArgs(build!, "RUN").some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    const deps = stages.find((s) => s !== build && instructionArgs(s, "RUN").some((r) => /\bnpm ci\b/.test(r)));
    expect(deps?.name).toBeTruthy();
    const install = instructionArgs(deps!, "RUN").find((r) => /\bnpm ci\b/.test(r)) ?? "";
    expect(install).toContain("--omit=dev");
    expect(install).toContain("--ignore-scripts"); // a production install never builds
    const copies = instructionArgs(runtime, "COPY");
    expect(copies).toContainEqual(expect.stringMatching(new RegExp(`^--from=${build!.name}\\s+\\S*dist\\s+\\./dist$`)));
    expect(copies).toContainEqual(expect.stringMatching(new RegExp(`^--from=${deps!.name}\\s+\\S*node_modules\\s+\\./node_modules$`)));
    expect(instructionArgs(runtime, "WORKDIR").at(-1)).toBe("/app");
    expect(instructionArgs(runtime, "ENV").join(" ").split(/\s+/)).toContain("NODE_ENV=production");
  });

  it("builds the optional kerberos addon from source in the deps stage, and the runtime carries MIT Kerberos' libraries, not the compiler", () => {
    const deps = stages.find((s) => instructionArgs(s, "RUN").some((r) => /\bnpm ci\b.*--omit=dev/.test(r)))!;
    const depsRuns = instructionArgs(deps, "RUN");
    expect(depsRuns.join(" ")).toMatch(/apt-get install[^&]*\blibkrb5-dev\b[^&]*\bg\+\+/);
    const rebuild = depsRuns.find((r) => /npm rebuild kerberos/.test(r)) ?? "";
    expect(rebuild).toContain("npm_config_build_from_source=true"); // never the unreachable prebuilt download
    expect(rebuild).toMatch(/import\("kerberos"\)/); // the image build fails when the addon does not load
    const runtimeRuns = instructionArgs(runtime, "RUN").join(" ");
    expect(runtimeRuns).toMatch(/apt-get install[^&]*\blibgssapi-krb5-2\b/);
    expect(runtimeRuns).not.toMatch(/libkrb5-dev|g\+\+|\bmake\b/);
  });

  it("the runtime image has no package manager: npm, npx, corepack and yarn are removed and never run there", () => {
    const runs = instructionArgs(runtime, "RUN");
    expect(runs.filter((r) => /\b(npm|npx|yarn|corepack)\s/.test(r.replace(/\/usr\/local\/\S+/g, "")))).toEqual([]);
    const removed = runs.join(" ");
    for (const path of ["/usr/local/lib/node_modules/npm", "/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/lib/node_modules/corepack", "/usr/local/bin/corepack", "/usr/local/bin/yarn"]) {
      expect(removed, path).toMatch(new RegExp(`rm -rf [^&]*${path.replace(/\//g, "\\/")}(\\s|$)`));
    }
  });

  it("pins every stage's base image by digest: NODE_IMAGE has no default and the build refuses one without @sha256", () => {
    const text = readProjectFile("Dockerfile");
    const globalArg = /^ARG NODE_IMAGE(=.*)?$/m.exec(text);
    expect(globalArg, "ARG NODE_IMAGE before the first FROM").not.toBeNull();
    const fallback = globalArg?.[1]?.slice(1);
    if (fallback !== undefined) expect(fallback).toMatch(/@sha256:[0-9a-f]{64}$/);
    for (const stage of stages) expect(stage.image, `stage ${stage.name}`).toMatch(/^\$\{NODE_IMAGE\}$|@sha256:[0-9a-f]{64}$/);
    // The first stage checks the form <name>[:<tag>]@sha256:<64 hex>, so an unpinned build fails early.
    const guard = instructionArgs(stages[0]!, "RUN")[0] ?? "";
    const pattern = /\*@sha256:(\?+)\)/.exec(guard);
    expect(pattern?.[1]?.length, "the guard's digest pattern has 64 characters").toBe(64);
    expect(guard).toMatch(/exit 1/);
    expect(text).toContain("docker inspect --format '{{index .RepoDigests 0}}'"); // documented way to get the digest
  });

  it("carries the OCI labels, the version matching package.json", () => {
    const labels = instructionArgs(runtime, "LABEL").join(" ");
    const keys = [...labels.matchAll(/(org\.opencontainers\.image\.[a-z.]+)=/g)].map((m) => m[1]);
    expect(keys).toEqual(
      expect.arrayContaining(["title", "description", "version", "revision", "created", "licenses", "base.name"].map((k) => `org.opencontainers.image.${k}`)),
    );
    const version = (JSON.parse(readProjectFile("package.json")) as { version: string }).version;
    expect(instructionArgs(runtime, "ARG")).toContain(`VERSION=${version}`);
    expect(labels).toContain('org.opencontainers.image.licenses="Apache-2.0"');
  });

  it("the README states the image's real entrypoint", () => {
    const readme = readProjectFile("README.md").replace(/\s+/g, " ");
    const entry = JSON.parse(instructionArgs(runtime, "ENTRYPOINT").at(-1) ?? "null") as string[];
    expect(readme).toContain(`entrypoint \`${entry.join(" ")}\``);
  });

  it("runs the package's bin as a non-root user, the uid the Deployment expects", () => {
    const user = instructionArgs(runtime, "USER").at(-1) ?? "root";
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(Number(user.split(":")[0])).toBe(deployment().spec.template.spec.securityContext?.runAsUser);
    const bin = (JSON.parse(readProjectFile("package.json")) as { bin: Record<string, string> }).bin["ckpt-replicator"];
    expect(JSON.parse(instructionArgs(runtime, "ENTRYPOINT").at(-1) ?? "null")).toEqual(["node", `/app/${bin}`]);
    expect(bin).toBe("dist/cli/bin.js");
  });

  it("defaults to `run` with the config path Kubernetes mounts, on the exposed metrics port", () => {
    const cmd = JSON.parse(instructionArgs(runtime, "CMD").at(-1) ?? "null") as string[];
    expect(cmd).toEqual(container().args);
    expect(instructionArgs(runtime, "EXPOSE").map(Number)).toEqual([containerPortOf("metrics")]);
  });

  it("everything src/ imports at run time is a production dependency (the image omits dev ones)", () => {
    const pkg = JSON.parse(readProjectFile("package.json")) as { dependencies: Record<string, string> };
    const imports = runtimePackageImports("src");
    expect([...imports.keys()]).toEqual(expect.arrayContaining(["yargs", "pino", "prom-client"]));
    const missing = [...imports].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it(".dockerignore keeps dependencies, output, history and tests out but not the sources COPY needs", () => {
    const patterns = readProjectFile(".dockerignore").split("\n");
    for (const path of ["node_modules", "node_modules/yaml/package.json", "dist/cli/bin.js", ".git", "test/deploy/deploy-files.test.ts"]) {
      expect(dockerignoreExcludes(patterns, path), path).toBe(true);
    }
    const sources = stages
      .flatMap((s) => instructionArgs(s, "COPY"))
      .filter((args) => !args.startsWith("--from="))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(["package-lock.json", "src", "config"]));
    for (const path of sources) expect(dockerignoreExcludes(patterns, path), path).toBe(false);
  });
});

describe("deploy/systemd/ckpt-replicator@.service", () => {
  const file = "deploy/systemd/ckpt-replicator@.service";
  const unit = parseUnitFile(readProjectFile(file));
  const service = (key: string) => unitValue(unit, "Service", key);

  it("runs one daemon per instance name with its own config, reloads on HUP, stops on TERM", () => {
    expect(service("Type")).toBe("simple");
    expect(service("ExecStart")).toMatch(/\/dist\/cli\/bin\.js run --config \/etc\/ckpt-replicator\/%i\.yaml$/);
    expect(service("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    expect(service("KillSignal")).toBe("SIGTERM");
    expect(service("Restart")).toBe("on-failure");
    const stopMs = parseDuration(/^\d+$/.test(service("TimeoutStopSec") ?? "") ? `${service("TimeoutStopSec")}s` : (service("TimeoutStopSec") ?? ""));
    expect(stopMs).toBeGreaterThan((DAEMON_STOP_DEADLINE_S + 5) * 1000);
    expect(unit.get("Service")?.get("Environment")).toContain("CKPT_LOG_LEVEL=info");
  });

  it("caps the V8 heap below the unit's memory limit, as the Kubernetes deployment does", () => {
    const limit = systemdBytes(service("MemoryMax") ?? "");
    const environment = [unit.get("Service")?.get("Environment") ?? []].flat().join(" ");
    const heapMiB = Number(/NODE_OPTIONS=--max-old-space-size=(\d+)/.exec(environment)?.[1]);
    expect(heapMiB * 2 ** 20).toBeLessThan(limit * 0.9);
    expect(heapMiB * 2 ** 20).toBeGreaterThan(limit * 0.5);
    expect(heapMiB).toBe(DEPLOYED_HEAP_CAP_MIB);
  });

  it("runs as a dedicated user with a hardened, read-only view of the system", () => {
    expect(service("User")).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(service("User")).not.toBe("root");
    for (const [key, value] of Object.entries({ NoNewPrivileges: "yes", ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes" })) {
      expect(service(key), key).toBe(value);
    }
    expect(service("ReadOnlyPaths")).toContain("/etc/ckpt-replicator");
    // V8 needs writable+executable memory for its JIT: this setting would kill node at start.
    expect(service("MemoryDenyWriteExecute") ?? "no").toBe("no");
  });

  it("systemd-analyze verify finds nothing to complain about", async (ctx) => {
    const run = promisify(execFile);
    try {
      await run("systemd-analyze", ["--version"]);
    } catch {
      const reason = "SKIPPED: systemd-analyze verify: systemd-analyze is not installed on this machine";
      process.stderr.write(`${reason}\n`);
      ctx.skip(reason);
      return;
    }
    const dir = join(projectRoot, dirname(file));
    const { stdout, stderr } = await run("systemd-analyze", ["verify", "--man=no", "./ckpt-replicator@pair.service"], { cwd: dir });
    const ownLines = `${stdout}${stderr}`.split("\n").filter((l) => l.includes(relative(dir, join(projectRoot, file))));
    expect(ownLines).toEqual([]);
  });
});

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

/** Bytes of a Kubernetes quantity such as 512Mi or 1Gi. */
function kubeBytes(quantity: string): number {
  const size = parseSize(quantity.replace(/([KMGTP])i$/, "$1iB"));
  if (size === null) throw new Error(`not a memory quantity: ${quantity}`);
  return size;
}

/** A systemd size ("512M", "1G": base 1024, as systemd reads MemoryMax). */
function systemdBytes(size: string): number {
  const m = /^(\d+)([KMGT]?)$/.exec(size);
  if (m === null) throw new Error(`not a systemd size: ${size}`);
  return Number(m[1]) * 1024 ** " KMGT".indexOf(m[2] || " ");
}
