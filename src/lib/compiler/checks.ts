// The checks FlyteAdmin applies to a workflow before accepting it, run on the IR itself so that the control
// plane can apply them to anything registered: references exist, inputs bound, types match, no cycles.
import type { BindingData } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { Node, WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { checkArrayNode } from "./checks-array.js";
import { checkBranchNode } from "./checks-branch.js";
import { checkFailureNode } from "./checks-failure.js";
import { checkGateNode } from "./checks-gate.js";
import {
  calleeOf,
  checkBindingData,
  checkInputBindings,
  endNode,
  startNode,
  type CheckScope,
  type InterfaceLookup,
  type NodePlace,
  type Outputs,
} from "./checks-scope.js";

export type { CalleeInterface, InterfaceLookup } from "./checks-scope.js";

/** Every problem with a workflow template, each one sentence naming the node and the input. */
export function checkWorkflowTemplate(template: WorkflowTemplate, lookup: InterfaceLookup): string[] {
  const problems: string[] = [];
  const wfInputs = template.interface?.inputs?.variables ?? {};
  const wfOutputs = template.interface?.outputs?.variables ?? {};
  const outputsOf = new Map<string, Outputs>();
  const inputsAsOutputs: Outputs = {};
  for (const [name, v] of Object.entries(wfInputs)) inputsAsOutputs[name] = v.type;
  outputsOf.set(startNode, inputsAsOutputs);

  const ids = new Set<string>();
  for (const node of template.nodes) {
    if (!node.id) problems.push("a node has an empty id");
    else if (node.id === startNode || node.id === endNode) problems.push(`node id "${node.id}" is reserved`);
    else if (ids.has(node.id)) problems.push(`node id "${node.id}" is used twice`);
    ids.add(node.id);
  }

  let directDependents: Map<string, string[]> | undefined;
  const dependencies = dependenciesOf(template.nodes, ids, true);
  const readableKept = new Map<string, Set<string>>();
  const scope: CheckScope = {
    lookup,
    problems,
    outputsOf,
    topLevelIds: ids,
    opaque: new Set(),
    partialOutputs: new Map(),
    readableInside: (nodeId) => {
      let found = readableKept.get(nodeId);
      if (!found) {
        directDependents ??= dependentsOf(dependenciesOf(template.nodes, ids, false));
        const after = descendantsIn(directDependents, nodeId);
        readableKept.set(nodeId, (found = new Set([...ids].filter((id) => id !== nodeId && !after.has(id)))));
      }
      return found;
    },
    checkNode: (node, place) => checkNode(node, place, scope),
  };
  const { ordered, stuck } = dependencyOrder(template.nodes, dependencies);
  // Nodes in a cycle are reported by checkGraph; what reads them before they are checked is not reported again.
  for (const node of stuck) scope.opaque.add(node.id);
  for (const node of [...ordered, ...stuck]) {
    const outputs = checkNode(node, { label: `node ${node.id}`, path: node.id, topLevel: true }, scope);
    if (outputs) {
      outputsOf.set(node.id, outputs);
      scope.opaque.delete(node.id);
    } else if (!calledEntity(node)) {
      // A node whose outputs are unknown was reported; what reads them is not reported again.
      scope.opaque.add(node.id);
    }
  }

  if (template.failureNode) checkFailureNode(template.failureNode, ids, scope);

  const boundOutputs = new Set<string>();
  for (const binding of template.outputs) {
    boundOutputs.add(binding.var);
    const declared = wfOutputs[binding.var];
    if (!declared) problems.push(`workflow output "${binding.var}" is bound but not declared`);
    else if (binding.binding) checkBindingData(binding.binding, declared.type, `workflow output "${binding.var}"`, scope);
  }
  for (const name of Object.keys(wfOutputs)) if (!boundOutputs.has(name)) problems.push(`workflow output "${name}" is not bound`);

  problems.push(...checkGraph(template));
  return problems;
}

/** Checks one node of any kind where it sits and returns its outputs; undefined when they cannot be known. */
function checkNode(node: Node, place: NodePlace, scope: CheckScope): Outputs | undefined {
  const upstream = place.topLevel ? new Set(node.upstreamNodeIds) : undefined;
  if (place.topLevel) {
    for (const u of node.upstreamNodeIds) if (!scope.topLevelIds.has(u)) scope.problems.push(`node ${node.id} lists upstream node ${u}, which does not exist`);
  }
  const target = node.target;
  switch (target.case) {
    case "branchNode":
      return checkBranchNode(node, target.value, place, scope, upstream);
    case "arrayNode":
      return checkArrayNode(node, target.value, place, scope, upstream);
    case "gateNode":
      return checkGateNode(node, target.value, place, scope, upstream);
    default:
      break;
  }
  const called = calleeOf(node, place, scope);
  if (!called) {
    scope.problems.push(`${place.label} has no task, workflow or launch plan to run`);
    return undefined;
  }
  const { callee } = called;
  if (!callee) return undefined;
  checkInputBindings(node.inputs, callee.inputs, (name) => callee.inputs[name]?.type, place, scope, upstream);
  return callee.outputs;
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

function calledEntity(node: Node): boolean {
  return node.target.case === "taskNode" || node.target.case === "workflowNode";
}

/**
 * What each top-level node waits for: the nodes it lists upstream and the nodes its bindings read, and with `nested`
 * also what the nodes inside it (branch cases, an array node's sub-node) read.
 */
function dependenciesOf(nodes: Node[], ids: Set<string>, nested: boolean): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const node of nodes) {
    const mine = deps.get(node.id) ?? new Set<string>();
    for (const u of node.upstreamNodeIds) if (ids.has(u) && u !== node.id) mine.add(u);
    for (const inner of nested ? nodesWithin(node) : [node]) {
      for (const b of inner.inputs) for (const from of promiseNodes(b.binding)) if (ids.has(from) && from !== node.id) mine.add(from);
    }
    deps.set(node.id, mine);
  }
  return deps;
}

