// How an attempt's pod stands, and who is to blame when it failed, as flyteplugins' pod plugin decides it
// (DemystifyPending, DemystifySuccess, DemystifyFailure, the plugin manager's create errors). Pure: time is an argument.
import type { V1ContainerState, V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { AttemptError } from "../engine/runner.js";
import { quantityValue } from "./task-pod.js";

export type PodVerdict =
  /** Not running yet and nothing wrong: scheduling, ContainerCreating, ErrImagePull, waiting for resources. */
  | { state: "pending"; reason: string; message?: string }
  | { state: "running" }
  /** Read outputs.pb / error.pb next. */
  | { state: "succeeded" }
  /** Something is wrong that may still clear (ImagePullBackOff, CreateContainerError) inside its grace period: wait. */
  | { state: "backoff"; reason: string; message: string }
  | { state: "failed"; error: AttemptError };

type Failed = { state: "failed"; error: AttemptError };

/** flyteplugins' ImagePullBackoffGracePeriod default. */
export const defaultImagePullGraceMs = 3 * 60_000;
/** flyteplugins' CreateContainerErrorGracePeriod default; its CreateContainerConfigErrorGracePeriod is 0. */
export const createContainerErrorGraceMs = 3 * 60_000;

/** Pod reasons for a node going away under the pod (flyteplugins' retryableStatusReasons), and what to tell the user. */
const nodeGoneReasons = new Map([
  ["Shutdown", "its node shut down"],
  ["Terminated", "its node shut down"],
  ["NodeShutdown", "its node was shutting down"],
  ["NodeAffinity", "its node rejected it (the node's labels no longer matched)"],
]);

/** SIGKILL as the exit code of a killed process: 128 + 9, and 256 - 9 as some runtimes report it. */
const sigkillExitCodes = new Set([137, 247]);

/**
 * How one observed pod classifies, like flyteplugins' pod plugin. `imagePullBackOffSince`: when this attempt first saw
 * ImagePullBackOff (the caller remembers it; unset means now); `imagePullGraceMs` defaults to 3 minutes.
 */
export function classifyPodFailure(pod: V1Pod, context: { now: number; imagePullBackOffSince?: number; imagePullGraceMs?: number }): PodVerdict {
  const verdict = classifyPhase(pod, context);
  const deleting = pod.metadata?.deletionTimestamp;
  if (deleting && (verdict.state === "pending" || verdict.state === "running" || verdict.state === "backoff")) {
    // As flyteplugins' plugin manager: a node that disappears marks its pods for deletion before they finish.
    return fail("SYSTEM", true, "UnexpectedObjectDeletion", `pod ${podName(pod)} is being deleted (since ${timeText(deleting)}) before it finished; something outside tsflyte deleted it or drained its node`);
  }
  return verdict;
}

/** The verdict for a pod that disappeared (deleted from outside) before it finished: system, retryable. */
export function podDeletedVerdict(podName: string): Failed {
  return fail("SYSTEM", true, "ResourceDeletedExternally", `pod ${podName} was deleted before it finished (by hand, by a node drain, or because its node went away)`);
}

/**
 * What to do when creating an attempt's pod fails with this HTTP status and Status body, as flyteplugins' plugin manager
 * decides it. 409 AlreadyExists is the attempt's own pod from an earlier try: adopt it. Give `podName` to have it in
 * the message (the API server's message usually names it too).
 */
export function classifyCreateError(
  status: number,
  body: { reason?: string; message?: string } | undefined,
  podName?: string,
): { action: "adopt" } | { action: "wait"; reason: string; message: string } | { action: "fail"; error: AttemptError } {
  const detail = body?.message || body?.reason || `HTTP ${status}`;
  const what = podName ? `could not create pod ${podName}` : "could not create the attempt's pod";
  if (status === 409) return { action: "adopt" };
  if (status === 403 && detail.includes("exceeded quota")) {
    const over = overQuotaOutright(detail);
    if (over) {
      return failAction("USER", false, "ResourceRequestsExceedLimits", `${what}: the task alone asks for more than the namespace's ResourceQuota allows (${over}); lower the task's requests/limits or raise the quota. ${detail}`);
    }
    return { action: "wait", reason: "ResourceQuotaExceeded", message: `${what} yet, waiting for quota to free up: ${detail}` };
  }
  if (status === 403 && detail.includes("etcdserver:")) return { action: "wait", reason: "EtcdError", message: `${what} yet, the API server's store is failing: ${detail}` };
  if (status === 403) {
    return failAction("USER", true, "RuntimeFailure", `${what}: forbidden: ${detail}; check the service account's RBAC permissions and the namespace's admission policies`);
  }
  if (status === 400 || status === 422) {
    return failAction("USER", false, "BadTaskFormat", `${what}: the API server rejected its spec (${status}): ${detail}`);
  }
  if (status === 413) return failAction("USER", false, "EntityTooLarge", `${what}: the pod spec is too large for the API server: ${detail}`);
  if (status === 429) return { action: "wait", reason: "TooManyRequests", message: `${what} yet, the API server is throttling requests: ${detail}` };
  if (status >= 500) return { action: "wait", reason: body?.reason || "ServerError", message: `${what} yet, the API server answered ${status}: ${detail}` };
  return failAction("SYSTEM", true, body?.reason || `HTTP${status}`, `${what}: the API server answered ${status}: ${detail}`);
}

function classifyPhase(pod: V1Pod, context: { now: number; imagePullBackOffSince?: number; imagePullGraceMs?: number }): PodVerdict {
  const status = pod.status ?? {};
  switch (status.phase) {
    case "Succeeded":
      return classifySucceeded(pod);
    case "Failed":
      return classifyFailed(pod);
    case "Running":
    case "Unknown":
      return classifyRunning(pod);
    default:
      return classifyPending(pod, context);
  }
}

/** DemystifySuccess: a container that was OOMKilled makes a success a lie. */
function classifySucceeded(pod: V1Pod): PodVerdict {
  const oom = allStatuses(pod).find((s) => isOomKilled(s.state));
  if (oom) {
    return fail("USER", true, "OOMKilled", `pod ${podName(pod)} reported success, but container "${oom.name}" was OOMKilled (exit code ${oom.state!.terminated!.exitCode}); ${memoryAdvice(pod, oom.name)}`);
  }
  return { state: "succeeded" };
}

/** DeterminePrimaryContainerPhase: the pod still runs, but the task's container may have ended already. */
function classifyRunning(pod: V1Pod): PodVerdict {
  const primary = primaryStatus(pod);
  if (!primary?.state?.terminated) return { state: "running" };
  return containerEnded(pod, primary, primary.state) ?? { state: "succeeded" };
}

/** DemystifyFailure, with the issue's order: the node going away, then OOM, then SIGKILL, then any other exit. */
function classifyFailed(pod: V1Pod): PodVerdict {
  const name = podName(pod);
  const status = pod.status!;
  const reason = status.reason ?? "";
  const said = status.message ? `: ${status.message}` : "";
  const nodeGone = nodeGoneReasons.get(reason);
  if (nodeGone) return fail("SYSTEM", true, "Interrupted", `pod ${name} failed because ${nodeGone} (${reason}${said}); retried as a system error`);
  if (reason === "Evicted") {
    return fail("SYSTEM", true, "Evicted", `pod ${name} was evicted from its node (Evicted${said}); retried as a system error — if the task itself used the memory or disk, raise its requests`);
  }
  const ended = allStatuses(pod)
    .map((s) => ({ s, state: terminatedState(s) }))
    .filter((e): e is { s: V1ContainerStatus; state: V1ContainerState } => e.state !== undefined);
  const primary = primaryName(pod);
  const culprit =
    ended.find((e) => isOomKilled(e.state)) ??
    ended.find((e) => e.s.name === primary && sigkillExitCodes.has(e.state.terminated!.exitCode)) ??
    ended.find((e) => e.state.terminated!.exitCode !== 0);
  if (culprit) return containerEnded(pod, culprit.s, culprit.state)!;
  if (reason) return fail("USER", true, reason, `pod ${name} failed (${reason}${said})`);
  // flyteplugins: no reason at all means the kubelet had no chance to record one, as when the node is lost.
  return fail("SYSTEM", true, "Interrupted", `pod ${name} failed and Kubernetes recorded no reason${said}; its node may have gone away; retried as a system error`);
}

/** One container's end: OOMKilled is the user's, SIGKILL on the task's container the system's, any other exit the user's. */
function containerEnded(pod: V1Pod, container: V1ContainerStatus, state: V1ContainerState | undefined): Failed | undefined {
  const terminated = state?.terminated;
  if (!terminated) return undefined;
  const name = podName(pod);
  const exit = terminated.exitCode;
  const said = terminated.message ? `; its last output:\n${terminated.message.trimEnd()}` : "";
  if (isOomKilled(state)) {
    return fail("USER", true, "OOMKilled", `pod ${name}: container "${container.name}" ran out of memory and was killed (OOMKilled, exit code ${exit}); ${memoryAdvice(pod, container.name)}`);
  }
  const podSaid = pod.status?.message ? ` (the pod says: ${pod.status.message})` : "";
  if (sigkillExitCodes.has(exit)) {
    if (container.name === primaryName(pod)) {
      return fail("SYSTEM", true, "Interrupted", `pod ${name}: container "${container.name}" was killed with SIGKILL (exit code ${exit}), most likely because its node was preempted or shut down${podSaid}; retried as a system error${said}`);
    }
    return fail("USER", true, "Interrupted", `pod ${name}: container "${container.name}" was killed with SIGKILL (exit code ${exit})${podSaid}${said}`);
  }
  if (exit === 0) return undefined;
  const why = terminated.reason ? ` (${terminated.reason})` : "";
  return fail(
    "USER",
    true,
    terminated.reason || "Error",
    `pod ${name}: container "${container.name}" exited with code ${exit}${why}${podSaid}. Under the task container contract a task's own errors go to error.pb with exit code 0, so the entrypoint itself failed: see kubectl logs -n ${pod.metadata?.namespace ?? "<namespace>"} ${name}${said}`,
  );
}

/** DemystifyPending: waiting is fine unless a container waits for a reason that will not clear by itself. */
function classifyPending(pod: V1Pod, context: { now: number; imagePullBackOffSince?: number; imagePullGraceMs?: number }): PodVerdict {
  const name = podName(pod);
  const status = pod.status ?? {};
  const unscheduled = status.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled) {
    return { state: "pending", reason: unscheduled.reason || "Unschedulable", message: `pod ${name} is not scheduled yet${unscheduled.message ? `: ${unscheduled.message}` : ""}` };
  }
  // Init containers first: a stuck one is the cause while the others only report PodInitializing.
  const waiting =
    status.initContainerStatuses?.find((s) => s.state?.waiting) ?? status.containerStatuses?.find((s) => !s.ready && s.state?.waiting);
  const wait = waiting?.state?.waiting;
  if (!waiting || !wait) {
    return { state: "pending", reason: status.reason || "Scheduling", message: `pod ${name} is pending${status.message ? `: ${status.message}` : ""}` };
  }
  const reason = wait.reason || "Waiting";
  const said = wait.message ? `: ${wait.message}` : "";
  const image = imageOf(pod, waiting);
  switch (reason) {
    case "ErrImagePull":
    case "ContainerCreating":
    case "PodInitializing":
      return { state: "pending", reason, message: `pod ${name}: container "${waiting.name}" is waiting (${reason}${said})` };
    case "ImagePullBackOff": {
      const grace = context.imagePullGraceMs ?? defaultImagePullGraceMs;
      const since = context.imagePullBackOffSince ?? context.now;
      if (context.now - since >= grace) {
        return fail("USER", true, "ImagePullBackOff", `pod ${name}: image "${image}" could not be pulled for ${durationText(grace)} (ImagePullBackOff${said}); check the image name and tag, that it was pushed, and that the cluster may read the registry (imagePullSecrets)`);
      }
      return { state: "backoff", reason, message: `pod ${name}: image "${image}" cannot be pulled yet (ImagePullBackOff${said}); waiting up to ${durationText(grace)} before failing the attempt` };
    }
    case "CreateContainerError": {
      // flyteplugins' clock for this one: the Ready condition's last transition, as the kubelet wrote it.
      const ready = status.conditions?.find((c) => c.type === "Ready");
      const since = ready?.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : Number.NaN;
      if (Number.isFinite(since) && context.now - since < createContainerErrorGraceMs) {
        return { state: "backoff", reason, message: `pod ${name}: container "${waiting.name}" cannot be created yet (CreateContainerError${said}); waiting up to ${durationText(createContainerErrorGraceMs)} for the container runtime` };
      }
      return fail("USER", false, reason, `pod ${name}: container "${waiting.name}" could not be created (CreateContainerError${said}); check the task's image, command and args`);
    }
    case "CreateContainerConfigError":
      return fail("USER", false, reason, `pod ${name}: container "${waiting.name}" could not be configured (CreateContainerConfigError${said}); create the Secret or ConfigMap it refers to in namespace ${pod.metadata?.namespace ?? "<namespace>"}, or fix the reference`);
    case "InvalidImageName":
    case "ErrInvalidImageName":
      return fail("USER", false, "InvalidImageName", `pod ${name}: "${image}" is not a valid image reference (${reason}${said}); fix the task's image`);
    default:
      // flyteplugins: any other waiting reason would wait forever, so the attempt fails now and is retried.
      return fail("SYSTEM", true, reason, `pod ${name}: container "${waiting.name}" is stuck (${reason}${said}); retried as a system error`);
  }
}

