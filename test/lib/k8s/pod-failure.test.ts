// Pod statuses as the kubelet and scheduler write them, classified like flyteplugins' pod plugin: who is at fault,
// whether a retry can help, and Flyte's code; the ImagePullBackOff grace boundary; create errors from the API server.
// Never talks to a cluster: the pods are the objects a watch would deliver.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from "@kubernetes/client-node";
import { classifyCreateError, classifyPodFailure, defaultImagePullGraceMs, podDeletedVerdict, type PodVerdict } from "../../../src/lib/k8s/pod-failure.js";

const podName = "a8x2k4m9q7w3e5r1t6y0-n2-1";
const image = "ghcr.io/acme/spend:v7";
const now = Date.parse("2025-03-14T10:20:00Z");
const started = new Date("2025-03-14T10:15:02Z");
const finished = new Date("2025-03-14T10:19:41Z");

function pod(status: V1PodStatus, extra: { memoryLimit?: string; deletionTimestamp?: Date } = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName,
      namespace: "flytesnacks-development",
      annotations: { "kubectl.kubernetes.io/default-container": "task" },
      ...(extra.deletionTimestamp ? { deletionTimestamp: extra.deletionTimestamp } : {}),
    },
    spec: {
      restartPolicy: "Never",
      containers: [{ name: "task", image, resources: extra.memoryLimit ? { limits: { memory: extra.memoryLimit }, requests: { memory: extra.memoryLimit } } : {} }],
    },
    status,
  };
}

function container(state: V1ContainerState, more: Partial<V1ContainerStatus> = {}): V1ContainerStatus {
  const terminatedOrRunning = state.terminated ?? state.running;
  return {
    name: "task",
    image,
    imageID: terminatedOrRunning ? `${image.split(":")[0]}@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08` : "",
    ...(terminatedOrRunning ? { containerID: "containerd://4be1f9c2d87a5e3f0b6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a" } : {}),
    ready: !!state.running,
    restartCount: 0,
    started: !!state.running,
    state,
    lastState: {},
    ...more,
  };
}

function terminated(exitCode: number, reason: string, message?: string): V1ContainerState {
  return { terminated: { exitCode, reason, ...(message ? { message } : {}), startedAt: started, finishedAt: finished, containerID: "containerd://4be1f9c2d87a" } };
}

function waiting(reason: string, message?: string): V1ContainerState {
  return { waiting: { reason, ...(message ? { message } : {}) } };
}

const scheduledAt = new Date("2025-03-14T10:14:58Z");

