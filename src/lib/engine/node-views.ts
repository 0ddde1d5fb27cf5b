// How FlyteAdmin's node and task execution messages read as `get execution --details` node views. The client makes
// them from any FlyteAdmin's answers, and tsflyte's server makes them from its own records through the same messages
// (its node views route), so both answers agree field for field. Pure, but for the retries of a task outside the
// workflow's closure, which whoever calls asks where it can.
import type { CompiledWorkflowClosure } from "../idl/gen/flyteidl/core/compiler_pb.js";
import type { NodeExecution } from "../idl/gen/flyteidl/admin/node_execution_pb.js";
import type { TaskExecution } from "../idl/gen/flyteidl/admin/task_execution_pb.js";
import { CatalogCacheStatus } from "../idl/gen/flyteidl/core/catalog_pb.js";
import { ExecutionError_ErrorKind, NodeExecution_Phase, TaskExecution_Phase } from "../idl/gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { Node, WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import type { CacheStatus, NodePhase, TaskPhase } from "../store/records.js";
import { splitErrorText } from "./error-text.js";
import { formatSeconds, type AttemptView, type NodeView } from "./history.js";

/** The workflow an execution ran, compiled: its own and its subworkflows' templates, and its tasks' templates. */
export interface WorkflowClosure {
  templates: WorkflowTemplate[];
  tasks: TaskTemplate[];
  /** The retries of a task outside the closure (a task launched alone, a launch plan node's), by its id. */
  retriesOfTask: (id: Identifier) => Promise<number | undefined>;
  /** Answers of `retriesOfTask`, asked once per task. */
  asked?: Map<string, Promise<number | undefined>>;
  /** The templates' nodes by id, made on first use. */
  nodesById?: Map<string, Node[]>;
}

/** The closure of FlyteAdmin's compiled workflow; empty for a task launched on its own. */
export function workflowClosureOf(compiled: CompiledWorkflowClosure | undefined, retriesOfTask: WorkflowClosure["retriesOfTask"]): WorkflowClosure {
  return {
    templates: [compiled?.primary?.template, ...(compiled?.subWorkflows ?? []).map((s) => s.template)].filter((t): t is WorkflowTemplate => t !== undefined),
    tasks: (compiled?.tasks ?? []).map((t) => t.template).filter((t): t is TaskTemplate => t !== undefined),
    retriesOfTask,
  };
}

/**
 * The template nodes with this id, in the workflow and its subworkflows, branch cases, map nodes' inner nodes and
 * failure nodes included; indexed once, as every node of the execution asks.
 */
function nodesWithId(workflow: WorkflowClosure, specNodeId: string): Node[] {
  if (!workflow.nodesById) {
    const byId = (workflow.nodesById = new Map());
    const add = (n: Node | undefined): void => {
      if (!n) return;
      const same = byId.get(n.id);
      if (same) same.push(n);
      else byId.set(n.id, [n]);
      const target = n.target;
      if (target.case === "branchNode" && target.value.ifElse) {
        const ifElse = target.value.ifElse;
        add(ifElse.case?.thenNode);
        for (const other of ifElse.other) add(other.thenNode);
        if (ifElse.default.case === "elseNode") add(ifElse.default.value);
      } else if (target.case === "arrayNode") add(target.value.node);
    };
    for (const t of workflow.templates) {
      for (const n of t.nodes) add(n);
      add(t.failureNode);
    }
  }
  return workflow.nodesById.get(specNodeId) ?? [];
}

/**
 * The template node a node execution ran: by its spec node id, or for a map's item (whose spec node id is its index)
 * the map's inner node, found from the item's parent.
 */
function specNodesOf(workflow: WorkflowClosure, specNodeId: string, parent: NodeExecution | undefined): Node[] {
  if (parent?.metadata?.isArray) {
    const parentSpec = parent.metadata.specNodeId || parent.id?.nodeId || "";
    return nodesWithId(workflow, parentSpec).flatMap((n) => (n.target.case === "arrayNode" && n.target.value.node ? [n.target.value.node] : []));
  }
  return nodesWithId(workflow, specNodeId);
}

