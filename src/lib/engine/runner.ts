// The task runner contract: one attempt of one task, given its input literals, ends in output literals or a
// classified error. In-process now; subprocess, pod, Ray and Spark runners implement the same interface.
import type { LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { DynamicJobSpec } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";
import type { Entity, TaskDefinition } from "../sdk/entity.js";
import type { BlobStore } from "../storage/blob-store.js";
import type { ExecutionKey, ExecutionSettings } from "../store/records.js";

/**
 * What a runner needs to know about the task: the definition when it runs in this process, the registered
 * template (its container args in the task container contract) when it runs anywhere else.
 */
export interface RunnableTask {
  /** Full name, e.g. `examples.spend.totalSpend`. */
  name: string;
  definition?: TaskDefinition;
  template?: TaskTemplate;
}

export interface TaskAttempt {
  execution: ExecutionKey;
  /** The node's unique id in the execution. */
  nodeId: string;
  /** 0 for the first attempt. */
  attempt: number;
  task: RunnableTask;
  inputs: LiteralMap;
  /** Where the node's inputs.pb is. It may still be queued: a runner that starts another process awaits `blobs.flush()` first. */
  inputsUri: string;
  /** `--output-prefix`: outputs.pb or error.pb go here. */
  outputPrefix: string;
  /** `--raw-output-data-prefix`: files, directories and tables the task returns (under the execution's raw output prefix when it has one). */
  rawOutputPrefix: string;
  blobs: BlobStore;
  /** Aborted when the attempt times out or the execution is terminated; runners stop the task's work. */
  signal: AbortSignal;
  /** False on the last attempt, so it does not run on preemptible capacity. */
  interruptible: boolean;
  /** The registered task's id, for the `FLYTE_INTERNAL_TASK_*` environment; unset for local runs. */
  taskId?: { project: string; domain: string; name: string; version: string };
  /**
   * What the execution was launched with. Every runner gives the task `envs` in its environment; the pod runner also
   * puts the labels, annotations, service account and IAM role on the pod.
   */
  settings?: ExecutionSettings;
  /**
   * For a runner that `reportsStart`: call it once a worker (process, pod) has taken the attempt, and await it before
   * that worker may do anything observable. It resolves once the attempt is recorded RUNNING; until then the attempt
   * is QUEUED, and a restart runs it again under the same number without counting it against any budget.
   */
  started?: () => Promise<void>;
  /** Full names of entities, for a dynamic workflow run in this process to name what its body calls. */
  nameOf?: (entity: Entity) => string;
}

/**
 * What a dynamic workflow's attempt gives instead of outputs: the workflow its body built (futures.pb), whose nodes run
 * as the node's children and whose output bindings give the node's outputs.
 */
export interface DynamicOutcome {
  spec: DynamicJobSpec;
  /** In this process: the entities the spec's ids name, by `kind:name`; elsewhere the ids are registered entities. */
  entities?: ReadonlyMap<string, Entity>;
}

/** A failed attempt, classified like Flyte's ContainerError: who is at fault and whether trying again can help. */
export interface AttemptError {
  kind: "USER" | "SYSTEM";
  recoverable: boolean;
  code: string;
  message: string;
  /** The user's stack, with source-mapped `.ts` positions when the task ran in a process with source maps. */
  stack?: string;
  /** What the task threw, when it ran in this process; never recorded. */
  thrown?: unknown;
}

/**
 * `stored`: the attempt's own process already wrote its outputs.pb or error.pb under the output prefix. `logsUri`:
 * the runner stores the attempt's logs there itself (a pod's log is fetched after the attempt is reported).
 */
export type AttemptOutcome =
  | { ok: true; outputs: LiteralMap; logs: string; stored?: boolean; logsUri?: string; dynamic?: DynamicOutcome }
  | { ok: false; error: AttemptError; logs: string; stored?: boolean; logsUri?: string };

export interface TaskRunner {
  /** Recorded with every attempt: `in-process`, `subprocess`, `pod`, `ray`, `spark`. */
  readonly name: string;
  /** Attempts run outside this process: the engine records each as RUNNING before the runner starts it. */
  readonly isolated?: boolean;
  /**
   * Attempts keep running when this process stops (Kubernetes pods): a resumed execution takes an unfinished attempt
   * up again under the same number instead of counting it as lost, and `run` must then find the running attempt.
   */
  readonly attemptsOutliveEngine?: boolean;
  /**
   * Calls `attempt.started()` when a worker takes the attempt (attempts may wait for a worker after the engine gave
   * them a slot). Without it, an attempt counts as started as soon as the engine hands it to `run`.
   */
  readonly reportsStart?: boolean;
  /** Runs one attempt. Never throws for a task failure: it resolves with the classified error instead. */
  run(attempt: TaskAttempt): Promise<AttemptOutcome>;
}
