// The driver of an execution on Kubernetes: the Job that runs `tsflyte kubernetes drive` from the registered image,
// the settings it reads from its environment, and the Role it needs. Pure builders; never talks to a cluster.
import type { V1Job, V1PolicyRule } from "@kubernetes/client-node";
import { UserError } from "../errors.js";
import type { ExecutionRecord } from "../store/records.js";
import { fileURLToPath } from "node:url";
import { labels, labelValue, storageMount } from "./task-pod.js";

/** What the driver needs to know that the cluster does not tell it: the target's settings, without credentials. */
export interface DriverSettings {
  namespaceTemplate: string;
  serviceAccount: string;
  storage: string;
  s3?: { endpoint?: string; region?: string; forcePathStyle?: boolean; credentialsSecret?: string };
  interruptible?: { tolerations?: Array<Record<string, unknown>>; nodeSelector?: Record<string, string> };
  imagePullBackOffGraceMs: number;
  /** The pod annotation an execution's IAM role goes to (kubernetes.iamRoleAnnotation); absent: iam.amazonaws.com/role. */
  iamRoleAnnotation?: string;
}

/** The one variable the driver's settings travel in, as JSON (visible with `kubectl describe job`: nothing secret). */
export const driverSettingsVariable = "TSFLYTE_K8S_DRIVER";
export const driverContainerName = "driver";
/** The Role (and RoleBinding) the driver's service account gets in each namespace tsflyte uses. */
export const driverRoleName = "tsflyte-driver";

/** The plain variables the blob store reads in the driver and in tsflyte-execute (storage/s3-store.ts). */
export function storageEnvironment(settings: Pick<DriverSettings, "s3">): Record<string, string> {
  const env: Record<string, string> = {};
  const s3 = settings.s3;
  if (s3?.endpoint) env.TSFLYTE_S3_ENDPOINT = s3.endpoint;
  if (s3?.region) env.TSFLYTE_S3_REGION = s3.region;
  if (s3?.forcePathStyle) env.TSFLYTE_S3_FORCE_PATH_STYLE = "true";
  return env;
}

/** The S3 settings given in the config, to lay over those from the environment (credentials stay there). */
export function configuredS3(settings: Pick<DriverSettings, "s3">): { endpoint?: string; region?: string; forcePathStyle?: boolean } {
  const s3 = settings.s3 ?? {};
  return {
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.region ? { region: s3.region } : {}),
    ...(s3.forcePathStyle !== undefined ? { forcePathStyle: s3.forcePathStyle } : {}),
  };
}

/** The local folder of `file://` storage, which every node must have; undefined for S3. */
export function storagePath(settings: Pick<DriverSettings, "storage">): string | undefined {
  return settings.storage.startsWith("file://") ? fileURLToPath(settings.storage) : undefined;
}

export function parseDriverSettings(text: string | undefined): DriverSettings {
  const hint = "the driver runs inside the Job that `run --remote --target kubernetes` creates; start executions that way";
  if (!text) throw new UserError(`${driverSettingsVariable} is not set`, hint);
  let settings: DriverSettings;
  try {
    settings = JSON.parse(text) as DriverSettings;
  } catch (e) {
    throw new UserError(`${driverSettingsVariable} is not JSON: ${(e as Error).message}`, hint);
  }
  if (!settings.storage || !settings.namespaceTemplate || !settings.serviceAccount) {
    throw new UserError(`${driverSettingsVariable} lacks storage, namespaceTemplate or serviceAccount`, hint);
  }
  return settings;
}

export interface DriverJobRequest {
  execution: ExecutionRecord;
  namespace: string;
  image: string;
  settings: DriverSettings;
  /** The execution's ConfigMap: it owns the Job, so deleting the execution deletes its driver and, through it, its pods. */
  owner: { name: string; uid: string };
}

/**
 * The driver Job. The Job controller replaces a driver pod that dies or is evicted, and the new one resumes from the
 * recorded state; `backoffLimit` bounds how often a driver that keeps crashing is tried. It carries the execution's
 * labels and annotations, but runs as the configured service account (it needs tsflyte's Role) and without the
 * execution's IAM role, as FlytePropeller does: only task pods run as the execution says.
 */
export function buildDriverJob(request: DriverJobRequest): V1Job {
  const { execution, namespace, image, settings } = request;
  const jobLabels = {
    ...execution.settings?.labels,
    [labels.managedBy]: "tsflyte",
    [labels.role]: "driver",
    [labels.execution]: execution.name,
    [labels.project]: labelValue(execution.project),
    [labels.domain]: labelValue(execution.domain),
  };
  const jobAnnotations = execution.settings?.annotations;
  const storage = storageMount(storagePath(settings));
  const env = [
    { name: driverSettingsVariable, value: JSON.stringify(settings) },
    ...Object.entries(storageEnvironment(settings)).map(([name, value]) => ({ name, value })),
  ];
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: execution.name,
      namespace,
      labels: jobLabels,
      ...(jobAnnotations ? { annotations: jobAnnotations } : {}),
      ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: request.owner.name, uid: request.owner.uid, controller: false, blockOwnerDeletion: false }],
    },
    spec: {
      backoffLimit: 4,
      template: {
        metadata: { labels: jobLabels, ...(jobAnnotations ? { annotations: jobAnnotations } : {}) },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: settings.serviceAccount,
          terminationGracePeriodSeconds: 30,
          ...(storage ? { volumes: storage.volumes } : {}),
          containers: [
            {
              name: driverContainerName,
              image,
              command: ["tsflyte"],
              args: ["kubernetes", "drive", execution.name, "--project", execution.project, "--domain", execution.domain, "--namespace", namespace],
              env,
              ...(settings.s3?.credentialsSecret ? { envFrom: [{ secretRef: { name: settings.s3.credentialsSecret } }] } : {}),
              ...(storage ? { volumeMounts: storage.volumeMounts } : {}),
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
            },
          ],
        },
      },
    },
  };
}

/** What the driver does in its namespace: record the execution, run task pods and read their logs, see its own Job. */
export const driverRules: V1PolicyRule[] = [
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get"] },
];