/** A node and the nodes inside it: branch cases (nested branches' too) and an array node's sub-node. */
function nodesWithin(node: Node): Node[] {
  const found: Node[] = [node];
  const target = node.target;
  if (target.case === "branchNode" && target.value.ifElse) {
    const ifElse = target.value.ifElse;
    for (const block of [ifElse.case, ...ifElse.other]) if (block?.thenNode) found.push(...nodesWithin(block.thenNode));
    if (ifElse.default.case === "elseNode") found.push(...nodesWithin(ifElse.default.value));
  } else if (target.case === "arrayNode" && target.value.node) found.push(...nodesWithin(target.value.node));
  return found;
}

function dependentsOf(deps: Map<string, Set<string>>): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const [id, mine] of deps) {
    for (const d of mine) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(id);
    }
  }
  return dependents;
}

/** The top-level nodes that wait for a node, directly or through others. */
function descendantsIn(dependents: Map<string, string[]>, nodeId: string): Set<string> {
  const found = new Set<string>();
  const stack = [...(dependents.get(nodeId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (found.has(id)) continue;
    found.add(id);
    stack.push(...(dependents.get(id) ?? []));
  }
  return found;
}

/** The nodes in an order where each comes after what it waits for (Kahn's, list order first); the rest are in cycles. */
function dependencyOrder(nodes: Node[], deps: Map<string, Set<string>>): { ordered: Node[]; stuck: Node[] } {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, Node[]>();
  for (const node of nodes) {
    const mine = deps.get(node.id) ?? new Set<string>();
    waiting.set(node.id, mine.size);
    for (const d of mine) {
      let list = dependents.get(d);
      if (!list) dependents.set(d, (list = []));
      list.push(node);
    }
  }
  const queue = nodes.filter((n) => waiting.get(n.id) === 0);
  const ordered: Node[] = [];
  const placed = new Set<Node>();
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    if (placed.has(node)) continue;
    placed.add(node);
    ordered.push(node);
    for (const d of dependents.get(node.id) ?? []) {
      const left = waiting.get(d.id)! - 1;
      waiting.set(d.id, left);
      if (left === 0) queue.push(d);
    }
  }
  return { ordered, stuck: nodes.filter((n) => !placed.has(n)) };
}

function promiseNodes(data: BindingData | undefined): string[] {
  const v = data?.value;
  if (v?.case === "promise") return [v.value.nodeId || startNode];
  if (v?.case === "collection") return v.value.bindings.flatMap(promiseNodes);
  if (v?.case === "map") return Object.values(v.value.bindings).flatMap(promiseNodes);
  return [];
}
