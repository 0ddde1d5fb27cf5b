// The Kubernetes pod that runs one attempt of a container task, mapped from its TaskTemplate the way flyteplugins'
// pod plugin maps it (BuildRawContainer, ApplyResourceOverrides, UpdatePod). Pure: no API calls, no clock, no I/O.
import { createHash } from "node:crypto";
import type { V1Container, V1EnvVar, V1Pod, V1ResourceRequirements, V1Toleration, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { TaskAttempt } from "../engine/runner.js";
import { substituteTemplateVars } from "../engine/subprocess.js";
import { attemptEnvironment } from "../execute/env.js";
import { UserError } from "../errors.js";
import { Resources_ResourceName, type Resources_ResourceEntry, type TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";

export const labels = {
  managedBy: "app.kubernetes.io/managed-by",
  execution: "tsflyte.io/execution",
  project: "tsflyte.io/project",
  domain: "tsflyte.io/domain",
  node: "tsflyte.io/node",
  attempt: "tsflyte.io/attempt",
  task: "tsflyte.io/task",
  /** `task`, `driver` or `execution`. */
  role: "tsflyte.io/role",
} as const;

export const annotations = {
  taskName: "tsflyte.io/task-name",
  nodeId: "tsflyte.io/node-id",
  /** Kubernetes' own: `kubectl logs` and `exec` pick this container; classifyPodFailure reads it as the primary one. */
  defaultContainer: "kubectl.kubernetes.io/default-container",
} as const;

/**
 * flyteplugins names the container after the pod (the attempt's generated name, or 4 random letters when that is not
 * a DNS label), so it changes every attempt. A fixed name lets `kubectl logs -c task`, log shippers and
 * classifyPodFailure find the task's container without knowing which attempt the pod is.
 */
export const taskContainerName = "task";

/** The Kubernetes default, stated: tsflyte-execute stops within 5 s of SIGTERM, which leaves time to write error.pb. */
export const terminationGracePeriodSeconds = 30;

/** FlyteAdmin's roleNameKey as Flyte's charts set it: kube2iam's and kiam's annotation for the role a pod assumes. */
export const defaultIamRoleAnnotation = "iam.amazonaws.com/role";

export interface TaskPodSettings {
  namespace: string;
  /** The configured service account, for executions that name none of their own (kubeServiceAcct). */
  serviceAccount: string;
  /** The annotation an execution's IAM role (iamRoleARN) is written to; default iam.amazonaws.com/role. */
  iamRoleAnnotation?: string;
  /** The driver Job: every task pod is owned by it (not as controller), so deleting the Job with propagation removes them. */
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
  interruptible?: { tolerations?: V1Toleration[]; nodeSelector?: Record<string, string> };
  /** Plain env every task container gets for the blob store (TSFLYTE_S3_ENDPOINT, …). */
  storageEnv?: Record<string, string>;
  /** A Secret whose keys (AWS_ACCESS_KEY_ID, …) every task container gets through envFrom. */
  credentialsSecret?: string;
  /** With `file://` storage: the folder every node has, mounted into each pod at the same path. */
  storagePath?: string;
}

export const storageVolumeName = "tsflyte-storage";

/**
 * The node's storage folder mounted at the same path, so `file://` URIs mean the same inside the pod as outside:
 * `kubernetes.storage: file:///a/path/every/node/mounts`. None for S3.
 */
export function storageMount(path: string | undefined): { volumes: V1Volume[]; volumeMounts: V1VolumeMount[] } | undefined {
  if (!path) return undefined;
  return {
    volumes: [{ name: storageVolumeName, hostPath: { path, type: "DirectoryOrCreate" } }],
    volumeMounts: [{ name: storageVolumeName, mountPath: path }],
  };
}

const maxNameLength = 63;
const hashLength = 10;
const dnsLabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelValueRe = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/**
 * A fixed, valid pod name per attempt: `<execution>-<nodeId>-<attempt>` when that is already a DNS label of at most
 * 63 characters. Otherwise lowercased, with characters a DNS label cannot hold turned into `-`, cut to 52 characters
 * and ended with `-` and 10 hex of the SHA-256 of the full name, so distinct attempts keep distinct names.
 */
export function taskPodName(execution: string, nodeId: string, attempt: number): string {
  const full = `${execution}-${nodeId}-${attempt}`;
  if (full.length <= maxNameLength && dnsLabelRe.test(full)) return full;
  const sanitized = full.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  return withHash(full, sanitized, /^[^a-z0-9]+/, /[^a-z0-9]+$/);
}

/** A label value (≤63, [A-Za-z0-9._-], alphanumeric at both ends) for any string: as is when valid, else a prefix and a hash. */
export function labelValue(text: string): string {
  if (text.length <= maxNameLength && labelValueRe.test(text)) return text;
  const sanitized = text.replace(/[^A-Za-z0-9._-]+/g, "-");
  return withHash(text, sanitized, /^[^A-Za-z0-9]+/, /[^A-Za-z0-9]+$/);
}

function withHash(full: string, sanitized: string, leadingJunk: RegExp, trailingJunk: RegExp): string {
  const hash = createHash("sha256").update(full).digest("hex").slice(0, hashLength);
  const prefix = sanitized.replace(leadingJunk, "").slice(0, maxNameLength - hashLength - 1).replace(trailingJunk, "");
  return prefix ? `${prefix}-${hash}` : hash;
}

export function buildTaskPod(attempt: TaskAttempt, settings: TaskPodSettings): V1Pod {
  const task = attempt.task;
  const template = task.template;
  if (template?.target.case !== "container") {
    const what = template ? `its TaskTemplate has no container (target: ${template.target.case ?? "unset"})` : "it has no registered TaskTemplate";
    throw new UserError(`task ${task.name} cannot run in a Kubernetes pod: ${what}`);
  }
  const source = template.target.value;
  const name = taskPodName(attempt.execution.name, attempt.nodeId, attempt.attempt);

  const launched = attempt.settings ?? {};
  const env = new Map<string, string>();
  for (const { key, value } of source.env) env.set(key, value);
  // The execution's envs after the task's own, as Flyte's pod plugin orders them: the execution's win.
  for (const [key, value] of Object.entries(launched.envs ?? {})) env.set(key, value);
  for (const [key, value] of Object.entries(attemptEnvironment(attempt, attempt.taskId ?? taskIdOf(template)))) env.set(key, value);
  for (const [key, value] of Object.entries(settings.storageEnv ?? {})) env.set(key, value);

  const storage = storageMount(settings.storagePath);
  const container: V1Container = {
    name: taskContainerName,
    image: source.image,
    ...(source.command.length ? { command: source.command.map((arg) => substituteTemplateVars(arg, attempt)) } : {}),
    args: source.args.map((arg) => substituteTemplateVars(arg, attempt)),
    env: [...env].map(([key, value]): V1EnvVar => ({ name: key, value })),
    ...(settings.credentialsSecret ? { envFrom: [{ secretRef: { name: settings.credentialsSecret } }] } : {}),
    ...(storage ? { volumeMounts: storage.volumeMounts } : {}),
    resources: podResources(source.resources?.requests ?? [], source.resources?.limits ?? [], task.name),
    // As flyteplugins sets it: a container that fails without a termination message reports its last log lines.
    terminationMessagePolicy: "FallbackToLogsOnError",
  };

  const interruptible = attempt.interruptible ? settings.interruptible : undefined;
  const tolerations = interruptible?.tolerations ?? [];
  const nodeSelector = interruptible?.nodeSelector ?? {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: settings.namespace,
      // The execution's labels and annotations first, as Flyte passes the workflow's on to its pods; ours win (the
      // API refuses theirs under tsflyte.io/).
      labels: {
        ...launched.labels,
        [labels.managedBy]: "tsflyte",
        [labels.execution]: labelValue(attempt.execution.name),
        [labels.project]: labelValue(attempt.execution.project),
        [labels.domain]: labelValue(attempt.execution.domain),
        [labels.node]: labelValue(attempt.nodeId),
        [labels.attempt]: String(attempt.attempt),
        [labels.task]: labelValue(task.name),
        [labels.role]: "task",
      },
      annotations: {
        ...launched.annotations,
        ...(launched.iamRole ? { [settings.iamRoleAnnotation ?? defaultIamRoleAnnotation]: launched.iamRole } : {}),
        [annotations.taskName]: task.name,
        [annotations.nodeId]: attempt.nodeId,
        [annotations.defaultContainer]: taskContainerName,
      },
      ...(settings.owner ? { ownerReferences: [{ ...settings.owner, controller: false, blockOwnerDeletion: false }] } : {}),
    },
    spec: {
      restartPolicy: "Never",
      serviceAccountName: launched.serviceAccount ?? settings.serviceAccount,
      terminationGracePeriodSeconds,
      containers: [container],
      ...(storage ? { volumes: storage.volumes } : {}),
      ...(tolerations.length ? { tolerations: [...tolerations] } : {}),
      ...(Object.keys(nodeSelector).length ? { nodeSelector: { ...nodeSelector } } : {}),
    },
  };
}

function taskIdOf(template: TaskTemplate): TaskAttempt["taskId"] {
  const id = template.id;
  return id ? { project: id.project, domain: id.domain, name: id.name, version: id.version } : undefined;
}

/** flyteplugins' names (ToK8sResourceList); STORAGE and UNKNOWN have none and are left out, as there. */
const k8sResourceNames: Partial<Record<Resources_ResourceName, string>> = {
  [Resources_ResourceName.CPU]: "cpu",
  [Resources_ResourceName.MEMORY]: "memory",
  [Resources_ResourceName.EPHEMERAL_STORAGE]: "ephemeral-storage",
  [Resources_ResourceName.GPU]: "nvidia.com/gpu",
};
const resourceOrder = Object.values(k8sResourceNames) as string[];

/**
 * flyteplugins' ApplyResourceOverrides without platform defaults: a request that is not given takes the limit and a
 * limit that is not given takes the request; a request above its limit comes down to the limit. Zero means unset.
 * Neither given: nothing is set, and the namespace's LimitRange (if any) decides.
 */
function podResources(requestEntries: Resources_ResourceEntry[], limitEntries: Resources_ResourceEntry[], task: string): V1ResourceRequirements {
  const requests = resourceList(requestEntries, "requests", task);
  const limits = resourceList(limitEntries, "limits", task);
  const out: { requests: Record<string, string>; limits: Record<string, string> } = { requests: {}, limits: {} };
  for (const name of resourceOrder) {
    let request = requests.get(name);
    let limit = limits.get(name);
    if (!request && !limit) continue;
    request ??= limit!;
    limit ??= request;
    if (quantityValue(request)! > quantityValue(limit)!) request = limit;
    out.requests[name] = request;
    out.limits[name] = limit;
  }
  return Object.keys(out.requests).length ? out : {};
}

function resourceList(entries: Resources_ResourceEntry[], what: string, task: string): Map<string, string> {
  const list = new Map<string, string>();
  for (const entry of entries) {
    const name = k8sResourceNames[entry.name];
    if (!name) continue;
    const value = quantityValue(entry.value);
    if (value === undefined) {
      throw new UserError(`task ${task} asks for ${what}.${name} ${JSON.stringify(entry.value)}, which is not a Kubernetes quantity such as "500m", "2", "100Mi" or "1Gi"`);
    }
    if (value !== 0) list.set(name, entry.value);
  }
  return list;
}

// Kubernetes resource quantities: a number with an optional binary, decimal or exponent suffix.
const quantityRe = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const suffixFactor: Record<string, number> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number (`"500m"` → 0.5, `"1Gi"` → 1073741824), close enough to compare; undefined when it is not one. */
export function quantityValue(text: string): number | undefined {
  const match = quantityRe.exec(text.trim());
  if (!match) return undefined;
  const suffix = match[3] ?? "";
  const number = Number(text.trim().slice(0, text.trim().length - suffix.length));
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * suffixFactor[suffix];
}
