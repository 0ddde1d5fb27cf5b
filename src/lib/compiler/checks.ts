// The checks FlyteAdmin applies to a workflow before accepting it, run on the IR itself so that the control
// plane can apply them to anything registered: references exist, inputs bound, types match, no cycles.
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { BindingData } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { describeLiteralType, isCastable } from "../types/compat.js";

/** The interface of something a node calls, as the checks need it. */
export interface CalleeInterface {
  inputs: Record<string, { type?: LiteralType; required: boolean }>;
  outputs: Record<string, LiteralType | undefined>;
}

export type InterfaceLookup = (kind: "task" | "workflow" | "launchPlan", id: Identifier) => CalleeInterface | undefined;

const startNode = "start-node";
const endNode = "end-node";

function idText(id: Identifier | undefined): string {
  return id ? `${id.name}@${id.version}` : "(no id)";
}

// Node kinds the IR has and tsflyte's engine does not run yet; the server refuses them at registration.
const unrunNodeKinds: Record<string, string> = {
  branchNode: "a branch node (a condition)",
  arrayNode: "an array node (a map over a list)",
};

/** Every problem with a workflow template, each one sentence naming the node and the input. */
export function checkWorkflowTemplate(template: WorkflowTemplate, lookup: InterfaceLookup): string[] {
  const problems: string[] = [];
  const wfInputs = template.interface?.inputs?.variables ?? {};
  const wfOutputs = template.interface?.outputs?.variables ?? {};
  const outputsOf = new Map<string, Record<string, LiteralType | undefined>>();
  const inputsAsOutputs: Record<string, LiteralType | undefined> = {};
  for (const [name, v] of Object.entries(wfInputs)) inputsAsOutputs[name] = v.type;
  outputsOf.set(startNode, inputsAsOutputs);

  const ids = new Set<string>();
  for (const node of template.nodes) {
    if (!node.id) problems.push("a node has an empty id");
    else if (node.id === startNode || node.id === endNode) problems.push(`node id "${node.id}" is reserved`);
    else if (ids.has(node.id)) problems.push(`node id "${node.id}" is used twice`);
    ids.add(node.id);
  }

  const callees = new Map<string, CalleeInterface>();
  const opaque = new Set<string>();
  for (const node of template.nodes) {
    const target = node.target;
    let callee: CalleeInterface | undefined;
    let refText = "";
    if (target.case === "taskNode" && target.value.reference.case === "referenceId") {
      refText = `task ${idText(target.value.reference.value)}`;
      callee = lookup("task", target.value.reference.value);
    } else if (target.case === "workflowNode" && target.value.reference.case === "subWorkflowRef") {
      refText = `workflow ${idText(target.value.reference.value)}`;
      callee = lookup("workflow", target.value.reference.value);
    } else if (target.case === "workflowNode" && target.value.reference.case === "launchplanRef") {
      refText = `launch plan ${idText(target.value.reference.value)}`;
      callee = lookup("launchPlan", target.value.reference.value);
    } else if (target.case === "gateNode") {
      const outputs = checkGateNode(node, problems);
      if (outputs) outputsOf.set(node.id, outputs);
      else opaque.add(node.id);
      continue;
    } else if (target.case === "branchNode" || target.case === "arrayNode") {
      opaque.add(node.id);
      continue;
    } else {
      const kind = target.case ? unrunNodeKinds[target.case] : undefined;
      problems.push(kind ? `node ${node.id} is ${kind}, which tsflyte does not run yet` : `node ${node.id} has no task, workflow or launch plan to run`);
      // Its outputs are unknown, not missing: what reads them is not reported again.
      opaque.add(node.id);
      continue;
    }
    if (!callee) {
      problems.push(`node ${node.id} refers to ${refText}, which does not exist`);
      continue;
    }
    callees.set(node.id, callee);
    outputsOf.set(node.id, callee.outputs);
  }

  for (const node of template.nodes) {
    const callee = callees.get(node.id);
    if (!callee) continue;
    const upstream = new Set(node.upstreamNodeIds);
    for (const u of upstream) if (!ids.has(u)) problems.push(`node ${node.id} lists upstream node ${u}, which does not exist`);
    const bound = new Set<string>();
    for (const binding of node.inputs) {
      bound.add(binding.var);
      const input = callee.inputs[binding.var];
      if (!input) {
        problems.push(`node ${node.id} binds "${binding.var}", which is not one of its inputs`);
        continue;
      }
      if (binding.binding) checkBindingData(binding.binding, input.type, `node ${node.id} input "${binding.var}"`, { outputsOf, opaque, upstream }, problems);
      else problems.push(`node ${node.id} input "${binding.var}" has an empty binding`);
    }
    for (const [name, input] of Object.entries(callee.inputs)) {
      if (input.required && !bound.has(name)) problems.push(`node ${node.id} does not bind its required input "${name}"`);
    }
  }

  const boundOutputs = new Set<string>();
  for (const binding of template.outputs) {
    boundOutputs.add(binding.var);
    const declared = wfOutputs[binding.var];
    if (!declared) problems.push(`workflow output "${binding.var}" is bound but not declared`);
    else if (binding.binding) checkBindingData(binding.binding, declared.type, `workflow output "${binding.var}"`, { outputsOf, opaque }, problems);
  }
  for (const name of Object.keys(wfOutputs)) if (!boundOutputs.has(name)) problems.push(`workflow output "${name}" is not bound`);

  problems.push(...checkGraph(template));
  return problems;
}

