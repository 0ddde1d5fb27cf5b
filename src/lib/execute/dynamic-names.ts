// Names what a dynamic workflow's body called, inside a task container, as registration named it: an entity's own
// `name:`, else its declaring module's path and its export name; the version is the running task's. Never guesses.
import { relative, sep } from "node:path";
import type { DynamicJobSpec } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { withNestedNodes } from "../compiler/registration-ids.js";
import { modulePathToDots } from "../compiler/names.js";
import type { DynamicOutcome } from "../engine/runner.js";
import { definitionOf, userLocation, type Entity } from "../sdk/entity.js";
import { userFailure } from "./failure.js";
import { loadModule, type TaskModuleRequest } from "./load-task.js";

export interface RegisteredScope {
  /** Where the code is, and how its modules are loaded (the running task's request). */
  request: TaskModuleRequest;
  /** The running task's registered id: what it calls was registered with it, under the same project, domain and version. */
  taskId: { project: string; domain: string; version: string };
}

/** The spec with every id naming the registered entity, so the control plane can run it. */
export async function registeredDynamicSpec(dynamic: DynamicOutcome, scope: RegisteredScope): Promise<DynamicJobSpec> {
  const names = new Map<string, string>();
  for (const [key, entity] of dynamic.entities ?? []) names.set(key, await registeredName(entity, scope.request));
  for (const node of withNestedNodes(dynamic.spec.nodes)) {
    const target = node.target;
    if (target.case === "taskNode" && target.value.reference.case === "referenceId") rename(target.value.reference.value, "task", names, scope);
    if (target.case === "workflowNode" && target.value.reference.value) {
      rename(target.value.reference.value, target.value.reference.case === "launchplanRef" ? "launchPlan" : "workflow", names, scope);
    }
  }
  return dynamic.spec;
}

function rename(id: Identifier, kind: string, names: Map<string, string>, scope: RegisteredScope): void {
  const name = names.get(`${kind}:${id.name}`);
  if (name === undefined) return;
  Object.assign(id, { project: scope.taskId.project, domain: scope.taskId.domain, name, version: scope.taskId.version });
}

async function registeredName(entity: Entity, request: TaskModuleRequest): Promise<string> {
  const definition = definitionOf(entity)!;
  if (definition.explicitName) return definition.explicitName;
  // Most often it is declared next to the dynamic workflow: the running module exports that very entity.
  const own = await loadModule(request);
  const exported = Object.keys(own)
    .sort()
    .find((name) => definitionOf(own[name]) === definition);
  if (exported) return `${modulePathToDots(request.module)}.${exported}`;
  const declared = userLocation(definition.definedAt);
  const file = declared?.replace(/:\d+:\d+$/, "");
  const modulePath = file ? relative(request.codeDir, file).split(sep).join("/") : undefined;
  if (!declared || !modulePath || modulePath.startsWith("..")) {
    throw userFailure("DynamicCalleeUnknown", `the dynamic workflow calls a ${definition.kind} declared at ${declared ?? "an unknown place"}, outside the registered code; give it a name: or declare it in the project`);
  }
  const exports = await loadModule({ ...request, module: modulePath });
  const exportName = Object.keys(exports)
    .sort()
    .find((name) => userLocation(definitionOf(exports[name])?.definedAt) === declared);
  if (!exportName) {
    throw userFailure(
      "DynamicCalleeNotExported",
      `the dynamic workflow calls a ${definition.kind} declared at ${modulePath}${declared.slice(file!.length)}, which its module does not export; export it so it is registered with the dynamic workflow`,
    );
  }
  return `${modulePathToDots(modulePath)}.${exportName}`;
}