/**
 * The retries a task node allows: the node's own (Node.metadata.retries) beat its task's, as in FlytePropeller. A task
 * outside the closure (launched on its own) is asked of whoever holds its template.
 */
function retriesOfNode(workflow: WorkflowClosure, specNodes: Node[], attempts: TaskExecution[]): Promise<number | undefined> | number | undefined {
  const taskId = attempts[0]?.id?.taskId;
  if (!taskId?.name) return undefined;
  const same = (id: { project: string; domain: string; name: string; version: string } | undefined) =>
    id?.name === taskId.name && id.version === taskId.version && id.project === taskId.project && id.domain === taskId.domain;
  // Spec node ids repeat across a workflow and its subworkflows; the node that ran this task is the one meant.
  const node = specNodes.find(
    (n) => n.target.case === "taskNode" && n.target.value.reference.case === "referenceId" && same(n.target.value.reference.value),
  );
  if (node?.metadata?.retries) return node.metadata.retries.retries;
  const known = workflow.tasks.find((t) => same(t.id));
  if (known) return known.metadata?.retries?.retries ?? 0;
  const key = [taskId.project, taskId.domain, taskId.name, taskId.version].join("\0");
  workflow.asked ??= new Map();
  let retries = workflow.asked.get(key);
  if (!retries) {
    retries = workflow.retriesOfTask(taskId);
    workflow.asked.set(key, retries);
  }
  return retries;
}

/** What a node ran, by its template node: a task, launch plan or workflow by name, a conditional by its name, a map by what it maps. */
function entityOfNode(specNodes: Node[], attempts: TaskExecution[], isArray: boolean): NodeView["entity"] {
  const taskName = isArray ? undefined : attempts[0]?.id?.taskId?.name;
  if (taskName) return { kind: "task", name: taskName };
  // In template order (the workflow's own, then its subworkflows'), the first node of this id that runs something.
  for (const node of specNodes) {
    const target = node.target;
    if (isArray !== (target.case === "arrayNode")) continue;
    if (target.case === "arrayNode") return { kind: "array", name: target.value.node ? entityOfNode([target.value.node], [], false).name : "" };
    if (target.case === "branchNode") return { kind: "branch", name: node.metadata?.name ?? "" };
    if (target.case === "gateNode") return { kind: "gate", name: node.metadata?.name || node.id };
    if (target.case === "taskNode" && target.value.reference.case === "referenceId") return { kind: "task", name: target.value.reference.value.name };
    if (target.case === "workflowNode" && target.value.reference.case === "launchplanRef") return { kind: "launchPlan", name: target.value.reference.value.name };
    if (target.case === "workflowNode" && target.value.reference.case === "subWorkflowRef") return { kind: "workflow", name: target.value.reference.value.name };
  }
  return { kind: isArray ? "array" : "task", name: "" };
}

/**
 * The node's view without its values (see `withValues`); `attempts` in any order. `parent` is the node it runs under,
 * which names what a map's item ran. A map's own task execution (its items as external resources) is not an attempt:
 * its items are its children.
 */
