// Executables from registered Flyte IR: TaskTemplates, WorkflowTemplates and LaunchPlanSpecs, as the control plane
// keeps them. Never loads user code: tasks run through a runner that reads the template's container args.
import { create } from "@bufbuild/protobuf";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { TypedInterface } from "../idl/gen/flyteidl/core/interface_pb.js";
import { LiteralMapSchema, type BindingData, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { Container, Resources_ResourceEntry, TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import { WorkflowMetadata_OnFailurePolicy, type GateNode, type Node, type WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import type { LaunchPlanSpec } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { UserError } from "../errors.js";
import { startNodeId } from "../sdk/trace.js";
import { typedInterfaceHash } from "./cache-key.js";
import type { ExecLaunchPlan, ExecTask, ExecWorkflow, Executable, PlannedGate, PlannedNode, WorkflowPlan } from "./executable.js";

/** Everything an execution can reach, keyed by `idKey`: what the control plane loads before it starts one. */
export interface IrClosure {
  tasks: ReadonlyMap<string, TaskTemplate>;
  workflows: ReadonlyMap<string, WorkflowTemplate>;
  launchPlans: ReadonlyMap<string, LaunchPlanSpec>;
}

export type IrRoot = { kind: "task" | "workflow" | "launchPlan"; id: Identifier };

/** `project/domain/name/version`: one entity's key in a closure. */
export function idKey(id: Pick<Identifier, "project" | "domain" | "name" | "version">): string {
  return `${id.project}/${id.domain}/${id.name}/${id.version}`;
}

/** What a node of a workflow template refers to, or undefined for node kinds with no entity (branch, gate, array). */
export function nodeReference(node: Node): IrRoot | undefined {
  const target = node.target;
  if (target.case === "taskNode" && target.value.reference.case === "referenceId") return { kind: "task", id: target.value.reference.value };
  if (target.case === "workflowNode") {
    const ref = target.value.reference;
    if (ref.case === "launchplanRef") return { kind: "launchPlan", id: ref.value };
    if (ref.case === "subWorkflowRef") return { kind: "workflow", id: ref.value };
  }
  return undefined;
}

/**
 * Builds the executable for a root entity of a closure and plans every workflow it reaches, so that a reference
 * the closure lacks or a cycle is a UserError before anything runs, not in the middle of an execution.
 */
export function executableFromIr(root: IrRoot, closure: IrClosure): Executable {
  const built = new Map<string, Executable>();
  const get = (ref: IrRoot): Executable => {
    const key = `${ref.kind}:${idKey(ref.id)}`;
    let executable = built.get(key);
    if (!executable) built.set(key, (executable = build(ref, closure, get)));
    return executable;
  };
  const executable = get(root);
  const planned = new Set<Executable>();
  const planAll = (e: Executable) => {
    if (e.kind === "task" || planned.has(e)) return;
    planned.add(e);
    const workflow = e.kind === "launchPlan" ? e.workflow : e;
    const plan = workflow.plan();
    for (const node of [...plan.nodes, ...(plan.failureNode ? [plan.failureNode] : [])]) for (const target of targetsOf(node)) planAll(target);
  };
  planAll(executable);
  return executable;
}

/** The executables a planned node may run: its own, its cases', its inner node's. */
export function targetsOf(node: PlannedNode): Executable[] {
  switch (node.kind) {
    case "call":
      return [node.target];
    case "array":
      return [node.node.target];
    case "branch":
      return [...node.cases.flatMap((c) => targetsOf(c.node)), ...(node.otherwise ? targetsOf(node.otherwise) : [])];
    case "gate":
      return [];
  }
}

function build(ref: IrRoot, closure: IrClosure, get: (ref: IrRoot) => Executable): Executable {
  const key = idKey(ref.id);
  switch (ref.kind) {
    case "task": {
      const template = closure.tasks.get(key);
      if (!template) throw new UserError(`task ${key} is not registered`);
      return taskExecutable(ref.id, template);
    }
    case "workflow": {
      const template = closure.workflows.get(key);
      if (!template) throw new UserError(`workflow ${key} is not registered`);
      return workflowExecutable(ref.id, template, get);
    }
    case "launchPlan": {
      const spec = closure.launchPlans.get(key);
      if (!spec?.workflowId) throw new UserError(`launch plan ${key} is not registered`);
      const workflow = get({ kind: "workflow", id: spec.workflowId });
      return launchPlanExecutable(ref.id, spec, workflow as ExecWorkflow);
    }
  }
}

function taskExecutable(id: Identifier, template: TaskTemplate): ExecTask {
  const metadata = template.metadata;
  const timeout = metadata?.timeout;
  const timeoutMs = timeout && (timeout.seconds > 0n || timeout.nanos > 0) ? Number(timeout.seconds) * 1000 + Math.floor(timeout.nanos / 1e6) : undefined;
  return {
    kind: "task",
    name: id.name,
    retries: metadata?.retries?.retries ?? 0,
    timeoutMs,
    ...(metadata?.interruptibleValue.case === "interruptible" ? { interruptible: metadata.interruptibleValue.value } : {}),
    cache: metadata?.discoverable
      ? { version: metadata.discoveryVersion, serialize: metadata.cacheSerializable, ignoredInputs: metadata.cacheIgnoreInputVars }
      : undefined,
    interfaceHash: typedInterfaceHash(template.interface),
    runnable: { name: id.name, template },
    id: { project: id.project, domain: id.domain, name: id.name, version: id.version },
    completeInputs: (given) => completeFromInterface(id.name, template.interface, given, {}, {}),
    inputNames: Object.keys(template.interface?.inputs?.variables ?? {}),
    outputNames: Object.keys(template.interface?.outputs?.variables ?? {}),
  };
}

function workflowExecutable(id: Identifier, template: WorkflowTemplate, get: (ref: IrRoot) => Executable): ExecWorkflow {
  let plan: WorkflowPlan | undefined;
  return {
    kind: "workflow",
    name: id.name,
    failFast: (template.metadata?.onFailure ?? WorkflowMetadata_OnFailurePolicy.FAIL_IMMEDIATELY) === WorkflowMetadata_OnFailurePolicy.FAIL_IMMEDIATELY,
    plan: () => (plan ??= planTemplate(id, template, get)),
    completeInputs: (given) => completeFromInterface(id.name, template.interface, given, {}, {}),
    inputNames: Object.keys(template.interface?.inputs?.variables ?? {}),
    outputNames: Object.keys(template.interface?.outputs?.variables ?? {}),
  };
}

function launchPlanExecutable(id: Identifier, spec: LaunchPlanSpec, workflow: ExecWorkflow): ExecLaunchPlan {
  const defaults: Record<string, Literal> = {};
  for (const [name, parameter] of Object.entries(spec.defaultInputs?.parameters ?? {})) {
    if (parameter.behavior.case === "default") defaults[name] = parameter.behavior.value;
  }
  const fixed = spec.fixedInputs?.literals ?? {};
  const declared: Record<string, true> = {};
  for (const name of Object.keys(spec.defaultInputs?.parameters ?? {})) declared[name] = true;
  return {
    kind: "launchPlan",
    name: id.name,
    workflow,
    completeInputs: (given) => completeInputs(id.name, declared, given, defaults, fixed),
    inputNames: Object.keys(declared),
    outputNames: workflow.outputNames,
  };
}

function completeFromInterface(name: string, iface: TypedInterface | undefined, given: LiteralMap, defaults: Record<string, Literal>, fixed: Record<string, Literal>): LiteralMap {
  const declared: Record<string, true> = {};
  for (const input of Object.keys(iface?.inputs?.variables ?? {})) declared[input] = true;
  return completeInputs(name, declared, given, defaults, fixed);
}

/** The given inputs plus defaults and fixed inputs; unknown, missing and overridden fixed inputs are one UserError. */
function completeInputs(name: string, declared: Record<string, true>, given: LiteralMap, defaults: Record<string, Literal>, fixed: Record<string, Literal>): LiteralMap {
  const literals: Record<string, Literal> = {};
  const problems: string[] = [];
  for (const input of Object.keys(given.literals)) {
    if (input in fixed) problems.push(`${input} is fixed by the launch plan and cannot be given`);
    else if (!(input in declared)) problems.push(`unknown input "${input}" (inputs: ${Object.keys(declared).join(", ") || "none"})`);
  }
  for (const input of Object.keys(declared)) {
    const literal = given.literals[input] ?? defaults[input];
    if (literal) literals[input] = literal;
    else problems.push(`missing input ${input}`);
  }
  Object.assign(literals, fixed);
  if (problems.length) throw new UserError(`${name}: ${problems.join("; ")}`);
  return create(LiteralMapSchema, { literals });
}

/** The template's nodes in an order where each follows its upstream nodes, with their bindings. */
function planTemplate(id: Identifier, template: WorkflowTemplate, get: (ref: IrRoot) => Executable): WorkflowPlan {
  const planned = new Map<string, PlannedNode>();
  for (const node of template.nodes) planned.set(node.id, planNode(id.name, node, get));
  const outputs: Record<string, BindingData> = {};
  for (const binding of template.outputs) if (binding.binding) outputs[binding.var] = normalizeStart(binding.binding);
  const failureNode = template.failureNode ? planNode(id.name, template.failureNode, get) : undefined;
  if (failureNode && failureNode.kind !== "call") {
    throw new UserError(`workflow ${id.name}: its failure node ${failureNode.id} must run a task, workflow or launch plan, not a ${failureNode.kind}`);
  }
  return { nodes: topologicalOrder(id.name, planned), outputs, ...(failureNode ? { failureNode } : {}) };
}

/** One node of a template as the engine runs it: a call, a branch with its cases, or an array node with its inner node. */
export function planNode(workflow: string, node: Node, get: (ref: IrRoot) => Executable): PlannedNode {
  const inputs: Record<string, BindingData> = {};
  const upstream = new Set(node.upstreamNodeIds.filter((n) => n !== startNodeId && n !== ""));
  for (const binding of node.inputs) {
    if (!binding.binding) continue;
    inputs[binding.var] = normalizeStart(binding.binding);
    for (const promised of promisedNodes(binding.binding)) upstream.add(promised);
  }
  const base = { id: node.id, inputs, upstream: [...upstream] };
  const target = node.target;
  if (target.case === "branchNode") {
    const ifElse = target.value.ifElse;
    if (!ifElse?.case?.condition || !ifElse.case.thenNode) throw new UserError(`workflow ${workflow}: branch node ${node.id} has no first case`);
    // A case's node may read outputs of nodes outside the branch: the branch waits for them, its cases for nothing more.
    const caseNode = (thenNode: Node): PlannedNode => {
      const planned = planNode(workflow, thenNode, get);
      for (const u of planned.upstream) upstream.add(u);
      return { ...planned, upstream: [] };
    };
    const cases = [ifElse.case, ...ifElse.other].map((block, i) => {
      if (!block.condition || !block.thenNode) throw new UserError(`workflow ${workflow}: case ${i + 1} of branch node ${node.id} lacks a condition or a node`);
      return { condition: block.condition, node: caseNode(block.thenNode) };
    });
    const otherwise = ifElse.default.case === "elseNode" ? caseNode(ifElse.default.value) : undefined;
    const error = ifElse.default.case === "error" ? ifElse.default.value.message || "no case of the branch held" : undefined;
    return { ...base, upstream: [...upstream], kind: "branch", name: node.metadata?.name || node.id, cases, ...(otherwise ? { otherwise } : {}), ...(error !== undefined ? { error } : {}) };
  }
  if (target.case === "arrayNode") {
    const array = target.value;
    if (!array.node) throw new UserError(`workflow ${workflow}: array node ${node.id} has no node to map`);
    const inner = planNode(workflow, array.node, get);
    if (inner.kind !== "call") throw new UserError(`workflow ${workflow}: array node ${node.id} maps a ${inner.kind}; it can map a task, a subworkflow or a launch plan`);
    // flytekit binds the inputs on the array node and again on its inner node; either place is read.
    const arrayInputs = Object.keys(inputs).length ? inputs : inner.inputs;
    for (const u of inner.upstream) upstream.add(u);
    const criteria = array.successCriteria;
    return {
      ...base,
      inputs: arrayInputs,
      upstream: [...upstream],
      kind: "array",
      node: inner,
      ...(array.parallelismOption.case === "parallelism" ? { parallelism: array.parallelismOption.value } : {}),
      ...(criteria.case === "minSuccesses" ? { minSuccesses: criteria.value } : {}),
      ...(criteria.case === "minSuccessRatio" ? { minSuccessRatio: criteria.value } : {}),
      boundInputs: new Set(array.boundInputs),
    };
  }
  if (target.case === "gateNode") return { ...base, ...planGate(workflow, node, target.value) };
  const ref = nodeReference(node);
  if (!ref) throw new UserError(`workflow ${workflow}: node ${node.id} is a ${node.target.case ?? "node without a target"}, which this control plane does not run`);
  const executable = get(ref);
  return { ...base, kind: "call", target: executable.kind === "task" ? withNodeOverrides(executable, node) : executable };
}

/**
 * A task as one node runs it: NodeMetadata's retries, timeout, interruptible and cache settings and TaskNodeOverrides'
 * resources over the task's own (flytekit's with_overrides). Without overrides, the task itself.
 */
export function withNodeOverrides(task: ExecTask, node: Node): ExecTask {
  const metadata = node.metadata;
  const resources = node.target.case === "taskNode" ? node.target.value.overrides?.resources : undefined;
  const retries = metadata?.retries ? metadata.retries.retries : undefined;
  const timeoutMs = metadata?.timeout ? durationMs(metadata.timeout) : undefined;
  const interruptible = metadata?.interruptibleValue.case === "interruptible" ? metadata.interruptibleValue.value : undefined;
  const cacheable = metadata?.cacheableValue.case === "cacheable" ? metadata.cacheableValue.value : undefined;
  const cacheVersion = metadata?.cacheVersionValue.case === "cacheVersion" ? metadata.cacheVersionValue.value : undefined;
  const cacheSerializable = metadata?.cacheSerializableValue.case === "cacheSerializable" ? metadata.cacheSerializableValue.value : undefined;
  const hasResources = !!resources && (resources.requests.length > 0 || resources.limits.length > 0);
  // flytekit writes `retries: {}` on every node: zero retries there means "as the task says", not "none".
  const ownRetries = retries !== undefined && retries > 0 ? retries : undefined;
  if (ownRetries === undefined && !timeoutMs && interruptible === undefined && cacheable === undefined && cacheVersion === undefined && cacheSerializable === undefined && !hasResources) {
    return task;
  }
  const overridden: ExecTask = { ...task };
  if (ownRetries !== undefined) overridden.retries = ownRetries;
  if (timeoutMs) overridden.timeoutMs = timeoutMs;
  if (interruptible !== undefined) overridden.interruptible = interruptible;
  if (cacheable === false) overridden.cache = undefined;
  else if (cacheable === true || cacheVersion !== undefined || cacheSerializable !== undefined) {
    const base = task.cache ?? { version: "", serialize: false, ignoredInputs: [] };
    overridden.cache = { ...base, ...(cacheVersion !== undefined ? { version: cacheVersion } : {}), ...(cacheSerializable !== undefined ? { serialize: cacheSerializable } : {}) };
  }
  if (hasResources && task.runnable.template?.target.case === "container") {
    const template = task.runnable.template;
    const container = template.target.value as Container;
    const merge = (own: Resources_ResourceEntry[], over: Resources_ResourceEntry[]) => [...own.filter((e) => !over.some((o) => o.name === e.name)), ...over];
    const merged: Container = {
      ...container,
      resources: {
        $typeName: "flyteidl.core.Resources",
        requests: merge(container.resources?.requests ?? [], resources.requests),
        limits: merge(container.resources?.limits ?? [], resources.limits),
      },
    };
    overridden.runnable = { ...task.runnable, template: { ...template, target: { case: "container", value: merged } } };
  }
  return overridden;
}

/** A gate node's condition and timeout; one without a condition, signal id or duration is a UserError. */
function planGate(workflow: string, node: Node, gate: GateNode): Pick<PlannedGate, "kind" | "name" | "condition" | "timeoutMs"> {
  const c = gate.condition;
  const bad = (what: string) => new UserError(`workflow ${workflow}: gate node ${node.id} ${what}`);
  let condition: PlannedGate["condition"];
  if (c.case === "approve") {
    if (!c.value.signalId) throw bad("approves without a signal id");
    condition = { kind: "approve", signalId: c.value.signalId };
  } else if (c.case === "signal") {
    if (!c.value.signalId || !c.value.type) throw bad("waits for a signal without its id or type");
    condition = { kind: "signal", signalId: c.value.signalId, type: c.value.type, outputName: c.value.outputVariableName || "o0" };
  } else if (c.case === "sleep") {
    if (!c.value.duration) throw bad("sleeps without a duration");
    condition = { kind: "sleep", durationMs: durationMs(c.value.duration) };
  } else throw bad("has no condition (approve, signal or sleep)");
  const timeout = node.metadata?.timeout;
  const timeoutMs = timeout ? durationMs(timeout) : 0;
  const name = node.metadata?.name || (c.case === "sleep" ? "sleep-gate" : c.value.signalId);
  return { kind: "gate", name, condition, ...(timeoutMs > 0 ? { timeoutMs } : {}) };
}

function durationMs(d: { seconds: bigint; nanos: number }): number {
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

function promisedNodes(binding: BindingData): string[] {
  const v = binding.value;
  switch (v.case) {
    case "promise":
      return v.value.nodeId === startNodeId || v.value.nodeId === "" ? [] : [v.value.nodeId];
    case "collection":
      return v.value.bindings.flatMap(promisedNodes);
    case "map":
      return Object.values(v.value.bindings).flatMap(promisedNodes);
    default:
      return [];
  }
}

/** Flyte spells a workflow input's promise with node id "" or `start-node`; the engine reads `start-node`. */
function normalizeStart(binding: BindingData): BindingData {
  const v = binding.value;
  if (v.case === "promise" && v.value.nodeId === "") return { ...binding, value: { case: "promise", value: { ...v.value, nodeId: startNodeId } } };
  if (v.case === "collection") return { ...binding, value: { case: "collection", value: { ...v.value, bindings: v.value.bindings.map(normalizeStart) } } };
  if (v.case === "map") {
    const bindings = Object.fromEntries(Object.entries(v.value.bindings).map(([k, b]) => [k, normalizeStart(b)]));
    return { ...binding, value: { case: "map", value: { ...v.value, bindings } } };
  }
  return binding;
}

export function topologicalOrder(workflow: string, nodes: ReadonlyMap<string, PlannedNode>): PlannedNode[] {
  const ordered: PlannedNode[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: PlannedNode) => {
    const seen = state.get(node.id);
    if (seen === "done") return;
    if (seen === "visiting") throw new UserError(`workflow ${workflow}: node ${node.id} depends on itself through a cycle`);
    state.set(node.id, "visiting");
    for (const up of node.upstream) {
      const upstream = nodes.get(up);
      if (!upstream) throw new UserError(`workflow ${workflow}: node ${node.id} reads from node ${up}, which the workflow does not have`);
      visit(upstream);
    }
    state.set(node.id, "done");
    ordered.push(node);
  };
  for (const node of nodes.values()) visit(node);
  return ordered;
}
