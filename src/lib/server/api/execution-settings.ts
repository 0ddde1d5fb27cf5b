// What an execution create request says beyond what runs and its inputs (admin ExecutionSpec and its metadata):
// checked into ExecutionSettings, the request's values first and then its launch plan's, as FlyteAdmin merges them.
// Never accepts a field to drop it: what tsflyte cannot honour is refused, naming the field and what tsflyte does.
import { ExecutionMetadata_ExecutionMode, type ExecutionMetadata, type ExecutionSpec } from "../../idl/gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import type { SecurityContext } from "../../idl/gen/flyteidl/core/security_pb.js";
import { executionEnvNameProblem } from "../../execute/env.js";
import { isFileUri, fileUriToPath, pathToFileUri } from "../../storage/file-uri.js";
import { parseS3Uri } from "../../storage/s3-store.js";
import type { ExecutionSettings } from "../../store/records.js";
import { invalidArgument } from "./api-error.js";
import { hasControlCharacter } from "./resource-names.js";

// Kubernetes' rules (IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain), which FlyteAdmin leaves to the API server.
const qualifiedNameRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValueRe = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** Kubernetes' limit on one object's annotations, keys and values together. */
const maxAnnotationBytes = 256 * 1024;

/** Label keys tsflyte sets on an execution's objects; the execution's own may not take them. */
function reservedLabel(key: string): boolean {
  return key.startsWith("tsflyte.io/") || key === "app.kubernetes.io/managed-by";
}
function reservedAnnotation(key: string): boolean {
  return key.startsWith("tsflyte.io/") || key === "kubectl.kubernetes.io/default-container";
}

function qualifiedNameOk(key: string): boolean {
  const slash = key.lastIndexOf("/");
  return qualifiedNameRe.test(key) && (slash === -1 || slash <= 253);
}

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/**
 * The principal a create, relaunch or recover request starts its execution as, after refusing the metadata fields a
 * request cannot set here. `allowedMode` is the mode the request's path gives (MANUAL for create); `caller` is who the
 * server authenticated, taken when the request names no principal.
 */
export function principalOf(metadata: ExecutionMetadata | undefined, field: string, allowedMode: ExecutionMetadata_ExecutionMode, caller: string): string {
  if (!metadata) return caller;
  if (metadata.mode !== ExecutionMetadata_ExecutionMode.MANUAL && metadata.mode !== allowedMode) {
    const name = ExecutionMetadata_ExecutionMode[metadata.mode] ?? String(metadata.mode);
    throw invalidArgument(
      `${field}.mode ${name}: this request starts a ${ExecutionMetadata_ExecutionMode[allowedMode]} execution; relaunch and recover have requests of their own ` +
        "(POST /api/v1/executions/relaunch and /recover), and tsflyte starts no SCHEDULED, SYSTEM, CHILD_WORKFLOW or TRIGGER execution from a request",
    );
  }
  if (metadata.nesting !== 0) throw invalidArgument(`${field}.nesting is set by the control plane for executions that workflows launch; leave it 0`);
  if (metadata.scheduledAt) throw invalidArgument(`${field}.scheduled_at is set for executions a schedule starts, not by a request; leave it out`);
  if (metadata.parentNodeExecution) {
    throw invalidArgument(`${field}.parent_node_execution: tsflyte runs a launch plan node inside its parent's execution, never as an execution of its own; leave it out`);
  }
  if (metadata.referenceExecution) {
    throw invalidArgument(`${field}.reference_execution: to start from another execution, use POST /api/v1/executions/relaunch or /recover with its id`);
  }
  const system = metadata.systemMetadata;
  if (system && (system.executionCluster || system.namespace)) throw invalidArgument(`${field}.system_metadata is set by the control plane; leave it out`);
  if (metadata.artifactIds.length) throw invalidArgument(`${field}.artifact_ids: tsflyte has no artifact service; leave it empty`);
  if (hasControlCharacter(metadata.principal) || metadata.principal.length > 256) {
    throw invalidArgument(`${field}.principal ${show(metadata.principal)} must be at most 256 characters without control characters`);
  }
  return metadata.principal || caller;
}