export async function nodeViewOf(n: NodeExecution, attempts: TaskExecution[], workflow: WorkflowClosure, parent?: NodeExecution): Promise<NodeView> {
  const isArray = n.metadata?.isArray === true;
  const sorted = isArray ? [] : [...attempts].sort((a, b) => (a.id?.retryAttempt ?? 0) - (b.id?.retryAttempt ?? 0));
  const closure = n.closure;
  const nodeId = n.id?.nodeId ?? "";
  const specNodeId = n.metadata?.specNodeId || nodeId;
  const specNodes = specNodesOf(workflow, specNodeId, parent);
  const view = {
    nodeId,
    specNodeId,
    entity: entityOfNode(specNodes, sorted, isArray),
    phase: phaseName(NodeExecution_Phase, closure?.phase ?? 0) as NodePhase,
  } as NodeView;
  if (closure?.targetMetadata.case === "taskNodeMetadata") {
    view.cacheStatus = phaseName(CatalogCacheStatus, closure.targetMetadata.value.cacheStatus) as CacheStatus;
  }
  const started = isoOf(closure?.startedAt);
  if (started) view.startedAt = started;
  if (closure?.duration && started) view.duration = durationText(closure.duration);
  if (closure?.outputResult.case === "error") {
    const e = closure.outputResult.value;
    view.error = { kind: errorKind(e.kind), code: e.code, message: splitErrorText(e.message, e.code).message };
  }
  if (sorted.length) {
    const retries = await retriesOfNode(workflow, specNodes, sorted);
    if (retries !== undefined) view.retries = retries;
  }
  view.attempts = sorted.map(attemptView);
  return view;
}

/**
 * The view with its inputs and outputs, fields in the order the local history writes them (values after the times,
 * attempts last), so YAML from either target reads the same.
 */
export function withValues(view: NodeView, inputs: Record<string, unknown> | undefined, outputs: Record<string, unknown> | undefined): NodeView {
  const { nodeId, specNodeId, entity, phase, cacheStatus, startedAt, duration, error, retries, attempts } = view;
  const result = { nodeId, specNodeId, entity, phase } as NodeView;
  if (cacheStatus !== undefined) result.cacheStatus = cacheStatus;
  if (startedAt !== undefined) result.startedAt = startedAt;
  if (duration !== undefined) result.duration = duration;
  if (inputs !== undefined) result.inputs = inputs;
  if (outputs !== undefined) result.outputs = outputs;
  if (error !== undefined) result.error = error;
  if (retries !== undefined) result.retries = retries;
  result.attempts = attempts;
  return result;
}

function attemptView(a: TaskExecution): AttemptView {
  const closure = a.closure;
  const view: AttemptView = {
    attempt: (a.id?.retryAttempt ?? 0) + 1,
    phase: phaseName(TaskExecution_Phase, closure?.phase ?? 0) as TaskPhase,
    startedAt: isoOf(closure?.startedAt) ?? isoOf(closure?.createdAt) ?? "",
  };
  if (closure?.duration && closure.startedAt) view.duration = durationText(closure.duration);
  if (closure?.outputResult.case === "error") {
    const e = closure.outputResult.value;
    const kind = errorKind(e.kind);
    // FlyteAdmin does not carry ContainerError's recoverable flag; a RETRYABLE_FAILED attempt was retried. The
    // message carries the user's stack, as flytekit's tracebacks do.
    const { message, stack } = splitErrorText(e.message, e.code);
    view.error = { kind, code: e.code, message, recoverable: view.phase === "RETRYABLE_FAILED", ...(stack ? { stack } : {}) };
  }
  const links = (closure?.logs ?? []).filter((l) => l.uri).map((l) => ({ name: l.name || "logs", uri: l.uri }));
  if (links.length) view.logLinks = links;
  return view;
}

function phaseName(enumObject: Record<number, string>, value: number): string {
  return enumObject[value] ?? "UNDEFINED";
}

function errorKind(kind: ExecutionError_ErrorKind): "USER" | "SYSTEM" | "UNKNOWN" {
  return kind === ExecutionError_ErrorKind.USER ? "USER" : kind === ExecutionError_ErrorKind.SYSTEM ? "SYSTEM" : "UNKNOWN";
}

function isoOf(ts: { seconds: bigint; nanos: number } | undefined): string | undefined {
  if (!ts || (ts.seconds === 0n && ts.nanos === 0)) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)).toISOString();
}

function durationText(d: { seconds: bigint; nanos: number }): string {
  return formatSeconds(Number(d.seconds) * 1000 + d.nanos / 1e6);
}
