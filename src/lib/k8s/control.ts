// Hands executions to the cluster: `start` creates the execution's driver Job, `terminate` records the cause and
// deletes the Job with its pods. Never runs an execution in this process, and never deletes a Job without a
// propagation policy (the API server would orphan its pods).
import type { ExecutionControl } from "../server/control.js";
import { loadClosure } from "../server/closure.js";
import { finishRecorded, launchedRoot } from "../server/recorded-execution.js";
import { UserError } from "../errors.js";
import type { ExecutionKey, ExecutionRecord, StoreWrite } from "../store/records.js";
import { terminalExecutionPhases } from "../store/records.js";
import { clusterError, isApiStatus, type Cluster } from "./cluster.js";
import type { ClusterStore } from "./cluster-store.js";
import { executionObjectName } from "./cluster-store.js";
import { buildDriverJob, type DriverSettings } from "./driver-job.js";
import { invalidArgument } from "../server/api/api-error.js";
import { defaultIamRoleAnnotation } from "./task-pod.js";
import { driverStatus, readDriverPods } from "./driver-status.js";

export class KubernetesControl implements ExecutionControl {
  constructor(
    private readonly cluster: Cluster,
    private readonly store: ClusterStore,
    private readonly settings: DriverSettings,
  ) {}

  /**
   * What task pods cannot be made with: an IAM role and an annotation of the execution's own under the same key, or a
   * service account that is not a valid name or that the namespace lacks (its pods would never be admitted). A user
   * who may not read service accounts is not stopped: the API server then decides when the first pod is created.
   */
  async check(record: ExecutionRecord): Promise<void> {
    const settings = record.settings;
    const roleKey = this.settings.iamRoleAnnotation ?? defaultIamRoleAnnotation;
    const annotated = settings?.annotations?.[roleKey];
    if (settings?.iamRole && annotated !== undefined && annotated !== settings.iamRole) {
      throw invalidArgument(
        `the execution's annotations set ${roleKey} to ${JSON.stringify(annotated)}, and its IAM role ${JSON.stringify(settings.iamRole)} goes to that same annotation ` +
          "on this target (kubernetes.iamRoleAnnotation); give the role once",
      );
    }
    const account = settings?.serviceAccount;
    if (!account) return;
    if (account.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(account)) {
      throw invalidArgument(`service account ${JSON.stringify(account)} (kubeServiceAcct) is not the name of a Kubernetes service account: lowercase letters, digits, "-" and ".", at most 253`);
    }
    const namespace = this.store.namespaceOf(record);
    try {
      await this.cluster.core.readNamespacedServiceAccount({ name: account, namespace });
    } catch (e) {
      if (isApiStatus(e, 404)) {
        throw invalidArgument(
          `service account ${account} (kubeServiceAcct) does not exist in namespace ${namespace}, so no task pod of the execution could start; ` +
            `create it (kubectl create serviceaccount ${account} -n ${namespace}) or give one that exists`,
        );
      }
      if (!isApiStatus(e, 403)) throw clusterError(this.cluster, `reading service account ${account} in namespace ${namespace}`, e);
    }
  }

  async start(key: ExecutionKey): Promise<void> {
    const record = await this.store.getExecution(key);
    if (!record || terminalExecutionPhases.has(record.phase)) return;
    const namespace = this.store.namespaceOf(key);
    try {
      const image = await this.driverImage(record);
      const owner = await this.cluster.core.readNamespacedConfigMap({ name: executionObjectName(key.name), namespace });
      const job = buildDriverJob({ execution: record, namespace, image, settings: this.settings, owner: { name: owner.metadata!.name!, uid: owner.metadata!.uid! } });
      try {
        await this.cluster.batch.createNamespacedJob({ namespace, body: job });
      } catch (e) {
        // Already created (a retried request): the driver is there.
        if (!isApiStatus(e, 409)) throw e;
      }
    } catch (e) {
      const error = clusterError(this.cluster, `creating the driver Job of execution ${key.name} in namespace ${namespace}`, e);
      // Nothing will ever run it: it ends now, with the reason, rather than stay QUEUED.
      await finishRecorded(this.store, record, "FAILED", { kind: "SYSTEM", code: "DriverNotStarted", message: error.message });
      throw error;
    }
  }

