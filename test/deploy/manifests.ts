// Typed views of the Kubernetes manifests and the alert rules under deploy/,
// reduced to the fields the deployment tests check.

import { parse } from "yaml";
import { readProjectFile } from "./deploy-parsers.js";

interface Metadata {
  name: string;
  labels?: Record<string, string>;
}

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[] };
}

export interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}

export interface Deployment {
  metadata: Metadata;
  spec: {
    replicas: number;
    strategy?: { type: string };
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: SecurityContext;
        containers: Container[];
        volumes?: Array<{ name: string; configMap?: { name: string } }>;
      };
    };
  };
}

export interface Service {
  metadata: Metadata;
  spec: {
    selector: Record<string, string>;
    publishNotReadyAddresses?: boolean;
    ports: Array<{ name: string; port: number; targetPort?: number | string }>;
  };
}

export interface ServiceMonitor {
  metadata: Metadata;
  spec: {
    jobLabel?: string;
    selector: { matchLabels: Record<string, string> };
    endpoints: Array<{ port: string; path?: string }>;
  };
}

export interface NetworkPolicy {
  metadata: Metadata;
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: Array<{ ports?: Array<{ protocol?: string; port: number | string }> }>;
    egress: Array<{ ports?: Array<{ protocol?: string; port: number | string }> }>;
  };
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function manifest<T>(file: string, kind: string): T {
  const doc = parse(readProjectFile(`deploy/kubernetes/${file}`)) as { kind?: string } | null;
  if (doc?.kind !== kind) throw new Error(`deploy/kubernetes/${file} is not a ${kind} (kind: ${doc?.kind})`);
  return doc as T;
}

export const deployment = () => manifest<Deployment>("deployment.yaml", "Deployment");
export const service = () => manifest<Service>("service.yaml", "Service");
export const serviceMonitor = () => manifest<ServiceMonitor>("servicemonitor.yaml", "ServiceMonitor");
export const configMap = () => manifest<{ metadata: Metadata; data: Record<string, string> }>("configmap.yaml", "ConfigMap");
export const namespace = () => manifest<{ metadata: Metadata }>("namespace.yaml", "Namespace");
export const networkPolicy = () => manifest<NetworkPolicy>("networkpolicy.yaml", "NetworkPolicy");
export const kustomization = () => manifest<{ resources: string[] }>("kustomization.yaml", "Kustomization");

/** The replicator container (the Deployment's only one). */
export function container(): Container {
  const containers = deployment().spec.template.spec.containers;
  if (containers.length !== 1 || !containers[0]) throw new Error(`expected one container, found ${containers.length}`);
  return containers[0];
}

/** Container port number for a port number or port name as probes and Services give it. */
export function containerPortOf(port: number | string): number | undefined {
  if (typeof port === "number") return container().ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container().ports?.find((p) => p.name === port)?.containerPort;
}

export function alerts(): AlertRule[] {
  const file = parse(readProjectFile("deploy/prometheus/alerts.yaml")) as { groups: Array<{ rules: AlertRule[] }> };
  return file.groups.flatMap((g) => g.rules);
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
  panels: Array<{
    id: number;
    type: string;
    title: string;
    datasource?: unknown;
    gridPos: { x: number; y: number; w: number; h: number };
    targets?: Array<{ expr: string }>;
    panels?: Dashboard["panels"];
  }>;
}

export function dashboard(): Dashboard {
  return JSON.parse(readProjectFile("deploy/grafana/ckpt-replicator.json")) as Dashboard;
}

/** Every PromQL expression of the dashboard: panel targets (rows included) and query variables' label_values(). */
export function dashboardQueries(d: Dashboard): string[] {
  const out: string[] = [];
  const walk = (panels: Dashboard["panels"]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push(t.expr);
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
    const m = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(q);
    out.push(m ? (m[1] ?? "") : q);
  }
  return out;
}
