// Execution plans: a workflow's traced nodes with their inputs as Flyte BindingData, made once per workflow
// definition and reused by every execution. Never runs user code other than the workflow body's trace.
import { create } from "@bufbuild/protobuf";
import { LiteralSchema, type BindingData, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { UserError } from "../errors.js";
import { bindValue, BindingProblem, type BindingScope } from "../compiler/bindings.js";
import type { Definition, Entity, WorkflowDefinition } from "../sdk/entity.js";
import { startNodeId, traceWorkflow } from "../sdk/trace.js";
import { acceptsNone, type AnyType } from "../types/types.js";

export interface TracedNodePlan {
  /** The node id in the workflow (`n0`). */
  id: string;
  entity: Entity;
  definition: Definition;
  inputs: Record<string, BindingData>;
  /** Nodes whose outputs this node reads (never `start-node`). */
  upstream: string[];
}

export interface TracedWorkflowPlan {
  nodes: TracedNodePlan[];
  outputs: Record<string, BindingData>;
}

const plans = new WeakMap<WorkflowDefinition, TracedWorkflowPlan>();

/**
 * Traces a workflow body and binds every node input. A wiring mistake the compiler would report is a
 * UserError listing every problem, so a workflow never starts half-wired.
 */
export function planWorkflow(def: WorkflowDefinition, label: (entity: Entity) => string, workflowName: string): TracedWorkflowPlan {
  const cached = plans.get(def);
  if (cached) return cached;
  const traced = traceWorkflow(def, label);
  const problems: string[] = [];
  const describeNode = (id: string) => {
    const node = traced.nodes.find((n) => n.id === id);
    return node ? `${id} (${label(node.entity)})` : id;
  };
  const scopeFor = (upstream: Set<string>): BindingScope => ({
    describeRef: (ref) => (ref.nodeId === startNodeId ? `workflow input "${ref.varName}"` : `output "${ref.varName}" of node ${describeNode(ref.nodeId)}`),
    describeNode,
    ownsRef: (ref) => traced.refs.has(ref),
    upstream,
  });
  const nodes: TracedNodePlan[] = traced.nodes.map((node) => {
    const upstream = new Set<string>();
    const inputs = bindInputs(node.definition.inputs, node.args, scopeFor(upstream), `node ${node.id} (${label(node.entity)})`, problems);
    return { id: node.id, entity: node.entity, definition: node.definition, inputs, upstream: [...upstream] };
  });
  const outputs: Record<string, BindingData> = {};
  const names = Object.keys(def.outputs);
  const returned = def.singleOutput ? { [names[0]]: traced.result } : ((traced.result ?? {}) as Record<string, unknown>);
  for (const name of names) {
    try {
      outputs[name] = bindValue(returned[name], def.outputs[name], `output ${name}`, scopeFor(new Set()));
    } catch (e) {
      problems.push(e instanceof BindingProblem || e instanceof UserError ? e.message : String(e));
    }
  }
  if (problems.length) throw new UserError(`workflow ${workflowName} cannot run:\n  ${problems.join("\n  ")}`, "tsflyte compile shows where each problem is");
  const plan = { nodes, outputs };
  plans.set(def, plan);
  return plan;
}

function bindInputs(
  types: Record<string, AnyType>,
  args: Record<string, unknown>,
  scope: BindingScope,
  where: string,
  problems: string[],
): Record<string, BindingData> {
  const bindings: Record<string, BindingData> = {};
  for (const name of Object.keys(args)) if (!(name in types)) problems.push(`${where}: unknown input "${name}"`);
  for (const [name, type] of Object.entries(types)) {
    try {
      if (args[name] !== undefined) bindings[name] = bindValue(args[name], type, `${where}: input ${name}`, scope, name);
      else if (type.hasDefault) bindings[name] = bindValue(type.defaultValue, type, `${where}: input ${name}`, scope, name);
      else if (acceptsNone(type)) bindings[name] = bindValue(null, type, `${where}: input ${name}`, scope, name);
      else problems.push(`${where}: input ${name} (${type.name}) is not bound`);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  return bindings;
}

/** The literal a binding stands for, reading promises from the outputs of nodes that already ran. */
export function resolveBinding(binding: BindingData, outputs: ReadonlyMap<string, LiteralMap>): Literal {
  const v = binding.value;
  switch (v.case) {
    case "promise": {
      const literal = outputs.get(v.value.nodeId)?.literals[v.value.var];
      if (!literal) throw new Error(`no output "${v.value.var}" from node ${v.value.nodeId}`);
      return literal;
    }
    case "scalar":
      return create(LiteralSchema, { value: { case: "scalar", value: v.value } });
    case "collection":
      return create(LiteralSchema, {
        value: { case: "collection", value: { literals: v.value.bindings.map((b) => resolveBinding(b, outputs)) } },
      });
    case "map": {
      const literals: Record<string, Literal> = {};
      for (const [k, b] of Object.entries(v.value.bindings)) literals[k] = resolveBinding(b, outputs);
      return create(LiteralSchema, { value: { case: "map", value: { literals } } });
    }
    default:
      throw new Error(`cannot resolve a binding of kind ${v.case ?? "empty"}`);
  }
}