/** Where the blob store behind the server keeps data, for checking a raw output prefix against it. */
export interface BlobBase {
  baseUri: string;
}

/**
 * The settings of an execution created from `spec`, each the request's when it gives one, else its launch plan's
 * (`plan`, named `planName` in messages); undefined when neither sets anything. Refuses the fields tsflyte cannot honour.
 */
export function settingsOfSpec(spec: ExecutionSpec, plan: LaunchPlanSpec | undefined, planName: string, blobs: BlobBase): ExecutionSettings | undefined {
  refuseUnsupported(spec);
  const fromPlan = `launch plan ${planName}: spec`;
  // The request's value when it gives one, else the plan's, with the field it came from (FlyteAdmin's MergeIntoExecConfig).
  const pick = <T>(requested: T | undefined, planned: T | undefined, field: string, given: (value: T) => boolean) =>
    requested !== undefined && given(requested)
      ? { value: requested, field: `spec.${field}` }
      : planned !== undefined && given(planned)
        ? { value: planned, field: `${fromPlan}.${field}` }
        : undefined;
  const hasEntries = (map: Record<string, string>) => Object.keys(map).length > 0;
  const settings: ExecutionSettings = {};

  const labels = pick(spec.labels?.values, plan?.labels?.values, "labels", hasEntries);
  if (labels) settings.labels = checkedLabels(labels.value, labels.field);
  const annotations = pick(spec.annotations?.values, plan?.annotations?.values, "annotations", hasEntries);
  if (annotations) settings.annotations = checkedAnnotations(annotations.value, annotations.field);
  const envs = pick(spec.envs?.values, plan?.envs?.values, "envs", (values) => values.length > 0);
  if (envs) settings.envs = checkedEnvs(envs.value, envs.field);

  // The request's identity as a whole, else the launch plan's: FlyteAdmin takes the security context from one level.
  const requested = identityOf(spec.securityContext, spec.authRole, "spec");
  const identity = requested.serviceAccount || requested.iamRole ? requested : planIdentity(plan, fromPlan);
  if (identity.serviceAccount) settings.serviceAccount = identity.serviceAccount;
  if (identity.iamRole) settings.iamRole = identity.iamRole;
  if (spec.authRole) settings.authRole = { assumableIamRole: spec.authRole.assumableIamRole, kubernetesServiceAccount: spec.authRole.kubernetesServiceAccount };

  const prefix = pick(spec.rawOutputDataConfig?.outputLocationPrefix, plan?.rawOutputDataConfig?.outputLocationPrefix, "raw_output_data_config.output_location_prefix", Boolean);
  if (prefix) settings.rawOutputPrefix = checkedRawOutputPrefix(prefix.value, prefix.field, blobs);
  const pool = pick(spec.clusterAssignment?.clusterPoolName, plan?.clusterAssignment?.clusterPoolName, "cluster_assignment.cluster_pool_name", Boolean);
  if (pool) settings.clusterPool = checkedText(pool.value, pool.field);
  if (spec.executionClusterLabel?.value) settings.executionClusterLabel = checkedText(spec.executionClusterLabel.value, "spec.execution_cluster_label.value");
  const interruptible = spec.interruptible ?? plan?.interruptible;
  if (interruptible !== undefined) settings.interruptible = interruptible;
  if (spec.notificationOverrides.case === "disableAll" && spec.notificationOverrides.value) settings.disableAllNotifications = true;
  return Object.keys(settings).length ? settings : undefined;
}

