// The driver: runs inside the execution's Job, drives the engine over the cluster-kept record with one pod per task
// attempt, and resumes from that record when the Job replaces it. Never keeps state only in its own memory.
import { Termination } from "../engine/engine.js";
import { runRecordedExecution } from "../server/recorded-execution.js";
import { openBlobStore } from "../storage/open.js";
import { s3OptionsFromEnv } from "../storage/s3-store.js";
import { clusterError, connectCluster } from "./cluster.js";
import { ClusterStore } from "./cluster-store.js";
import { configuredS3, driverSettingsVariable, parseDriverSettings, storageEnvironment, storagePath } from "./driver-job.js";
import { PodRunner } from "./pod-runner.js";
import { namespaceFor } from "../config/config.js";

export interface DriveRequest {
  project: string;
  domain: string;
  name: string;
  namespace: string;
  log: (line: string) => void;
  /** The driver's settings as JSON (TSFLYTE_K8S_DRIVER). */
  settingsJson: string | undefined;
}

/** What ended the drive: the execution ended (whatever its phase), or the driver was stopped and left it for the next. */
export type DriveOutcome = { ended: true; phase?: string } | { ended: false; signal: string };

export async function driveExecution(request: DriveRequest): Promise<DriveOutcome> {
  const settings = parseDriverSettings(request.settingsJson);
  const { namespace, log } = request;
  const key = { project: request.project, domain: request.domain, name: request.name };
  // In a pod: the service account (or KUBECONFIG where a test kubelet hands it over).
  const cluster = await connectCluster();
  const store = new ClusterStore(cluster, { namespaceFor: (p, d) => namespaceFor({ namespaceTemplate: settings.namespaceTemplate, from: driverSettingsVariable }, p, d), cacheNamespace: namespace });
  const blobs = openBlobStore(settings.storage, { s3: { ...s3OptionsFromEnv(process.env), ...configuredS3(settings) } });
  // Read while the execution is prepared: only the first pod needs it (as its owner).
  const owner = cluster.batch.readNamespacedJob({ name: request.name, namespace }).then(
    (job) => ({ apiVersion: "batch/v1", kind: "Job", name: job.metadata!.name!, uid: job.metadata!.uid! }),
    (e: unknown) => {
      throw clusterError(cluster, `reading the driver's Job ${request.name} in namespace ${namespace}`, e);
    },
  );
  // Not awaited until the first pod; a failure before that must not go unhandled.
  owner.catch(() => undefined);
  const runner = new PodRunner(cluster, {
    execution: request.name,
    namespace,
    serviceAccount: settings.serviceAccount,
    ...(settings.iamRoleAnnotation ? { iamRoleAnnotation: settings.iamRoleAnnotation } : {}),
    owner,
    interruptible: settings.interruptible as PodRunnerInterruptible,
    storageEnv: storageEnvironment(settings),
    credentialsSecret: settings.s3?.credentialsSecret,
    storagePath: storagePath(settings),
    imagePullBackOffGraceMs: settings.imagePullBackOffGraceMs,
    log,
  });
  const stop = new AbortController();
  let stoppedBy: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    void (async () => {
      // Terminated from the CLI: the record says so, and the engine stops its attempts as aborted. Otherwise (an
      // eviction, a drain) the record stays as it is and the Job's next driver pod takes it up.
      const record = await store.getExecution(key).catch(() => undefined);
      if (record?.abort) stop.abort(new Termination(record.abort.cause, record.abort.principal));
      else process.exit(143);
    })();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    log(`driving execution ${request.project}/${request.domain}/${request.name} in namespace ${namespace} (${cluster.server})`);
    const phase = await runRecordedExecution(key, { store, blobs, runner, log }, stop.signal);
    await runner.close();
    await blobs.flush();
    if (stoppedBy && !stop.signal.aborted) return { ended: false, signal: stoppedBy };
    return { ended: true, phase };
  } finally {
    await runner.close();
    process.removeListener("SIGTERM", onSignal);
    process.removeListener("SIGINT", onSignal);
  }
}

type PodRunnerInterruptible = ConstructorParameters<typeof PodRunner>[1]["interruptible"];
