// What the compile checks of every node kind share: the outputs known so far, where a node sits (top level, a
// branch case, an array node, the failure node) and the binding checks. Pure: never reads the registry itself.
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { Binding, BindingData, Primitive } from "../idl/gen/flyteidl/core/literals_pb.js";
import { create } from "@bufbuild/protobuf";
import { LiteralTypeSchema, SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { Node } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { describeLiteralType, isCastable } from "../types/compat.js";

/** The interface of something a node calls, as the checks need it. */
export interface CalleeInterface {
  inputs: Record<string, { type?: LiteralType; required: boolean }>;
  outputs: Record<string, LiteralType | undefined>;
}

export type InterfaceLookup = (kind: "task" | "workflow" | "launchPlan", id: Identifier) => CalleeInterface | undefined;

export type Outputs = Record<string, LiteralType | undefined>;

export const startNode = "start-node";
export const endNode = "end-node";

export interface CheckScope {
  lookup: InterfaceLookup;
  problems: string[];
  /** The ids of the workflow's own nodes. */
  topLevelIds: Set<string>;
  /** Outputs of the top-level nodes (and the workflow inputs as start-node's), by node id. */
  outputsOf: Map<string, Outputs>;
  /** Nodes whose outputs could not be worked out, reported once already: what reads them is not reported again. */
  opaque: Set<string>;
  /** Branch outputs that some case does not produce: node id → output → the case(s) lacking it. */
  partialOutputs: Map<string, Map<string, string>>;
  /**
   * The top-level nodes a node nested in a top-level node may read: all but that node and what waits for it (through
   * upstream ids and bindings), which would make a cycle. FlytePropeller adds an edge for each such read, as here.
   */
  readableInside(nodeId: string): Set<string>;
  /** Checks any node where it sits and returns its outputs (undefined: unknown, reported). */
  checkNode(node: Node, place: NodePlace): Outputs | undefined;
}

/** Where a node sits: how messages name it, and which nodes its bindings may read. */
export interface NodePlace {
  /** "node n1", "node n1-n0 (the if case of branch node n1)", "failure node fn0". */
  label: string;
  /** The node's id, prefixed by its branch's or array node's (Flyte names a case's node `<branch>-<node>`). */
  path: string;
  /** A node of the workflow's own list (others are inside a branch or an array node, or the failure node). */
  topLevel?: boolean;
  /** Node ids (besides the workflow inputs) its bindings may read; with the reason given when one is not. */
  readable?: { ids: Set<string>; why: (nodeId: string) => string };
  /** Inputs the caller feeds itself, so they need no binding (the failure node's `err`). */
  fedInputs?: (name: string, type: LiteralType | undefined) => boolean;
}

export function idText(id: Identifier | undefined): string {
  return id ? `${id.name}@${id.version}` : "(no id)";
}

/** The entity a task / workflow / launch plan node calls, with its interface; reports a missing reference. */
export function calleeOf(node: Node, place: NodePlace, scope: CheckScope): { callee?: CalleeInterface; refText: string } | undefined {
  const target = node.target;
  let refText: string;
  let callee: CalleeInterface | undefined;
  if (target.case === "taskNode" && target.value.reference.case === "referenceId") {
    refText = `task ${idText(target.value.reference.value)}`;
    callee = scope.lookup("task", target.value.reference.value);
  } else if (target.case === "workflowNode" && target.value.reference.case === "subWorkflowRef") {
    refText = `workflow ${idText(target.value.reference.value)}`;
    callee = scope.lookup("workflow", target.value.reference.value);
  } else if (target.case === "workflowNode" && target.value.reference.case === "launchplanRef") {
    refText = `launch plan ${idText(target.value.reference.value)}`;
    callee = scope.lookup("launchPlan", target.value.reference.value);
  } else {
    return undefined;
  }
  if (!callee) scope.problems.push(`${place.label} refers to ${refText}, which does not exist`);
  return { callee, refText };
}

/**
 * A node's bindings against the types it expects (`expected` answers per input, undefined = not an input), every
 * required input bound. `upstream` (for top-level nodes) is the set of nodes it lists; reads of others are reported.
 */
export function checkInputBindings(
  bindings: Binding[],
  inputs: CalleeInterface["inputs"],
  expectedOf: (name: string) => LiteralType | undefined,
  place: NodePlace,
  scope: CheckScope,
  upstream?: Set<string>,
): void {
  const bound = new Set<string>();
  for (const binding of bindings) {
    if (bound.has(binding.var)) scope.problems.push(`${place.label} binds "${binding.var}" twice; keep one binding`);
    bound.add(binding.var);
    if (!inputs[binding.var]) {
      scope.problems.push(`${place.label} binds "${binding.var}", which is not one of its inputs`);
      continue;
    }
    if (binding.binding) checkBindingData(binding.binding, expectedOf(binding.var), `${place.label} input "${binding.var}"`, scope, { upstream, readable: place.readable });
    else scope.problems.push(`${place.label} input "${binding.var}" has an empty binding`);
  }
  for (const [name, input] of Object.entries(inputs)) {
    if (input.required && !bound.has(name) && !place.fedInputs?.(name, input.type)) scope.problems.push(`${place.label} does not bind its required input "${name}"`);
  }
}

interface ReadRules {
  /** For a top-level node's inputs: the nodes it lists upstream. */
  upstream?: Set<string>;
  readable?: NodePlace["readable"];
}

export function checkBindingData(data: BindingData, expected: LiteralType | undefined, at: string, scope: CheckScope, rules: ReadRules = {}): void {
  const v = data.value;
  if (v.case === "promise") {
    const nodeId = v.value.nodeId || startNode;
    const outputs = scope.outputsOf.get(nodeId);
    if (rules.readable && nodeId !== startNode && !rules.readable.ids.has(nodeId) && (outputs || scope.topLevelIds.has(nodeId))) {
      scope.problems.push(`${at} reads node ${nodeId}, ${rules.readable.why(nodeId)}`);
      return;
    }
    if (scope.opaque.has(nodeId)) return;
    if (!outputs) {
      scope.problems.push(`${at} reads node ${nodeId}, which does not exist`);
      return;
    }
    if (!(v.value.var in outputs)) {
      const lacking = scope.partialOutputs.get(nodeId)?.get(v.value.var);
      if (lacking) {
        scope.problems.push(`${at} reads "${v.value.var}" of branch node ${nodeId}, which ${lacking} does not produce; a branch has only the outputs every case produces, so add it to that case or read something else`);
        return;
      }
      scope.problems.push(`${at} reads "${v.value.var}" of ${nodeId === startNode ? "the workflow inputs" : `node ${nodeId}`}, which has no such ${nodeId === startNode ? "input" : "output"}`);
      return;
    }
    if (rules.upstream && nodeId !== startNode && !rules.upstream.has(nodeId)) scope.problems.push(`${at} reads node ${nodeId}, which is not among its upstream nodes`);
    const actual = outputs[v.value.var];
    if (expected && actual && !isCastable(actual, expected)) {
      scope.problems.push(`${at} expects ${describeLiteralType(expected)}, but ${nodeId}.${v.value.var} is ${describeLiteralType(actual)}`);
    }
  } else if (v.case === "collection") {
    const element = expected?.type.case === "collectionType" ? expected.type.value : undefined;
    if (expected && !element && expected.type.case !== "unionType") scope.problems.push(`${at} expects ${describeLiteralType(expected)}, but is bound to a list`);
    v.value.bindings.forEach((b, i) => checkBindingData(b, element, `${at}[${i}]`, scope, rules));
  } else if (v.case === "map") {
    const valueType = expected?.type.case === "mapValueType" ? expected.type.value : undefined;
    for (const [k, b] of Object.entries(v.value.bindings)) checkBindingData(b, valueType, `${at}.${k}`, scope, rules);
  }
}

/** The type a binding delivers, where it can be told: a promise's output type or a literal primitive's type. */
export function bindingType(data: BindingData | undefined, scope: CheckScope): LiteralType | undefined {
  const v = data?.value;
  if (v?.case === "promise") return scope.outputsOf.get(v.value.nodeId || startNode)?.[v.value.var];
  if (v?.case === "scalar" && v.value.value.case === "primitive") return primitiveType(v.value.value.value);
  return undefined;
}

const primitiveSimpleTypes: Record<string, SimpleType> = {
  integer: SimpleType.INTEGER,
  floatValue: SimpleType.FLOAT,
  stringValue: SimpleType.STRING,
  boolean: SimpleType.BOOLEAN,
  datetime: SimpleType.DATETIME,
  duration: SimpleType.DURATION,
};

export function primitiveType(p: Primitive): LiteralType | undefined {
  const simple = p.value.case ? primitiveSimpleTypes[p.value.case] : undefined;
  return simple === undefined ? undefined : simpleType(simple);
}

export function simpleType(simple: SimpleType): LiteralType {
  return create(LiteralTypeSchema, { type: { case: "simple", value: simple } });
}