function fail(kind: AttemptError["kind"], recoverable: boolean, code: string, message: string): Failed {
  return { state: "failed", error: { kind, recoverable, code, message } };
}

function failAction(kind: AttemptError["kind"], recoverable: boolean, code: string, message: string): { action: "fail"; error: AttemptError } {
  return { action: "fail", error: { kind, recoverable, code, message } };
}

function podName(pod: V1Pod): string {
  return pod.metadata?.name ?? "(unnamed)";
}

function allStatuses(pod: V1Pod): V1ContainerStatus[] {
  const status = pod.status ?? {};
  return [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? []), ...(status.ephemeralContainerStatuses ?? [])];
}

/** flyteplugins reads the last termination first: it outlives the restart of a container that restarts. */
function terminatedState(status: V1ContainerStatus): V1ContainerState | undefined {
  if (status.lastState?.terminated) return status.lastState;
  if (status.state?.terminated) return status.state;
  return undefined;
}

function isOomKilled(state: V1ContainerState | undefined): boolean {
  return state?.terminated?.reason?.includes("OOMKilled") ?? false;
}

/** flyteplugins' GetPrimaryContainerName: the annotated container, the one named like the pod, else the first. */
function primaryName(pod: V1Pod): string | undefined {
  const notes = pod.metadata?.annotations ?? {};
  const containers = pod.spec?.containers ?? [];
  return (
    notes["kubectl.kubernetes.io/default-container"] ||
    notes["primary_container_name"] ||
    containers.find((c) => c.name === pod.metadata?.name)?.name ||
    containers[0]?.name ||
    (pod.status?.containerStatuses?.length === 1 ? pod.status.containerStatuses[0].name : undefined)
  );
}

function primaryStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const name = primaryName(pod);
  return pod.status?.containerStatuses?.find((s) => s.name === name);
}

function imageOf(pod: V1Pod, status: V1ContainerStatus): string {
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === status.name);
  return spec?.image || status.image;
}

function memoryAdvice(pod: V1Pod, container: string): string {
  const limit = pod.spec?.containers.find((c) => c.name === container)?.resources?.limits?.["memory"];
  const at = limit ? `its memory limit is ${limit}` : "it has no memory limit, so the node ran out";
  return `${at}: raise the task's limits.mem (and requests.mem) and run it again`;
}

/**
 * A ResourceQuota message (`exceeded quota: q, requested: limits.memory=64Gi, used: …, limited: limits.memory=32Gi`)
 * where one resource the pod asks for is above the quota's whole limit: waiting cannot help. flyteplugins
 * (IsResourceRequestsEligible) also gives up when it is equal; equal can fit once the namespace's other pods finish.
 */
function overQuotaOutright(message: string): string | undefined {
  const requested = quotaList(message, "requested");
  const limited = quotaList(message, "limited");
  for (const [resource, asked] of requested) {
    const cap = limited.get(resource);
    const a = quantityValue(asked);
    const c = cap === undefined ? undefined : quantityValue(cap);
    if (a !== undefined && c !== undefined && a > c) return `${resource}=${asked} > ${cap}`;
  }
  return undefined;
}

function quotaList(message: string, label: string): Map<string, string> {
  const match = new RegExp(`\\b${label}: ((?:[^\\s,=]+=[^\\s,]+)(?:,[^\\s,=]+=[^\\s,]+)*)`).exec(message);
  const list = new Map<string, string>();
  for (const pair of match?.[1].split(",") ?? []) {
    const [name, value] = pair.split("=");
    list.set(name, value);
  }
  return list;
}

function timeText(time: Date | string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString();
}

function durationText(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
