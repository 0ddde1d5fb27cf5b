// What the engine executes: tasks, workflows and launch plans reduced to the few facts scheduling needs (retries,
// timeout, cache, bindings), built from SDK entities in this process or from registered Flyte IR. Never runs them.
import type { BindingData, LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { RunnableTask } from "./runner.js";

export interface TaskCacheSettings {
  version: string;
  serialize: boolean;
  ignoredInputs: readonly string[];
}

interface ExecutableBase {
  /** Full name, e.g. `examples.spend.calculateSpend`. */
  name: string;
  /**
   * The inputs an execution or a node of this entity runs with: the given ones plus defaults, a launch plan's
   * fixed inputs and NONE for optional ones. A missing or unknown input is the caller's UserError.
   */
  completeInputs(given: LiteralMap): LiteralMap;
}

export interface ExecTask extends ExecutableBase {
  kind: "task";
  /** User-error retries: a task gets `retries + 1` attempts. */
  retries: number;
  timeoutMs?: number;
  /** Whether it may run on preemptible capacity; unset, the execution's setting decides (Flyte's node over execution). */
  interruptible?: boolean;
  cache?: TaskCacheSettings;
  /** A hash of the declared interface: changing it invalidates cached results. */
  interfaceHash: string;
  runnable: RunnableTask;
  /** The registered id, for runners that pass it on (`FLYTE_INTERNAL_TASK_*`); unset for local runs. */
  id?: { project: string; domain: string; name: string; version: string };
}

export interface ExecWorkflow extends ExecutableBase {
  kind: "workflow";
  /** Fail-immediately (Flyte's default) stops the workflow at its first failed node. */
  failFast: boolean;
  /** The nodes in an order where every node comes after its upstream nodes; made on first use. */
  plan(): WorkflowPlan;
}

export interface ExecLaunchPlan extends ExecutableBase {
  kind: "launchPlan";
  workflow: ExecWorkflow;
}

export type Executable = ExecTask | ExecWorkflow | ExecLaunchPlan;

export interface PlannedNode {
  /** The node id in the workflow (`n0`). */
  id: string;
  target: Executable;
  inputs: Record<string, BindingData>;
  /** Nodes whose outputs or completion this node waits for (never `start-node`). */
  upstream: string[];
}

export interface WorkflowPlan {
  nodes: PlannedNode[];
  outputs: Record<string, BindingData>;
}

/** The workflow a workflow or launch plan runs. */
export function workflowOf(executable: ExecWorkflow | ExecLaunchPlan): ExecWorkflow {
  return executable.kind === "launchPlan" ? executable.workflow : executable;
}