  async terminate(key: ExecutionKey, cause: string, principal: string): Promise<boolean> {
    const record = await this.store.getExecution(key);
    if (!record || terminalExecutionPhases.has(record.phase)) return false;
    const t = Date.now();
    // Recorded first: the driver, stopped next, then cannot bring the execution back, and `get` shows the cause at once.
    const writes: StoreWrite[] = [
      {
        table: "execution",
        row: { ...record, phase: "ABORTED", error: { kind: "USER", code: "Aborted", message: cause }, abort: { cause, principal }, startedAt: record.startedAt ?? t, endedAt: t, updatedAt: t },
      },
    ];
    for (const node of await this.store.listNodeExecutions(key)) {
      if (node.phase === "QUEUED" || node.phase === "RUNNING" || node.phase === "DYNAMIC_RUNNING" || node.phase === "UNDEFINED") {
        writes.push({ table: "node", row: { ...node, phase: "ABORTED", endedAt: t, updatedAt: t } });
      }
    }
    for (const attempt of await this.store.listTaskExecutions(key)) {
      if (attempt.phase === "RUNNING" || attempt.phase === "QUEUED" || attempt.phase === "INITIALIZING" || attempt.phase === "WAITING_FOR_RESOURCES" || attempt.phase === "UNDEFINED") {
        writes.push({ table: "task", row: { ...attempt, phase: "ABORTED", endedAt: t, updatedAt: t } });
      }
    }
    await this.store.write(writes);
    await this.deleteDriver(record);
    return true;
  }

  /**
   * Why a QUEUED execution has not started, read from its driver pod: undefined when there is nothing to say. A driver
   * that can never start (a missing Secret, an invalid image, an image still not pulled after the grace) fails the
   * execution here with the pod's reason, and its Job is deleted: nothing else would ever end it.
   */
  async pendingReason(key: ExecutionKey): Promise<string | undefined> {
    const record = await this.store.getExecution(key);
    if (!record || record.phase !== "QUEUED") return undefined;
    const namespace = this.store.namespaceOf(key);
    let pods;
    try {
      pods = await readDriverPods(this.cluster, namespace, key.name);
    } catch (e) {
      // Someone who may read executions but not pods sees no reason, as before.
      if (isApiStatus(e, 403)) return undefined;
      throw clusterError(this.cluster, `reading the driver pod of execution ${key.name} in namespace ${namespace}`, e);
    }
    const status = driverStatus(pods, { now: Date.now(), imagePullGraceMs: this.settings.imagePullBackOffGraceMs });
    if (status.state === "waiting") return status.message;
    if (status.state !== "failed") return undefined;
    const t = Date.now();
    const error = { kind: status.error.kind, code: status.error.code, message: `the execution's driver could not start: ${status.error.message}` };
    // Only while it is still QUEUED: a driver that started meanwhile owns the record.
    const failed = await this.store.updateExecution(key, (current) =>
      current.phase === "QUEUED" ? { ...current, phase: "FAILED", error, startedAt: current.startedAt ?? t, endedAt: t, updatedAt: t } : undefined,
    );
    if (failed) await this.deleteDriver(record);
    return undefined;
  }

  /** Deletes the driver Job; Background propagation has the garbage collector delete its pods and task pods. */
  private async deleteDriver(record: ExecutionRecord): Promise<void> {
    const namespace = this.store.namespaceOf(record);
    try {
      await this.cluster.batch.deleteNamespacedJob({ name: record.name, namespace, propagationPolicy: "Background" });
    } catch (e) {
      if (!isApiStatus(e, 404)) throw clusterError(this.cluster, `deleting the driver Job of execution ${record.name} in namespace ${namespace}`, e);
    }
  }

  /**
   * The driver runs from the image the launched entity's tasks were registered with, so it has the same tsflyte: the
   * one most of its tasks use (a task may name an image of its own), the first by task name on a tie.
   */
  private async driverImage(record: ExecutionRecord): Promise<string> {
    const closure = await loadClosure(this.store, launchedRoot(record));
    const uses = new Map<string, number>();
    for (const key of [...closure.tasks.keys()].sort()) {
      const template = closure.tasks.get(key)!;
      if (template.target.case === "container" && template.target.value.image) uses.set(template.target.value.image, (uses.get(template.target.value.image) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [image, count] of uses) if (best === undefined || count > uses.get(best)!) best = image;
    if (!best) throw new UserError(`${record.launchName} version ${record.launchVersion} runs no container task, so there is no image to run its driver from`);
    return best;
  }
}
