// Loads everything a registered entity reaches — its workflow, subworkflows, launch plans and task templates —
// from the registry into one IrClosure. Registered versions are immutable, so closures are kept once loaded.
import { fromBinary } from "@bufbuild/protobuf";
import { TaskSpecSchema } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSpecSchema, type LaunchPlanSpec } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { nodesOf } from "../compiler/registration-ids.js";
import { UserError } from "../errors.js";
import { idKey, nodeReference, type IrClosure, type IrRoot } from "../engine/from-ir.js";
import type { EntityResource, RegistryStore } from "../store/records.js";

// Per store: two registries (two servers in one process) may hold different entities under one id.
const keptByStore = new WeakMap<RegistryStore, Map<string, IrClosure>>();
const keptLimit = 500;

export async function loadClosure(store: RegistryStore, root: IrRoot): Promise<IrClosure> {
  let kept = keptByStore.get(store);
  if (!kept) keptByStore.set(store, (kept = new Map()));
  const rootKey = `${root.kind}:${idKey(root.id)}`;
  const cached = kept.get(rootKey);
  if (cached) return cached;
  const tasks = new Map<string, TaskTemplate>();
  const workflows = new Map<string, WorkflowTemplate>();
  const launchPlans = new Map<string, LaunchPlanSpec>();
  const pending: IrRoot[] = [root];
  const seen = new Set<string>();
  while (pending.length) {
    const ref = pending.pop()!;
    const key = idKey(ref.id);
    if (seen.has(`${ref.kind}:${key}`)) continue;
    seen.add(`${ref.kind}:${key}`);
    if (ref.kind === "workflow" && workflows.has(key)) continue;
    const spec = await readSpec(store, ref);
    if (ref.kind === "task") {
      const template = fromBinary(TaskSpecSchema, spec).template;
      if (!template) throw new UserError(`task ${key} was registered without a template`);
      tasks.set(key, template);
    } else if (ref.kind === "launchPlan") {
      const plan = fromBinary(LaunchPlanSpecSchema, spec);
      launchPlans.set(key, plan);
      if (plan.workflowId) pending.push({ kind: "workflow", id: plan.workflowId });
    } else {
      const workflow = fromBinary(WorkflowSpecSchema, spec);
      for (const template of [workflow.template, ...workflow.subWorkflows]) {
        if (!template?.id) continue;
        workflows.set(idKey(template.id), template);
        // Branch cases, array nodes' sub-nodes and the failure node call entities too.
        for (const node of nodesOf([template])) {
          const reached = nodeReference(node);
          if (reached && !(reached.kind === "workflow" && workflows.has(idKey(reached.id)))) pending.push(reached);
        }
      }
    }
  }
  const closure: IrClosure = { tasks, workflows, launchPlans };
  if (kept.size >= keptLimit) kept.delete(kept.keys().next().value!);
  kept.set(rootKey, closure);
  return closure;
}

async function readSpec(store: RegistryStore, ref: IrRoot): Promise<Uint8Array> {
  const resource: EntityResource = ref.kind;
  const { project, domain, name, version } = ref.id;
  const record = await store.getEntity(resource, { project, domain, name, version });
  if (!record) throw new UserError(`${resource === "launchPlan" ? "launch plan" : resource} ${idKey(ref.id)} is not registered`);
  return record.spec;
}

/** Everything these entities reach, as one closure: what a dynamic workflow's spec names but does not carry. */
export async function loadReferences(store: RegistryStore, roots: readonly IrRoot[]): Promise<IrClosure> {
  const merged = { tasks: new Map<string, TaskTemplate>(), workflows: new Map<string, WorkflowTemplate>(), launchPlans: new Map<string, LaunchPlanSpec>() };
  for (const root of roots) {
    const closure = await loadClosure(store, root);
    for (const [k, v] of closure.tasks) merged.tasks.set(k, v);
    for (const [k, v] of closure.workflows) merged.workflows.set(k, v);
    for (const [k, v] of closure.launchPlans) merged.launchPlans.set(k, v);
  }
  return merged;
}