/** The fields tsflyte has nothing to do with, each refused with what it does instead. */
function refuseUnsupported(spec: ExecutionSpec): void {
  const overrides = spec.notificationOverrides;
  if (overrides.case === "notifications" && overrides.value.notifications.length) {
    throw invalidArgument(
      "spec.notifications: tsflyte sends no notifications (no e-mail, Slack or PagerDuty), so it cannot send these; leave spec.notifications empty (spec.disable_all is accepted)",
    );
  }
  if (spec.tags.length) throw invalidArgument("spec.tags is deprecated in Flyte and tsflyte keeps no execution tags; give spec.labels instead");
  const qos = spec.qualityOfService;
  if (qos && qos.designation.case !== undefined && !(qos.designation.case === "tier" && qos.designation.value === 0)) {
    throw invalidArgument("spec.quality_of_service: tsflyte has one queue and starts executions in the order they come, so it cannot honour a tier or a queueing budget; leave it out");
  }
  if (spec.executionEnvAssignments.length) throw invalidArgument("spec.execution_env_assignments: tsflyte has no execution environments; leave it empty");
  refuseUnsupportedSecurity(spec.securityContext, "spec.security_context");
}

function refuseUnsupportedSecurity(context: SecurityContext | undefined, field: string): void {
  if (!context) return;
  if (context.secrets.length) {
    throw invalidArgument(`${field}.secrets: tsflyte attaches no secrets to an execution; a task that needs secrets declares them (TaskTemplate security_context.secrets)`);
  }
  if (context.tokens.length) throw invalidArgument(`${field}.tokens: tsflyte requests no OAuth2 tokens for tasks; leave it empty`);
  const runAs = context.runAs;
  if (runAs?.oauth2Client) throw invalidArgument(`${field}.run_as.oauth2_client: tsflyte does not run tasks as an OAuth2 client; leave it out`);
  if (runAs?.executionIdentity) throw invalidArgument(`${field}.run_as.execution_identity is set by the control plane from the authenticated user; leave it empty`);
}

function checkedLabels(labels: Record<string, string>, field: string): Record<string, string> {
  for (const [key, value] of Object.entries(labels)) {
    if (!qualifiedNameOk(key)) throw invalidArgument(`${field} key ${show(key)} is not a Kubernetes label key: name or prefix/name, the name at most 63 letters, digits, "-", "_" and "."`);
    if (reservedLabel(key)) throw invalidArgument(`${field} key ${show(key)} is tsflyte's: it sets tsflyte.io/ labels and app.kubernetes.io/managed-by on an execution's objects itself; choose another key`);
    if (!labelValueRe.test(value)) {
      throw invalidArgument(`${field} value ${show(value)} (key ${key}) is not a Kubernetes label value: at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`);
    }
  }
  return { ...labels };
}

function checkedAnnotations(annotations: Record<string, string>, field: string): Record<string, string> {
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (!qualifiedNameOk(key)) throw invalidArgument(`${field} key ${show(key)} is not a Kubernetes annotation key: name or prefix/name, the name at most 63 letters, digits, "-", "_" and "."`);
    if (reservedAnnotation(key)) {
      throw invalidArgument(`${field} key ${show(key)} is tsflyte's: it sets tsflyte.io/ annotations and kubectl.kubernetes.io/default-container itself; choose another key`);
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > maxAnnotationBytes) throw invalidArgument(`${field} hold ${bytes} bytes; Kubernetes allows ${maxAnnotationBytes} on one object`);
  return { ...annotations };
}

function checkedEnvs(values: readonly { key: string; value: string }[], field: string): Record<string, string> {
  const envs: Record<string, string> = {};
  for (const { key, value } of values) {
    const problem = executionEnvNameProblem(key);
    if (problem) throw invalidArgument(`${field}: ${problem}`);
    if (Object.hasOwn(envs, key)) throw invalidArgument(`${field} sets ${key} twice; keep one`);
    if (value.includes("\0")) throw invalidArgument(`${field} ${key} holds a NUL character, which no environment can carry`);
    envs[key] = value;
  }
  return envs;
}

function checkedText(value: string, field: string): string {
  if (value.length > 256 || hasControlCharacter(value)) throw invalidArgument(`${field} ${show(value)} must be at most 256 characters without control characters`);
  return value;
}

