// The pod task runner: each attempt is a pod (Flyte's pod mapping, task-pod.ts) created under a fixed name, followed
// through one shared watch, classified like Flyte's pod plugin (pod-failure.ts), its outputs read from the blob store.
// Never runs task code here, and never treats an existing pod of the same attempt as an error: it takes it up.
import { fromBinary } from "@bufbuild/protobuf";
import type { V1Pod } from "@kubernetes/client-node";
import { DynamicJobSpecSchema } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";
import { LiteralMapSchema } from "../idl/gen/flyteidl/core/literals_pb.js";
import { decodeErrorDocument } from "../engine/error-document.js";
import type { AttemptError, AttemptOutcome, TaskAttempt, TaskRunner } from "../engine/runner.js";
import { apiFailure, isApiStatus, type Cluster } from "./cluster.js";
import { classifyCreateError, classifyPodFailure, podDeletedVerdict } from "./pod-failure.js";
import { PodWatcher } from "./pod-watcher.js";
import { buildTaskPod, labels, type TaskPodSettings } from "./task-pod.js";

export interface PodRunnerOptions extends Omit<TaskPodSettings, "owner"> {
  /** The driver Job that owns the pods; looked up while the execution is prepared, so it may still be on its way. */
  owner?: TaskPodSettings["owner"] | Promise<TaskPodSettings["owner"]>;
  /** The execution whose pods this runner makes: one watch covers them all. */
  execution: string;
  imagePullBackOffGraceMs: number;
  log?: (line: string) => void;
}

/** The most of a pod's log kept with its attempt. */
const logLimitBytes = 1024 * 1024;

