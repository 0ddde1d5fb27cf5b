// What the engine executes: tasks, workflows and launch plans reduced to the few facts scheduling needs (retries,
// timeout, cache, bindings), built from SDK entities in this process or from registered Flyte IR. Never runs them.
import type { BooleanExpression } from "../idl/gen/flyteidl/core/condition_pb.js";
import type { BindingData, LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
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
  /** Its input names: a failure node gets the workflow's error as `err` when it has that input. */
  inputNames: readonly string[];
  /** Its output names, in declaration order: a map over it has these outputs, as lists. */
  outputNames: readonly string[];
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

interface PlannedBase {
  /** The node id in the workflow (`n0`). */
  id: string;
  inputs: Record<string, BindingData>;
  /** Nodes whose outputs or completion this node waits for (never `start-node`). */
  upstream: string[];
}

/** A node that runs a task, a subworkflow or a launch plan. */
export interface PlannedCall extends PlannedBase {
  kind: "call";
  target: Executable;
}

/** A branch: the first case whose condition holds runs; the others are skipped. Its outputs are the chosen case's. */
export interface PlannedBranch extends PlannedBase {
  kind: "branch";
  /** The branch's name (NodeMetadata.name), for records and messages. */
  name: string;
  /** Conditions read the branch node's own inputs by their `var` names. */
  cases: { condition: BooleanExpression; node: PlannedNode }[];
  otherwise?: PlannedNode;
  /** `else().fail(message)`: no case held, and the branch fails with this message. */
  error?: string;
}

/** A map (Flyte's ArrayNode): the inner node once per element of the mapped inputs, the others passed whole. */
export interface PlannedArray extends PlannedBase {
  kind: "array";
  node: PlannedCall;
  /** Items running at once; undefined inherits the execution's parallelism, 0 is unbounded. */
  parallelism?: number;
  minSuccesses?: number;
  minSuccessRatio?: number;
  /** Inputs passed whole to every item (flytekit's partial); the others are lists mapped element by element. */
  boundInputs: ReadonlySet<string>;
}

/** What a gate waits for: an approval of its input, a typed value given from outside, or a length of time. */
export type GateCondition =
  | { kind: "approve"; signalId: string }
  | { kind: "signal"; signalId: string; type: LiteralType; outputName: string }
  | { kind: "sleep"; durationMs: number };

/** A gate (Flyte's GateNode), run by gate-node.ts: RUNNING while it waits, TIMED_OUT after its timeout. */
export interface PlannedGate extends PlannedBase {
  kind: "gate";
  /** NodeMetadata.name: the signal id, or `sleep-gate`. */
  name: string;
  condition: GateCondition;
  /** NodeMetadata.timeout, from the node's start. */
  timeoutMs?: number;
}

export type PlannedNode = PlannedCall | PlannedBranch | PlannedArray | PlannedGate;

export interface WorkflowPlan {
  nodes: PlannedNode[];
  outputs: Record<string, BindingData>;
  /** Runs once when the workflow fails, with the workflow's inputs (and the error as `err` when it declares one). */
  failureNode?: PlannedCall;
}

/** The workflow a workflow or launch plan runs. */
export function workflowOf(executable: ExecWorkflow | ExecLaunchPlan): ExecWorkflow {
  return executable.kind === "launchPlan" ? executable.workflow : executable;
}