interface Identity {
  serviceAccount?: string;
  iamRole?: string;
}

/** One level's identity: its security context's run_as, with its auth role filling in what that leaves empty. */
function identityOf(context: SecurityContext | undefined, authRole: { assumableIamRole: string; kubernetesServiceAccount: string } | undefined, level: string): Identity {
  const runAs = context?.runAs;
  const identity: Identity = {};
  // Any text, as FlyteAdmin takes it (flytectl's own test file names the account "kubeServiceAcct"); a target that
  // makes pods checks that it names a service account it has (ExecutionControl.check).
  const serviceAccount = agreed(level, ["k8s_service_account", runAs?.k8sServiceAccount], ["kubernetes_service_account", authRole?.kubernetesServiceAccount]);
  if (serviceAccount) identity.serviceAccount = serviceAccount;
  const iamRole = agreed(level, ["iam_role", runAs?.iamRole], ["assumable_iam_role", authRole?.assumableIamRole]);
  if (iamRole) identity.iamRole = iamRole;
  return identity;
}

/** One identity field as run_as and auth_role give it: they must agree when both do. */
function agreed(level: string, [runAsName, fromRunAs]: [string, string | undefined], [authName, fromAuth]: [string, string | undefined]): string | undefined {
  const runAsField = `${level}.security_context.run_as.${runAsName}`;
  const authField = `${level}.auth_role.${authName}`;
  if (fromRunAs && fromAuth && fromRunAs !== fromAuth) {
    throw invalidArgument(`${runAsField} (${show(fromRunAs)}) and ${authField} (${show(fromAuth)}) differ; give one, or the same in both`);
  }
  if (fromRunAs) return checkedText(fromRunAs, runAsField);
  return fromAuth ? checkedText(fromAuth, authField) : undefined;
}

/** A launch plan's identity: its security context, else its auth role, else its older `auth` and `role` fields. */
function planIdentity(plan: LaunchPlanSpec | undefined, level: string): Identity {
  if (!plan) return {};
  refuseUnsupportedSecurity(plan.securityContext, `${level}.security_context`);
  const authRole = plan.authRole ?? (plan.auth ? { assumableIamRole: plan.auth.assumableIamRole, kubernetesServiceAccount: plan.auth.kubernetesServiceAccount } : plan.role ? { assumableIamRole: plan.role, kubernetesServiceAccount: "" } : undefined);
  return identityOf(plan.securityContext, authRole, level);
}

/**
 * A raw output prefix this server's blob store can write: an s3:// prefix (any bucket its credentials reach) when it
 * keeps data in S3, else a file:// prefix inside its own folder, which is what every node and pod has mounted.
 */
function checkedRawOutputPrefix(prefix: string, field: string, blobs: BlobBase): string {
  const base = blobs.baseUri;
  const given = prefix.replace(/\/+$/, "");
  if (base.startsWith("s3://")) {
    if (!/^s3:\/\//i.test(given)) throw invalidArgument(`${field} ${show(prefix)}: this server keeps its data in S3 (${base}) and writes offloaded data to s3:// prefixes only`);
    try {
      parseS3Uri(given);
    } catch (e) {
      throw invalidArgument(`${field}: ${(e as Error).message}`);
    }
    return given;
  }
  const example = `${base}/raw-outputs`;
  if (!isFileUri(given)) throw invalidArgument(`${field} ${show(prefix)}: this server keeps its data in ${base} and writes offloaded data inside that folder only; give a file:// prefix under it, e.g. ${example}`);
  let canonical: string;
  try {
    canonical = pathToFileUri(fileUriToPath(given));
  } catch (e) {
    throw invalidArgument(`${field}: ${(e as Error).message}`);
  }
  if (canonical !== base && !canonical.startsWith(`${base}/`)) {
    throw invalidArgument(`${field} ${show(prefix)} is outside this server's blob store (${base}); offloaded data is written inside that folder only, e.g. ${example}`);
  }
  return canonical;
}