export class PodRunner implements TaskRunner {
  readonly name = "pod";
  readonly isolated = true;
  readonly attemptsOutliveEngine = true;
  private readonly watcher: PodWatcher;
  private readonly logCopies = new Set<Promise<void>>();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: PodRunnerOptions,
  ) {
    this.watcher = new PodWatcher(cluster, options.namespace, `${labels.execution}=${options.execution},${labels.role}=task`, options.log);
    // Listed now, while the execution is being prepared; a failure surfaces from the first run().
    this.watcher.start().catch(() => undefined);
  }

  async run(attempt: TaskAttempt): Promise<AttemptOutcome> {
    let pod: V1Pod;
    const owner = await this.options.owner;
    try {
      pod = buildTaskPod(attempt, { ...this.options, owner });
    } catch (e) {
      return failed({ kind: "USER", recoverable: false, code: "BadTaskSpecification", message: (e as Error).message });
    }
    // The pod reads the inputs.pb the engine queued. It is written while the pod is created, not before: a pod takes
    // far longer to start than one small write, and tsflyte-execute waits a moment for inputs not there yet.
    const inputsWritten = attempt.blobs.flush().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await this.watcher.start();
    const name = pod.metadata!.name!;
    const created = await this.create(pod, attempt.signal);
    const notWritten = await inputsWritten;
    if (notWritten) {
      if (created === "created") await this.deletePod(name);
      return failed({ kind: "SYSTEM", recoverable: true, code: "InputsNotWritten", message: `could not write the attempt's inputs: ${notWritten.message}` });
    }
    if (created !== "created") return created;
    this.options.log?.(`pod ${name} created`);
    const outcome = await this.follow(name, attempt);
    this.options.log?.(`pod ${name} ${outcome.ok ? "succeeded" : `failed: ${outcome.error.kind} ${outcome.error.code}`}`);
    return outcome;
  }

  /** Stops watching once every log copy is stored. */
  async close(): Promise<void> {
    while (this.logCopies.size) await Promise.all([...this.logCopies]);
    this.watcher.close();
  }

  /** Creates the attempt's pod; an existing one (AlreadyExists) is this attempt's, from a driver that ran before. */
  private async create(pod: V1Pod, signal: AbortSignal): Promise<"created" | AttemptOutcome> {
    const name = pod.metadata!.name!;
    for (let waited = 0; ; waited++) {
      if (signal.aborted) return aborted(name);
      if (this.watcher.get(name) && this.watcher.get(name) !== "deleted") return "created";
      try {
        await this.cluster.core.createNamespacedPod({ namespace: this.options.namespace, body: pod });
        return "created";
      } catch (e) {
        const f = apiFailure(e);
        if (f.code === undefined) {
          if (waited >= 5) return failed({ kind: "SYSTEM", recoverable: true, code: "KubernetesUnreachable", message: `could not create pod ${name}: ${f.network ?? f.message}` });
        } else {
          const verdict = classifyCreateError(f.code, { reason: f.reason, message: f.message }, name);
          if (verdict.action === "adopt") return "created";
          if (verdict.action === "fail") return failed(verdict.error);
          if (waited === 0) this.options.log?.(`pod ${name} waits: ${verdict.reason}: ${verdict.message}`);
        }
        await sleep(Math.min(15_000, 500 * 2 ** Math.min(waited, 5)), signal);
      }
    }
  }

  /** Follows the pod until it ends, is deleted from outside, or the attempt is stopped. */
  private follow(name: string, attempt: TaskAttempt): Promise<AttemptOutcome> {
    return new Promise<AttemptOutcome>((resolve) => {
      let backoffSince: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (outcome: Promise<AttemptOutcome> | AttemptOutcome) => {
        if (done) return;
        done = true;
        unsubscribe();
        clearTimeout(timer);
        attempt.signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      const check = () => {
        if (done) return;
        const pod = this.watcher.get(name);
        if (pod === undefined) return;
        if (pod === "deleted") return finish(failed(podDeletedVerdict(name).error));
        const verdict = classifyPodFailure(pod, { now: Date.now(), imagePullBackOffSince: backoffSince, imagePullGraceMs: this.options.imagePullBackOffGraceMs });
        if (verdict.state === "backoff") {
          if (backoffSince === undefined) {
            backoffSince = Date.now();
            timer = setTimeout(check, this.options.imagePullBackOffGraceMs + 10);
          }
          return;
        }
        if (verdict.state === "succeeded") return finish(this.outcome(pod, attempt));
        if (verdict.state === "failed") {
          const phase = pod.status?.phase;
          // A pod that never started has no log; one that ran gets its log stored after the attempt is reported.
          if (phase === "Pending") {
            // It can never start (bad image, missing secret) or waited out its grace: removed, not left Pending.
            void this.deletePod(name);
            return finish({ ok: false, error: verdict.error, logs: "" });
          }
          if (phase === "Running") void this.deletePod(name);
          return finish({ ok: false, error: verdict.error, logs: "", logsUri: this.storeLogs(pod, attempt) });
        }
      };
      const onAbort = () => {
        void this.deletePod(name);
        finish(aborted(name));
      };
      const unsubscribe = this.watcher.onChange(name, check);
      attempt.signal.addEventListener("abort", onAbort, { once: true });
      if (attempt.signal.aborted) onAbort();
      else check();
    });
  }

  /**
   * A pod that succeeded wrote exactly one of outputs.pb, futures.pb and error.pb (the task container contract). Its log is
   * copied once the outputs are in: the next attempt waits for those, not for the log.
   */
  private async outcome(pod: V1Pod, attempt: TaskAttempt): Promise<AttemptOutcome> {
    const prefix = attempt.outputPrefix;
    const outputs = await read(attempt, `${prefix}/outputs.pb`);
    // A dynamic workflow's pod writes the workflow it built (futures.pb) instead of outputs.
    const futures = outputs ? undefined : await read(attempt, `${prefix}/futures.pb`);
    const error = outputs || futures ? undefined : await read(attempt, `${prefix}/error.pb`);
    const logsUri = this.storeLogs(pod, attempt);
    try {
      if (outputs) return { ok: true, outputs: fromBinary(LiteralMapSchema, outputs), logs: "", stored: true, logsUri };
      if (futures) return { ok: true, outputs: fromBinary(LiteralMapSchema, new Uint8Array()), dynamic: { spec: fromBinary(DynamicJobSpecSchema, futures) }, logs: "", stored: true, logsUri };
      if (error) return { ok: false, error: decodeErrorDocument(error), logs: "", stored: true, logsUri };
    } catch (e) {
      return { ok: false, error: { kind: "SYSTEM", recoverable: true, code: "OutputsUnreadable", message: `pod ${pod.metadata?.name} wrote an unreadable result under ${prefix}: ${(e as Error).message}` }, logs: "", logsUri };
    }
    return {
      ok: false,
      error: { kind: "SYSTEM", recoverable: true, code: "NoOutputs", message: `pod ${pod.metadata?.name} succeeded but wrote none of outputs.pb, futures.pb and error.pb under ${prefix}` },
      logs: "",
      logsUri,
    };
  }

  /**
   * Copies the container's log to `logs.txt` under the attempt's output prefix, in the background: the next attempt
   * need not wait for the API server to fetch it from the node. `close()` waits for every copy.
   */
  private storeLogs(pod: V1Pod, attempt: TaskAttempt): string {
    const uri = `${attempt.outputPrefix}/logs.txt`;
    const copy = this.logs(pod)
      .then((text) => attempt.blobs.write(uri, new TextEncoder().encode(text)))
      .catch((e: unknown) => this.options.log?.(`could not store the log of pod ${pod.metadata?.name} at ${uri}: ${(e as Error).message}`))
      .finally(() => this.logCopies.delete(copy));
    this.logCopies.add(copy);
    return uri;
  }

  /** The container's log through the API server; empty when the node cannot serve it. */
  private async logs(pod: V1Pod): Promise<string> {
    try {
      const text = await this.cluster.core.readNamespacedPodLog({
        name: pod.metadata!.name!,
        namespace: this.options.namespace,
        container: pod.spec?.containers[0]?.name,
        limitBytes: logLimitBytes,
      });
      return typeof text === "string" ? text : "";
    } catch (e) {
      this.options.log?.(`could not read the log of pod ${pod.metadata?.name}: ${apiFailure(e).message}`);
      return "";
    }
  }

  private async deletePod(name: string): Promise<void> {
    try {
      await this.cluster.core.deleteNamespacedPod({ name, namespace: this.options.namespace });
    } catch (e) {
      if (!isApiStatus(e, 404)) this.options.log?.(`could not delete pod ${name}: ${apiFailure(e).message}`);
    }
  }
}

async function read(attempt: TaskAttempt, uri: string): Promise<Uint8Array | undefined> {
  try {
    return await attempt.blobs.read(uri);
  } catch {
    return undefined;
  }
}

function failed(error: AttemptError, logs = ""): AttemptOutcome {
  return { ok: false, error, logs };
}

function aborted(name: string): AttemptOutcome {
  return failed({ kind: "SYSTEM", recoverable: false, code: "Aborted", message: `the attempt was stopped and pod ${name} deleted` });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