interface BindingScope {
  outputsOf: Map<string, Record<string, LiteralType | undefined>>;
  /** Nodes of kinds these checks cannot see into, reported once already. */
  opaque: Set<string>;
  /** For a node's inputs: the nodes it lists upstream. */
  upstream?: Set<string>;
}

function checkBindingData(data: BindingData, expected: LiteralType | undefined, at: string, scope: BindingScope, problems: string[]): void {
  const { outputsOf, upstream } = scope;
  const v = data.value;
  if (v.case === "promise") {
    const nodeId = v.value.nodeId || startNode;
    if (scope.opaque.has(nodeId)) return;
    const outputs = outputsOf.get(nodeId);
    if (!outputs) {
      problems.push(`${at} reads node ${nodeId}, which does not exist`);
      return;
    }
    if (!(v.value.var in outputs)) {
      problems.push(`${at} reads "${v.value.var}" of ${nodeId === startNode ? "the workflow inputs" : `node ${nodeId}`}, which has no such ${nodeId === startNode ? "input" : "output"}`);
      return;
    }
    if (upstream && nodeId !== startNode && !upstream.has(nodeId)) problems.push(`${at} reads node ${nodeId}, which is not among its upstream nodes`);
    const actual = outputs[v.value.var];
    if (expected && actual && !isCastable(actual, expected)) {
      problems.push(`${at} expects ${describeLiteralType(expected)}, but ${nodeId}.${v.value.var} is ${describeLiteralType(actual)}`);
    }
  } else if (v.case === "collection") {
    const element = expected?.type.case === "collectionType" ? expected.type.value : undefined;
    v.value.bindings.forEach((b, i) => checkBindingData(b, element, `${at}[${i}]`, scope, problems));
  } else if (v.case === "map") {
    const valueType = expected?.type.case === "mapValueType" ? expected.type.value : undefined;
    for (const [k, b] of Object.entries(v.value.bindings)) checkBindingData(b, valueType, `${at}.${k}`, scope, problems);
  }
}

/** No cycles, and every node reachable from the start node (a node without upstream nodes hangs off start). */
export function checkGraph(template: WorkflowTemplate): string[] {
  const problems: string[] = [];
  const ids = new Set(template.nodes.map((n) => n.id));
  const downstream = new Map<string, string[]>();
  const indegree = new Map<string, number>();
  for (const id of ids) {
    downstream.set(id, []);
    indegree.set(id, 0);
  }
  downstream.set(startNode, []);
  for (const node of template.nodes) {
    const ups = node.upstreamNodeIds.filter((u) => ids.has(u));
    if (ups.length === 0) downstream.get(startNode)!.push(node.id);
    for (const u of ups) {
      downstream.get(u)!.push(node.id);
      indegree.set(node.id, indegree.get(node.id)! + 1);
    }
  }
  const queue = [...ids].filter((id) => indegree.get(id) === 0);
  let visited = 0;
  while (queue.length) {
    const id = queue.pop()!;
    visited++;
    for (const d of downstream.get(id)!) {
      const left = indegree.get(d)! - 1;
      indegree.set(d, left);
      if (left === 0) queue.push(d);
    }
  }
  if (visited < ids.size) {
    const stuck = [...ids].filter((id) => indegree.get(id)! > 0).sort();
    problems.push(`the nodes ${stuck.join(", ")} form a cycle`);
    return problems;
  }
  const reached = new Set<string>([startNode]);
  const stack = [startNode];
  while (stack.length) {
    for (const d of downstream.get(stack.pop()!)!) {
      if (!reached.has(d)) {
        reached.add(d);
        stack.push(d);
      }
    }
  }
  const unreachable = [...ids].filter((id) => !reached.has(id)).sort();
  if (unreachable.length) problems.push(`the nodes ${unreachable.join(", ")} cannot be reached from the start node`);
  return problems;
}

/**
 * A gate node's own problems (a condition without its signal id, type or duration), and its outputs when they are known
 * here: a signal's value, nothing for a sleep. An approval passes on its input, whose type its upstream node gives.
 */
function checkGateNode(node: WorkflowTemplate["nodes"][number], problems: string[]): Record<string, LiteralType | undefined> | undefined {
  if (node.target.case !== "gateNode") return undefined;
  const condition = node.target.value.condition;
  switch (condition.case) {
    case "approve":
      if (!condition.value.signalId) problems.push(`gate node ${node.id} approves without a signal id`);
      if (node.inputs.length !== 1) problems.push(`gate node ${node.id} approves ${node.inputs.length} values; an approval passes on exactly one`);
      return undefined;
    case "signal":
      if (!condition.value.signalId) problems.push(`gate node ${node.id} waits for a signal without a signal id`);
      if (!condition.value.type) problems.push(`gate node ${node.id} waits for signal "${condition.value.signalId}" without its type`);
      if (!condition.value.outputVariableName) problems.push(`gate node ${node.id} waits for signal "${condition.value.signalId}" without an output variable name`);
      return { [condition.value.outputVariableName]: condition.value.type };
    case "sleep":
      if (!condition.value.duration) problems.push(`gate node ${node.id} sleeps without a duration`);
      return {};
    default:
      problems.push(`gate node ${node.id} has no condition (approve, signal or sleep)`);
      return undefined;
  }
}
