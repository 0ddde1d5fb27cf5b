// Builds a workflow's WorkflowTemplate from a trace of its body: node ids n0…, bindings, upstream ids and
// outputs, with every wiring mistake reported with the node, the input, both types and the user's line.
import { create } from "@bufbuild/protobuf";
import { ResourceType } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { WorkflowMetadata_OnFailurePolicy, WorkflowTemplateSchema, type WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import type { Binding } from "../idl/gen/flyteidl/core/literals_pb.js";
import { definitionOf, isEntity, userLocation, type Entity, type WorkflowDefinition } from "../sdk/entity.js";
import { describeTracedNode, isOutputRef, startNodeId, traceWorkflow, type OutputRef, type TracedWorkflow } from "../sdk/trace.js";
import { BindingProblem, bindValue, type BindingScope } from "./bindings.js";
import { emitFailureNode, emitNodes, type NodeEmitContext } from "./emit-nodes.js";
import { identifier, typedInterface, type EmitSettings } from "./emit-task.js";
import { relativeLocation, type DiscoveredEntity } from "./names.js";
import { UserError, type CompileProblem } from "../errors.js";

export interface WorkflowEmitContext {
  settings: EmitSettings;
  projectRoot: string;
  /** The discovered entity for a called entity, or undefined when it is not exported. */
  lookup(entity: Entity): DiscoveredEntity | undefined;
  /** A readable name for an entity in messages. */
  label(entity: Entity): string;
}

export interface EmittedWorkflow {
  template?: WorkflowTemplate;
  /** Workflows this one calls as subworkflows (directly). */
  subworkflows: DiscoveredEntity[];
  problems: CompileProblem[];
}

function shortName(found: DiscoveredEntity): string {
  return found.definition.explicitName ? found.name.split(".").pop()! : found.exportName;
}

/** Traces a workflow body and emits its template. */
export function emitWorkflowTemplate(found: DiscoveredEntity, ctx: WorkflowEmitContext): EmittedWorkflow {
  const definition = found.definition as WorkflowDefinition;
  const problems: CompileProblem[] = [];
  const problem = (message: string, site?: Error) =>
    problems.push({ entity: found.name, message, location: relativeLocation(ctx.projectRoot, userLocation(site)) ?? found.location });

  let traced: TracedWorkflow;
  try {
    traced = traceWorkflow(definition, ctx.label);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    problem(e instanceof UserError ? message : `its body threw while building the graph: ${message}`, e instanceof Error ? e : undefined);
    return { subworkflows: [], problems };
  }

  const ownRefs = traced.refs;
  const subworkflows: DiscoveredEntity[] = [];
  const nodeCtx: NodeEmitContext = {
    traced,
    label: ctx.label,
    problem,
    nodeName: (entity) => {
      const callee = ctx.lookup(entity);
      return callee ? shortName(callee) : ctx.label(entity);
    },
    idOf: (entity, calleeDefinition, site, where) => {
      const callee = ctx.lookup(entity);
      if (!callee) {
        const declared = relativeLocation(ctx.projectRoot, userLocation(calleeDefinition.definedAt));
        const kind = calleeDefinition.kind === "launchPlan" ? "launch plan" : calleeDefinition.kind;
        problem(`${where} calls a ${kind} that is not exported${declared ? ` (declared at ${declared})` : ""}; export it from its module so it can be registered and run`, site);
        return undefined;
      }
      if (callee.kind === "workflow" && !subworkflows.includes(callee)) subworkflows.push(callee);
      return identifier(
        callee.kind === "task" ? ResourceType.TASK : callee.kind === "workflow" ? ResourceType.WORKFLOW : ResourceType.LAUNCH_PLAN,
        callee.name,
        ctx.settings,
      );
    },
  };
  const nodes = emitNodes(nodeCtx);
  const failureEntity = isEntity(definition.options.onFailure) ? definition.options.onFailure : undefined;
  const failureNode = failureEntity
    ? emitFailureNode(nodeCtx, failureEntity, definitionOf(failureEntity)!, definition.inputs, definition.definedAt)
    : undefined;
  const nodeLabels = new Map<string, string>();
  for (const node of traced.nodes) nodeLabels.set(node.id, `${node.id} (${node.kind === "branch" || node.kind === "gate" ? describeTracedNode(node, ctx.label) : ctx.label(node.entity)})`);
  const describeNode = (nodeId: string) => nodeLabels.get(nodeId) ?? nodeId;
  const describeRef = (ref: OutputRef) =>
    ref.nodeId === startNodeId ? `workflow input "${ref.varName}"` : `output "${ref.varName}" of node ${nodeLabels.get(ref.nodeId)}`;
  const notOwned = (ref: OutputRef) =>
    traced.caseRefs.has(ref)
      ? `is bound to output "${ref.varName}" of node ${ref.nodeId}, which runs inside a conditional; return the conditional's result instead`
      : undefined;

  const outputs = bindWorkflowOutputs(
    definition,
    traced,
    { describeRef, describeNode, ownsRef: (r) => ownRefs.has(r), notOwned, upstream: new Set() },
    (m) => problem(m, definition.definedAt),
  );
  if (problems.length) return { subworkflows, problems };

  const onFailure =
    (definition.options.failurePolicy ?? definition.options.onFailure) === "fail-after-executable-nodes-complete"
      ? WorkflowMetadata_OnFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
      : WorkflowMetadata_OnFailurePolicy.FAIL_IMMEDIATELY;
  const template = create(WorkflowTemplateSchema, {
    id: identifier(ResourceType.WORKFLOW, found.name, ctx.settings),
    metadata: { onFailure },
    metadataDefaults: {},
    interface: typedInterface(definition.inputs, definition.outputs),
    nodes,
    outputs,
    ...(failureNode ? { failureNode } : {}),
  });
  return { template, subworkflows, problems };
}

function bindWorkflowOutputs(
  definition: WorkflowDefinition,
  traced: TracedWorkflow,
  scope: BindingScope,
  problem: (message: string) => void,
): Binding[] {
  const names = Object.keys(definition.outputs);
  const result = traced.result;
  if (names.length === 0) return [];
  let returned: Record<string, unknown>;
  if (definition.singleOutput) returned = { [names[0]]: result };
  else if (typeof result === "object" && result !== null && !isOutputRef(result) && !Array.isArray(result)) returned = result as Record<string, unknown>;
  else {
    problem(`its body must return an object with the outputs ${names.join(", ")}, got ${result === undefined ? "nothing" : typeof result}`);
    return [];
  }
  const bindings: Binding[] = [];
  for (const name of Object.keys(returned)) {
    if (!(name in definition.outputs)) problem(`its body returns "${name}", which is not a declared output (outputs: ${names.join(", ")})`);
  }
  for (const name of names) {
    const value = returned[name];
    if (value === undefined) {
      problem(`its body does not return output "${name}" (${definition.outputs[name].name})`);
      continue;
    }
    try {
      bindings.push({
        $typeName: "flyteidl.core.Binding",
        var: name,
        binding: bindValue(value, definition.outputs[name], `workflow output "${name}"`, scope),
      });
    } catch (e) {
      if (!(e instanceof BindingProblem)) throw e;
      problem(e.message);
    }
  }
  return bindings;
}