/** The conditions of a scheduled pod whose containers have not started (kubelet ≥ 1.29 order). */
function notReadyConditions(readySince: Date | string = scheduledAt): V1PodCondition[] {
  return [
    { type: "PodReadyToStartContainers", status: "True", lastTransitionTime: scheduledAt },
    { type: "Initialized", status: "True", lastTransitionTime: scheduledAt },
    { type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [task]", lastTransitionTime: readySince as Date },
    { type: "ContainersReady", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [task]", lastTransitionTime: readySince as Date },
    { type: "PodScheduled", status: "True", lastTransitionTime: scheduledAt },
  ];
}

/** The conditions of a pod whose containers ended. */
const endedConditions: V1PodCondition[] = [
  { type: "PodReadyToStartContainers", status: "False", lastTransitionTime: finished },
  { type: "Initialized", status: "True", lastTransitionTime: scheduledAt },
  { type: "Ready", status: "False", reason: "PodFailed", lastTransitionTime: finished },
  { type: "ContainersReady", status: "False", reason: "PodFailed", lastTransitionTime: finished },
  { type: "PodScheduled", status: "True", lastTransitionTime: scheduledAt },
];

const node = { hostIP: "10.128.0.17", podIP: "10.4.2.31", qosClass: "Burstable", startTime: scheduledAt };

function pending(state: V1ContainerState, readySince?: Date | string): V1PodStatus {
  return { phase: "Pending", conditions: notReadyConditions(readySince), hostIP: node.hostIP, qosClass: "Burstable", startTime: scheduledAt, containerStatuses: [container(state)] };
}

type Expect =
  | { state: "pending" | "backoff"; reason: string }
  | { state: "running" | "succeeded" }
  | { state: "failed"; kind: "USER" | "SYSTEM"; recoverable: boolean; code: string; says?: RegExp[] };

interface Row {
  name: string;
  pod: V1Pod;
  context?: { imagePullBackOffSince?: number; imagePullGraceMs?: number };
  expect: Expect;
}

const rows: Row[] = [
  // Succeeded
  {
    name: "Succeeded, the task's container exited 0",
    pod: pod({ phase: "Succeeded", ...node, conditions: endedConditions, containerStatuses: [container(terminated(0, "Completed"))] }),
    expect: { state: "succeeded" },
  },
  {
    name: "Succeeded, but a container was OOMKilled: the user's, retryable",
    pod: pod({ phase: "Succeeded", ...node, conditions: endedConditions, containerStatuses: [container(terminated(0, "OOMKilled"))] }, { memoryLimit: "1Gi" }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "OOMKilled", says: [/reported success/, /its memory limit is 1Gi/, /limits\.mem/] },
  },
  // Failed: the node went away
  {
    name: "Failed, node graceful shutdown (reason Terminated): the system's, retryable",
    pod: pod({
      phase: "Failed",
      reason: "Terminated",
      message: "Pod was terminated in response to imminent node shutdown.",
      ...node,
      conditions: [{ type: "DisruptionTarget", status: "True", reason: "TerminationByKubelet", message: "Pod was terminated in response to imminent node shutdown.", lastTransitionTime: finished }, ...endedConditions],
      containerStatuses: [container(terminated(143, "Error"))],
    }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted", says: [/its node shut down/, /imminent node shutdown/] },
  },
  {
    name: "Failed, GKE preemption (reason Shutdown, no conditions)",
    pod: pod({ phase: "Failed", reason: "Shutdown", message: "Pod Node is in progress of shutting down, not admitting any new pods", startTime: scheduledAt }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted", says: [/Shutdown: Pod Node is in progress of shutting down/] },
  },
  {
    name: "Failed, rejected while the node shuts down (reason NodeShutdown)",
    pod: pod({ phase: "Failed", reason: "NodeShutdown", message: "Pod was rejected as the node is shutting down.", startTime: scheduledAt }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted" },
  },
  {
    name: "Failed, node shut down even though the container was OOMKilled: the node's reason wins",
    pod: pod({ phase: "Failed", reason: "Terminated", message: "Pod was terminated in response to imminent node shutdown.", ...node, containerStatuses: [container(terminated(137, "OOMKilled"))] }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted" },
  },
  {
    name: "Failed, kubelet admission rejected it after the node's labels changed (NodeAffinity)",
    pod: pod({ phase: "Failed", reason: "NodeAffinity", message: "Pod was rejected: Predicate NodeAffinity failed", startTime: scheduledAt }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted" },
  },
  {
    name: "Failed, evicted under node memory pressure: the system's, retryable",
    pod: pod({
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 61440Ki. Container task was using 1843200Ki, request is 1Gi, has larger consumption of memory. ",
      ...node,
      conditions: [{ type: "DisruptionTarget", status: "True", reason: "TerminationByKubelet", message: "The node was low on resource: memory.", lastTransitionTime: finished }, ...endedConditions],
      containerStatuses: [container(terminated(137, "ContainerStatusUnknown", "The container could not be located when the pod was terminated"))],
    }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Evicted", says: [/evicted/, /low on resource: memory/] },
  },
  // Failed: the container
  {
    name: "Failed, the container was OOMKilled: the user's, retryable",
    pod: pod({ phase: "Failed", ...node, conditions: endedConditions, containerStatuses: [container(terminated(137, "OOMKilled"))] }, { memoryLimit: "512Mi" }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "OOMKilled", says: [/ran out of memory/, /exit code 137/, /its memory limit is 512Mi/] },
  },
  {
    name: "Failed, OOMKilled without a memory limit",
    pod: pod({ phase: "Failed", ...node, conditions: endedConditions, containerStatuses: [container(terminated(137, "OOMKilled"))] }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "OOMKilled", says: [/no memory limit/] },
  },
  {
    name: "Failed, the task's container was SIGKILLed (exit 137): the system's, Interrupted",
    pod: pod({ phase: "Failed", ...node, conditions: endedConditions, containerStatuses: [container(terminated(137, "Error"))] }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted", says: [/SIGKILL \(exit code 137\)/] },
  },
  {
    name: "Failed, exit 247 (SIGKILL as some runtimes report it): the system's, Interrupted",
    pod: pod({ phase: "Failed", ...node, conditions: endedConditions, containerStatuses: [container(terminated(247, "Error"))] }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted", says: [/exit code 247/] },
  },
  {
    name: "Failed, the entrypoint exited 1: the user's, retryable, with its exit code and last output",
    pod: pod({
      phase: "Failed",
      ...node,
      conditions: endedConditions,
      containerStatuses: [container(terminated(1, "Error", "tsflyte-execute: Error: Cannot find module '/app/examples/spend.js'\n"))],
    }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "Error", says: [/exited with code 1 \(Error\)/, /Cannot find module/, /kubectl logs -n flytesnacks-development a8x2k4m9q7w3e5r1t6y0-n2-1/] },
  },
  {
    name: "Failed, the OOM shows in lastState (a container that restarted): still OOMKilled",
    pod: pod({ phase: "Failed", ...node, conditions: endedConditions, containerStatuses: [container(terminated(1, "Error"), { lastState: terminated(137, "OOMKilled"), restartCount: 1 })] }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "OOMKilled" },
  },
  {
    name: "Failed, kubelet admission found no room (OutOfcpu), no container ran: the user's, retryable, as flyteplugins",
    pod: pod({ phase: "Failed", reason: "OutOfcpu", message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 4000, used: 3500, capacity: 4000", startTime: scheduledAt }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "OutOfcpu", says: [/Node didn't have enough resource/] },
  },
  {
    name: "Failed with no reason and no container status: the kubelet was gone, the system's",
    pod: pod({ phase: "Failed" }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "Interrupted", says: [/recorded no reason/] },
  },
  // Running
  {
    name: "Running",
    pod: pod({
      phase: "Running",
      ...node,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: started }],
      containerStatuses: [container({ running: { startedAt: started } })],
    }),
    expect: { state: "running" },
  },
  {
    name: "Running, but the task's container already exited 2: classified at once",
    pod: pod({ phase: "Running", ...node, containerStatuses: [container(terminated(2, "Error"))] }),
    expect: { state: "failed", kind: "USER", recoverable: true, code: "Error", says: [/exited with code 2/] },
  },
  {
    name: "Running, but the task's container already exited 0: succeeded",
    pod: pod({ phase: "Running", ...node, containerStatuses: [container(terminated(0, "Completed"))] }),
    expect: { state: "succeeded" },
  },
  // Pending
  {
    name: "Pending, just created: nothing written yet",
    pod: pod({ phase: "Pending", qosClass: "Burstable" }),
    expect: { state: "pending", reason: "Scheduling" },
  },
  {
    name: "Pending, unschedulable for lack of memory: waits",
    pod: pod({
      phase: "Pending",
      qosClass: "Burstable",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
          lastTransitionTime: scheduledAt,
        },
      ],
    }),
    expect: { state: "pending", reason: "Unschedulable" },
  },
  { name: "Pending, ContainerCreating", pod: pod(pending(waiting("ContainerCreating"))), expect: { state: "pending", reason: "ContainerCreating" } },
  { name: "Pending, PodInitializing", pod: pod(pending(waiting("PodInitializing"))), expect: { state: "pending", reason: "PodInitializing" } },
  {
    name: "Pending, ErrImagePull: waits for the back-off",
    pod: pod(pending(waiting("ErrImagePull", `failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`))),
    expect: { state: "pending", reason: "ErrImagePull" },
  },
  {
    name: "Pending, ImagePullBackOff seen for the first time: backoff",
    pod: pod(pending(waiting("ImagePullBackOff", `Back-off pulling image "${image}"`))),
    expect: { state: "backoff", reason: "ImagePullBackOff" },
  },
  {
    name: "Pending, ImagePullBackOff one millisecond inside the grace period: backoff",
    pod: pod(pending(waiting("ImagePullBackOff", `Back-off pulling image "${image}"`))),
    context: { imagePullBackOffSince: now - defaultImagePullGraceMs + 1 },
    expect: { state: "backoff", reason: "ImagePullBackOff" },
  },
  {
    name: "Pending, ImagePullBackOff exactly at the end of the grace period: the user's, retryable",
    pod: pod(pending(waiting("ImagePullBackOff", `Back-off pulling image "${image}"`))),
    context: { imagePullBackOffSince: now - defaultImagePullGraceMs },
    expect: { state: "failed", kind: "USER", recoverable: true, code: "ImagePullBackOff", says: [/could not be pulled for 3m/, /ghcr\.io\/acme\/spend:v7/, /imagePullSecrets/] },
  },
  {
    name: "Pending, ImagePullBackOff with a grace period of its own",
    pod: pod(pending(waiting("ImagePullBackOff", `Back-off pulling image "${image}"`))),
    context: { imagePullBackOffSince: now - 30_000, imagePullGraceMs: 30_000 },
    expect: { state: "failed", kind: "USER", recoverable: true, code: "ImagePullBackOff", says: [/for 30s/] },
  },
  {
    name: "Pending, CreateContainerConfigError (a missing Secret): the user's, permanent",
    pod: pod(pending(waiting("CreateContainerConfigError", 'secret "tsflyte-s3-credentials" not found'))),
    expect: { state: "failed", kind: "USER", recoverable: false, code: "CreateContainerConfigError", says: [/secret "tsflyte-s3-credentials" not found/, /namespace flytesnacks-development/] },
  },
  {
    name: "Pending, InvalidImageName: the user's, permanent",
    pod: pod(pending(waiting("InvalidImageName", 'Failed to apply default image tag "ghcr.io/Acme/spend:v7": couldn\'t parse image name "ghcr.io/Acme/spend:v7": invalid reference format: repository name must be lowercase'))),
    expect: { state: "failed", kind: "USER", recoverable: false, code: "InvalidImageName", says: [/not a valid image reference/, /repository name must be lowercase/] },
  },
  {
    name: "Pending, ErrInvalidImageName: the same",
    pod: pod(pending(waiting("ErrInvalidImageName", "invalid reference format"))),
    expect: { state: "failed", kind: "USER", recoverable: false, code: "InvalidImageName" },
  },
  {
    name: "Pending, CreateContainerError within 3 minutes of the Ready transition: backoff",
    pod: pod(pending(waiting("CreateContainerError", 'failed to reserve container name "task_a8x2k4m9q7w3e5r1t6y0-n2-1": name is reserved'), new Date(now - 60_000))),
    expect: { state: "backoff", reason: "CreateContainerError" },
  },
  {
    name: "Pending, CreateContainerError past its grace period (timestamps as a watch delivers them, strings): the user's, permanent",
    pod: pod(pending(waiting("CreateContainerError", "Error: container create failed: executable file not found in $PATH"), new Date(now - 3 * 60_000).toISOString())),
    expect: { state: "failed", kind: "USER", recoverable: false, code: "CreateContainerError", says: [/executable file not found/] },
  },
  {
    name: "Pending, a waiting reason that never clears by itself (RunContainerError): the system's, retryable",
    pod: pod(pending(waiting("RunContainerError", "failed to start containerd task: OCI runtime start failed"))),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "RunContainerError" },
  },
  {
    name: "Pending, a stuck init container is the cause, not the main container's PodInitializing",
    pod: pod({
      ...pending(waiting("PodInitializing")),
      initContainerStatuses: [{ ...container(waiting("CreateContainerConfigError", 'configmap "setup" not found')), name: "setup" }],
    }),
    expect: { state: "failed", kind: "USER", recoverable: false, code: "CreateContainerConfigError", says: [/container "setup"/] },
  },
  // Deleted from outside
  {
    name: "Running with a deletion timestamp (drained or deleted by hand): the system's, retryable",
    pod: pod({ phase: "Running", ...node, containerStatuses: [container({ running: { startedAt: started } })] }, { deletionTimestamp: new Date(now - 5_000) }),
    expect: { state: "failed", kind: "SYSTEM", recoverable: true, code: "UnexpectedObjectDeletion", says: [/is being deleted/] },
  },
  {
    name: "Succeeded with a deletion timestamp: it finished, so it succeeded",
    pod: pod({ phase: "Succeeded", ...node, containerStatuses: [container(terminated(0, "Completed"))] }, { deletionTimestamp: new Date(now - 5_000) }),
    expect: { state: "succeeded" },
  },
];

function check(verdict: PodVerdict, expect: Expect, name = podName): void {
  if (expect.state === "failed") {
    assert.equal(verdict.state, "failed", JSON.stringify(verdict));
    const { error } = verdict as Extract<PodVerdict, { state: "failed" }>;
    assert.deepEqual({ kind: error.kind, recoverable: error.recoverable, code: error.code }, { kind: expect.kind, recoverable: expect.recoverable, code: expect.code }, error.message);
    assert.ok(error.message.includes(name), `the message names the pod: ${error.message}`);
    for (const pattern of expect.says ?? []) assert.match(error.message, pattern);
    return;
  }
  if (expect.state === "pending" || expect.state === "backoff") {
    assert.equal(verdict.state, expect.state, JSON.stringify(verdict));
    const v = verdict as Extract<PodVerdict, { state: "pending" | "backoff" }>;
    assert.equal(v.reason, expect.reason);
    assert.ok(v.message?.includes(name), `the message names the pod: ${v.message}`);
    return;
  }
  assert.deepEqual(verdict, { state: expect.state });
}

describe("classifyPodFailure", () => {
  for (const row of rows) {
    test(row.name, () => check(classifyPodFailure(row.pod, { now, ...row.context }), row.expect));
  }

  test("is pure: the same pod and time give the same verdict, and the pod is not changed", () => {
    const row = rows.find((r) => r.expect.state === "failed" && r.expect.code === "ImagePullBackOff")!;
    const before = JSON.stringify(row.pod);
    const context = { now, ...row.context };
    assert.deepEqual(classifyPodFailure(row.pod, context), classifyPodFailure(row.pod, context));
    assert.equal(JSON.stringify(row.pod), before);
  });
});

describe("podDeletedVerdict", () => {
  test("a pod that disappeared is the system's, retryable", () => {
    check(podDeletedVerdict(podName), { state: "failed", kind: "SYSTEM", recoverable: true, code: "ResourceDeletedExternally" });
  });
});

describe("classifyCreateError", () => {
  const quota = (requested: string, used: string, limited: string) =>
    `pods "${podName}" is forbidden: exceeded quota: compute-resources, requested: ${requested}, used: ${used}, limited: ${limited}`;
  const rows: Array<{
    name: string;
    status: number;
    body?: { reason?: string; message?: string };
    expect: { action: "adopt" } | { action: "wait"; reason: string } | { action: "fail"; kind: "USER" | "SYSTEM"; recoverable: boolean; code: string };
  }> = [
    { name: "409 AlreadyExists: the attempt's own pod, adopt it", status: 409, body: { reason: "AlreadyExists", message: `pods "${podName}" already exists` }, expect: { action: "adopt" } },
    {
      name: "400 BadRequest: permanent",
      status: 400,
      body: { reason: "BadRequest", message: 'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression' },
      expect: { action: "fail", kind: "USER", recoverable: false, code: "BadTaskFormat" },
    },
    {
      name: "422 Invalid: permanent",
      status: 422,
      body: { reason: "Invalid", message: `Pod "${podName}" is invalid: spec.containers[0].image: Required value` },
      expect: { action: "fail", kind: "USER", recoverable: false, code: "BadTaskFormat" },
    },
    { name: "413 RequestEntityTooLarge: permanent", status: 413, body: { reason: "RequestEntityTooLarge", message: "Request entity too large: limit is 3145728" }, expect: { action: "fail", kind: "USER", recoverable: false, code: "EntityTooLarge" } },
    {
      name: "403 exceeded quota that frees up: wait",
      status: 403,
      body: { reason: "Forbidden", message: quota("limits.cpu=2,limits.memory=2Gi", "limits.cpu=7,limits.memory=30Gi", "limits.cpu=8,limits.memory=32Gi") },
      expect: { action: "wait", reason: "ResourceQuotaExceeded" },
    },
    {
      name: "403 exceeded quota the task alone is over: permanent",
      status: 403,
      body: { reason: "Forbidden", message: quota("requests.memory=64Gi", "requests.memory=0", "requests.memory=32Gi") },
      expect: { action: "fail", kind: "USER", recoverable: false, code: "ResourceRequestsExceedLimits" },
    },
    {
      name: "403 exceeded quota exactly at the quota: wait (it fits once the namespace is empty)",
      status: 403,
      body: { reason: "Forbidden", message: quota("requests.nvidia.com/gpu=4", "requests.nvidia.com/gpu=1", "requests.nvidia.com/gpu=4") },
      expect: { action: "wait", reason: "ResourceQuotaExceeded" },
    },
    {
      name: "403 Forbidden by RBAC: retryable",
      status: 403,
      body: { reason: "Forbidden", message: 'pods is forbidden: User "system:serviceaccount:tsflyte:driver" cannot create resource "pods" in API group "" in the namespace "flytesnacks-development"' },
      expect: { action: "fail", kind: "USER", recoverable: true, code: "RuntimeFailure" },
    },
    {
      name: "403 etcd failing behind the API server: wait",
      status: 403,
      body: { reason: "Forbidden", message: "etcdserver: request timed out" },
      expect: { action: "wait", reason: "EtcdError" },
    },
    { name: "429 TooManyRequests: wait", status: 429, body: { reason: "TooManyRequests", message: "the server has received too many requests and has asked us to try again later" }, expect: { action: "wait", reason: "TooManyRequests" } },
    { name: "500 InternalError: wait", status: 500, body: { reason: "InternalError", message: 'Internal error occurred: failed calling webhook "pod-policy.example.com"' }, expect: { action: "wait", reason: "InternalError" } },
    { name: "503 without a body: wait", status: 503, expect: { action: "wait", reason: "ServerError" } },
    { name: "504 Timeout: wait (a retried create that did land answers 409)", status: 504, body: { reason: "Timeout", message: "Timeout: request did not complete within requested timeout" }, expect: { action: "wait", reason: "Timeout" } },
    {
      name: "404 namespace gone: the system's, retryable",
      status: 404,
      body: { reason: "NotFound", message: 'namespaces "flytesnacks-development" not found' },
      expect: { action: "fail", kind: "SYSTEM", recoverable: true, code: "NotFound" },
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = classifyCreateError(row.status, row.body, podName);
      if (row.expect.action === "fail") {
        assert.equal(result.action, "fail", JSON.stringify(result));
        const { error } = result as Extract<typeof result, { action: "fail" }>;
        assert.deepEqual({ kind: error.kind, recoverable: error.recoverable, code: error.code }, { kind: row.expect.kind, recoverable: row.expect.recoverable, code: row.expect.code });
        assert.ok(error.message.includes(podName), error.message);
        if (row.body?.message) assert.ok(error.message.includes(row.body.message), error.message);
      } else if (row.expect.action === "wait") {
        assert.equal(result.action, "wait", JSON.stringify(result));
        const wait = result as Extract<typeof result, { action: "wait" }>;
        assert.equal(wait.reason, row.expect.reason);
        assert.ok(wait.message.includes(podName), wait.message);
      } else {
        assert.deepEqual(result, { action: "adopt" });
      }
    });
  }

  test("the over-quota message says which resource is over", () => {
    const result = classifyCreateError(403, { reason: "Forbidden", message: quota("limits.cpu=500m,limits.memory=64Gi", "limits.cpu=0,limits.memory=0", "limits.cpu=8,limits.memory=32Gi") }, podName);
    assert.equal(result.action, "fail");
    assert.match((result as Extract<typeof result, { action: "fail" }>).error.message, /limits\.memory=64Gi > 32Gi/);
  });

  test("without a pod name the message still says what failed", () => {
    const result = classifyCreateError(422, { reason: "Invalid", message: "spec.containers[0].image: Required value" });
    assert.equal(result.action, "fail");
    assert.match((result as Extract<typeof result, { action: "fail" }>).error.message, /^could not create the attempt's pod: /);
  });
});
