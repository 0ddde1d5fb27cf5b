// Execution plans of SDK workflows: a workflow body's trace emitted as Flyte IR nodes (the compiler's own emitter)
// and planned as registered workflows are, made once per definition. Never runs user code but the body's trace.
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { ResourceType } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { create } from "@bufbuild/protobuf";
import { LiteralSchema, type BindingData, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { UserError } from "../errors.js";
import { bindTracedOutputs, emitFailureNode, emitNodes, traceBindingScope, type NodeEmitContext } from "../compiler/emit-nodes.js";
import { definitionOf, isEntity, type Definition, type Entity, type WorkflowDefinition } from "../sdk/entity.js";
import { traceWorkflow } from "../sdk/trace.js";
import type { Executable, PlannedCall, PlannedNode, WorkflowPlan } from "./executable.js";
import { planNode, type IrRoot } from "./from-ir.js";

const plans = new WeakMap<WorkflowDefinition, WorkflowPlan>();

const resourceTypes = { task: ResourceType.TASK, workflow: ResourceType.WORKFLOW, launchPlan: ResourceType.LAUNCH_PLAN } as const;

/** The id an entity run in this process has in emitted IR: its name, version `local`; only its own process reads it. */
export function localIdentifier(kind: Definition["kind"], name: string): Identifier {
  return { $typeName: "flyteidl.core.Identifier", resourceType: resourceTypes[kind], project: "", domain: "", name, version: "local", org: "" };
}

/**
 * Traces a workflow body and plans its nodes. A wiring mistake the compiler would report is a UserError listing every
 * problem, so a workflow never starts half-wired.
 */
export function planWorkflow(
  def: WorkflowDefinition,
  label: (entity: Entity) => string,
  workflowName: string,
  executableOf: (entity: Entity) => Executable,
): WorkflowPlan {
  const cached = plans.get(def);
  if (cached) return cached;
  const traced = traceWorkflow(def, label);
  const problems: string[] = [];
  // Local runs name entities by the compiler's names; the ids only connect the emitted nodes back to the entities.
  const entities = new Map<string, Entity>();
  const ctx: NodeEmitContext = {
    traced,
    label,
    problem: (message) => problems.push(message),
    nodeName: (entity) => label(entity).split(".").pop()!,
    idOf: (entity, definition): Identifier => {
      const name = label(entity);
      entities.set(`${definition.kind}:${name}`, entity);
      return localIdentifier(definition.kind, name);
    },
  };
  const irNodes = emitNodes(ctx);
  const onFailure = isEntity(def.options.onFailure) ? def.options.onFailure : undefined;
  const irFailure = onFailure ? emitFailureNode(ctx, onFailure, definitionOf(onFailure)!, def.inputs, def.definedAt) : undefined;
  const outputs = bindTracedOutputs(def.outputs, def.singleOutput, traced, traceBindingScope(traced, label), problems);
  if (problems.length) throw new UserError(`workflow ${workflowName} cannot run:\n  ${problems.join("\n  ")}`, "tsflyte compile shows where each problem is");
  const get = (ref: IrRoot) => executableOf(entities.get(`${ref.kind}:${ref.id.name}`)!);
  const nodes = orderNodes(irNodes.map((node) => planNode(workflowName, node, get)));
  const failureNode = irFailure ? (planNode(workflowName, irFailure, get) as PlannedCall) : undefined;
  const plan: WorkflowPlan = { nodes, outputs, ...(failureNode ? { failureNode } : {}) };
  plans.set(def, plan);
  return plan;
}

/** Trace order already puts each node after the nodes it reads; `after(...)` may point forward, so order again. */
function orderNodes(nodes: PlannedNode[]): PlannedNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const ordered: PlannedNode[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: PlannedNode) => {
    const seen = state.get(node.id);
    if (seen === "done") return;
    if (seen === "visiting") throw new UserError(`node ${node.id} must run after itself: after(...) made a cycle`);
    state.set(node.id, "visiting");
    for (const up of node.upstream) {
      const upstream = byId.get(up);
      if (upstream) visit(upstream);
    }
    state.set(node.id, "done");
    ordered.push(node);
  };
  for (const node of nodes) visit(node);
  return ordered;
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
