// A workflow spec resolved against the registry: the tasks, subworkflows and launch plans it calls, the compile
// checks FlyteAdmin runs on it, and the CompiledWorkflowClosure it answers with. Never writes to the store.
import { create } from "@bufbuild/protobuf";
import type { LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import type { WorkflowSpec } from "../../idl/gen/flyteidl/admin/workflow_pb.js";
import {
  CompiledWorkflowClosureSchema,
  type CompiledWorkflow,
  type CompiledWorkflowClosure,
  type ConnectionSet_IdList,
} from "../../idl/gen/flyteidl/core/compiler_pb.js";
import type { Identifier } from "../../idl/gen/flyteidl/core/identifier_pb.js";
import type { TypedInterface, VariableMap } from "../../idl/gen/flyteidl/core/interface_pb.js";
import type { BindingData } from "../../idl/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../idl/gen/flyteidl/core/tasks_pb.js";
import { SimpleType, type LiteralType } from "../../idl/gen/flyteidl/core/types_pb.js";
import type { WorkflowTemplate } from "../../idl/gen/flyteidl/core/workflow_pb.js";
import { nodesOf } from "../../compiler/registration-ids.js";
import { checkWorkflowTemplate, type CalleeInterface, type InterfaceLookup } from "../../compiler/checks.js";
import { entityCacheKey, type RegistryReader } from "./registry-reader.js";

/** A launch plan a node calls, with the interface of the workflow it launches. */
export interface ResolvedLaunchPlan {
  id: Identifier;
  spec: LaunchPlanSpec;
  workflowInterface?: TypedInterface;
}

/** Everything a workflow spec refers to that could be found, keyed by `entityCacheKey`. */
export interface ResolvedReferences {
  tasks: Map<string, TaskTemplate>;
  workflows: Map<string, WorkflowTemplate>;
  launchPlans: Map<string, ResolvedLaunchPlan>;
}

// A registry of a few thousand entities resolves in one pass; this bounds a hostile spec.
const maxReferences = 10_000;

/**
 * Follows the spec's references through the registry: tasks, subworkflows (from the spec first, then registered
 * ones, with their own references) and launch plans (with their workflow's interface).
 */
export async function resolveReferences(spec: WorkflowSpec, registry: RegistryReader): Promise<ResolvedReferences> {
  const resolved: ResolvedReferences = { tasks: new Map(), workflows: new Map(), launchPlans: new Map() };
  const carried = new Map<string, WorkflowTemplate>();
  for (const sub of spec.subWorkflows) if (sub.id) carried.set(entityCacheKey("workflow", sub.id), sub);
  let pending: WorkflowTemplate[] = spec.template ? [spec.template] : [];
  const seen = new Set<string>();
  if (spec.template?.id) seen.add(entityCacheKey("workflow", spec.template.id));
  while (pending.length && seen.size < maxReferences) {
    const next: WorkflowTemplate[] = [];
    const lookups: Promise<void>[] = [];
    for (const template of pending) {
      // Nodes inside branches and array nodes, and the failure node, call entities too.
      for (const node of nodesOf([template])) {
        const target = node.target;
        if (target.case === "taskNode" && target.value.reference.case === "referenceId") {
          const id = target.value.reference.value;
          const key = entityCacheKey("task", id);
          if (seen.has(key)) continue;
          seen.add(key);
          lookups.push(
            registry.taskSpec(id).then((s) => {
              if (s?.template) resolved.tasks.set(key, s.template);
            }),
          );
        } else if (target.case === "workflowNode" && target.value.reference.case === "subWorkflowRef") {
          const id = target.value.reference.value;
          const key = entityCacheKey("workflow", id);
          if (seen.has(key)) continue;
          seen.add(key);
          const inSpec = carried.get(key);
          if (inSpec) {
            resolved.workflows.set(key, inSpec);
            next.push(inSpec);
            continue;
          }
          lookups.push(
            registry.workflowSpec(id).then((s) => {
              if (!s?.template) return;
              resolved.workflows.set(key, s.template);
              next.push(s.template);
              for (const sub of s.subWorkflows) if (sub.id) carried.set(entityCacheKey("workflow", sub.id), sub);
            }),
          );
        } else if (target.case === "workflowNode" && target.value.reference.case === "launchplanRef") {
          const id = target.value.reference.value;
          const key = entityCacheKey("launchPlan", id);
          if (seen.has(key)) continue;
          seen.add(key);
          lookups.push(
            registry.launchPlanSpec(id).then(async (s) => {
              if (!s) return;
              const workflow = s.workflowId ? await registry.workflowSpec(s.workflowId) : undefined;
              resolved.launchPlans.set(key, { id, spec: s, workflowInterface: workflow?.template?.interface });
            }),
          );
        }
      }
    }
    await Promise.all(lookups);
    pending = next;
  }
  return resolved;
}

function acceptsNone(type: LiteralType | undefined): boolean {
  const t = type?.type;
  if (t?.case === "simple") return t.value === SimpleType.NONE;
  if (t?.case === "unionType") return t.value.variants.some(acceptsNone);
  return false;
}

function calleeOf(iface: TypedInterface | undefined): CalleeInterface {
  const inputs: CalleeInterface["inputs"] = {};
  for (const [name, v] of Object.entries(iface?.inputs?.variables ?? {})) inputs[name] = { type: v.type, required: !acceptsNone(v.type) };
  return { inputs, outputs: outputsOf(iface?.outputs) };
}

function outputsOf(vars: VariableMap | undefined): CalleeInterface["outputs"] {
  const outputs: CalleeInterface["outputs"] = {};
  for (const [name, v] of Object.entries(vars?.variables ?? {})) outputs[name] = v.type;
  return outputs;
}

/** The interface lookup the compile checks use, answering from what was resolved. */
export function lookupIn(resolved: ResolvedReferences): InterfaceLookup {
  return (kind, id) => {
    if (kind === "task") {
      const t = resolved.tasks.get(entityCacheKey("task", id));
      return t ? calleeOf(t.interface) : undefined;
    }
    if (kind === "workflow") {
      const w = resolved.workflows.get(entityCacheKey("workflow", id));
      return w ? calleeOf(w.interface) : undefined;
    }
    const lp = resolved.launchPlans.get(entityCacheKey("launchPlan", id));
    if (!lp) return undefined;
    // A launch plan node may leave out what the plan defaults; fixed inputs cannot be bound at all.
    const inputs: CalleeInterface["inputs"] = {};
    for (const [name, p] of Object.entries(lp.spec.defaultInputs?.parameters ?? {})) {
      inputs[name] = { type: p.var?.type, required: p.behavior.case === "required" && p.behavior.value };
    }
    return { inputs, outputs: outputsOf(lp.workflowInterface?.outputs) };
  };
}

/** The compile problems of the primary template and of every subworkflow it carries or calls. */
export function compileProblems(spec: WorkflowSpec, resolved: ResolvedReferences): string[] {
  if (!spec.template) return ["spec.template is required"];
  const lookup = lookupIn(resolved);
  const problems = checkWorkflowTemplate(spec.template, lookup);
  for (const sub of resolved.workflows.values()) {
    for (const p of checkWorkflowTemplate(sub, lookup)) problems.push(`subworkflow ${sub.id?.name ?? "(no id)"}: ${p}`);
  }
  return problems;
}

/** FlyteAdmin's CompiledWorkflowClosure: the workflow and its subworkflows with their edges, tasks and launch plans. */
export function buildClosure(spec: WorkflowSpec, resolved: ResolvedReferences): CompiledWorkflowClosure {
  const byId = (a: { id?: Identifier }, b: { id?: Identifier }) => idOrder(a.id).localeCompare(idOrder(b.id));
  return create(CompiledWorkflowClosureSchema, {
    primary: spec.template ? compiledWorkflow(spec.template) : undefined,
    subWorkflows: [...resolved.workflows.values()].sort(byId).map(compiledWorkflow),
    tasks: [...resolved.tasks.values()].sort(byId).map((template) => ({ template })),
    launchPlans: [...resolved.launchPlans.values()]
      .sort(byId)
      .map((lp) => ({
        template: {
          id: lp.id,
          interface: {
            inputs: { variables: Object.fromEntries(Object.entries(lp.spec.defaultInputs?.parameters ?? {}).map(([n, p]) => [n, p.var!])) },
            outputs: lp.workflowInterface?.outputs,
          },
          fixedInputs: lp.spec.fixedInputs,
        },
      })),
  });
}

function idOrder(id: Identifier | undefined): string {
  return id ? `${id.project}/${id.domain}/${id.name}/${id.version}` : "";
}

const startNode = "start-node";
const endNode = "end-node";

/** The template with its edges, as FlytePropeller's compiler writes them: start-node and end-node included. */
function compiledWorkflow(template: WorkflowTemplate): CompiledWorkflow {
  const upstream = new Map<string, Set<string>>();
  const add = (to: string, from: string) => {
    if (!upstream.has(to)) upstream.set(to, new Set());
    upstream.get(to)!.add(from);
  };
  const ids = new Set(template.nodes.map((n) => n.id));
  for (const node of template.nodes) {
    for (const u of node.upstreamNodeIds) if (ids.has(u)) add(node.id, u);
    for (const b of node.inputs) if (b.binding) for (const from of promiseNodes(b.binding)) add(node.id, from);
    if (!upstream.has(node.id)) add(node.id, startNode);
  }
  const hasDownstream = new Set<string>();
  for (const froms of upstream.values()) for (const f of froms) hasDownstream.add(f);
  for (const b of template.outputs) if (b.binding) for (const from of promiseNodes(b.binding)) add(endNode, from);
  for (const id of ids) if (!hasDownstream.has(id)) add(endNode, id);
  if (!upstream.has(endNode)) add(endNode, startNode);

  const downstream = new Map<string, Set<string>>();
  for (const [to, froms] of upstream) {
    for (const f of froms) {
      if (!downstream.has(f)) downstream.set(f, new Set());
      downstream.get(f)!.add(to);
    }
  }
  const idList = (m: Map<string, Set<string>>): Record<string, ConnectionSet_IdList> => {
    const out: Record<string, ConnectionSet_IdList> = {};
    for (const key of [...m.keys()].sort()) out[key] = { $typeName: "flyteidl.core.ConnectionSet.IdList", ids: [...m.get(key)!].sort() };
    return out;
  };
  return { $typeName: "flyteidl.core.CompiledWorkflow", template, connections: { $typeName: "flyteidl.core.ConnectionSet", upstream: idList(upstream), downstream: idList(downstream) } };
}

/** The nodes a binding reads from; a workflow input reads from the start node. */
function promiseNodes(data: BindingData): string[] {
  const v = data.value;
  if (v.case === "promise") return [v.value.nodeId || startNode];
  if (v.case === "collection") return v.value.bindings.flatMap(promiseNodes);
  if (v.case === "map") return Object.values(v.value.bindings).flatMap(promiseNodes);
  return [];
}
