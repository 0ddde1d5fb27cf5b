// Why an execution's driver has not started: its Job's pod, classified as a task pod is (pod-failure.ts), read when
// someone looks at the execution — the driver cannot report on itself when it is the one that cannot start. Pure
// apart from one list of the driver's pods; never writes.
import type { V1Pod } from "@kubernetes/client-node";
import type { AttemptError } from "../engine/runner.js";
import type { Cluster } from "./cluster.js";
import { classifyPodFailure } from "./pod-failure.js";
import { labels, labelValue } from "./task-pod.js";

export type DriverStatus =
  /** No pod yet, or one that runs or ran: nothing to say. */
  | { state: "unknown" }
  /** The driver pod waits (scheduling, pulling, an image pull in back-off within its grace). */
  | { state: "waiting"; message: string }
  /** It can never start (a missing Secret, an invalid image) or waited out the grace: the execution fails with this. */
  | { state: "failed"; error: AttemptError };

/** The driver pods of an execution: its Job's, by the labels the Job's template gives them. */
export async function readDriverPods(cluster: Cluster, namespace: string, execution: string): Promise<V1Pod[]> {
  const list = await cluster.core.listNamespacedPod({ namespace, labelSelector: `${labels.role}=driver,${labels.execution}=${labelValue(execution)}` });
  return list.items;
}

/**
 * The status of the newest driver pod. The image-pull grace runs from the pod's Ready condition's last transition, the
 * clock flyteplugins uses, so every reader (any CLI, at any time) reaches the same verdict without remembering anything.
 */
export function driverStatus(pods: readonly V1Pod[], context: { now: number; imagePullGraceMs: number }): DriverStatus {
  const newest = [...pods].sort((a, b) => creation(b) - creation(a))[0];
  if (!newest || newest.status?.phase !== "Pending" || newest.metadata?.deletionTimestamp) return { state: "unknown" };
  const ready = newest.status.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
  const since = ready ? new Date(ready).getTime() : creation(newest);
  const verdict = classifyPodFailure(newest, { now: context.now, imagePullBackOffSince: Number.isFinite(since) ? since : context.now, imagePullGraceMs: context.imagePullGraceMs });
  if (verdict.state === "failed") return { state: "failed", error: verdict.error };
  if (verdict.state !== "pending" && verdict.state !== "backoff") return { state: "unknown" };
  const container = newest.status.containerStatuses?.find((s) => s.state?.waiting);
  const waiting = container?.state?.waiting;
  if (!container || !waiting?.reason) return { state: "waiting", message: `driver ${verdict.message}` };
  const grace = verdict.state === "backoff" ? `; the execution fails after ${Math.round(context.imagePullGraceMs / 1000)} s of it` : "";
  return {
    state: "waiting",
    message: `driver pod ${newest.metadata?.name} waiting: ${waiting.reason} (image ${container.image})${waiting.message ? `: ${waiting.message}` : ""}${grace}`,
  };
}

function creation(pod: V1Pod): number {
  const t = pod.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}
