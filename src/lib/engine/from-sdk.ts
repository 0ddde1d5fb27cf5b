// Executables from SDK entities held in this process: local runs and direct calls. Built once per definition
// and naming function, so a run of a thousand nodes does not rebuild them. Never runs a task.
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { UserError } from "../errors.js";
import { definitionOf, type Definition, type Entity, type LaunchPlanDefinition, type TaskDefinition, type WorkflowDefinition } from "../sdk/entity.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { parseDuration } from "../types/duration.js";
import { interfaceHash } from "./cache-key.js";
import type { ExecLaunchPlan, ExecTask, ExecWorkflow, Executable, WorkflowPlan } from "./executable.js";
import { planWorkflow } from "./plan.js";

export type NameOf = (entity: Entity) => string;

const built = new WeakMap<NameOf, WeakMap<Definition, Executable>>();

/** The executable for an entity; a non-entity is a UserError. */
export function executableOf(entity: Entity, nameOf: NameOf): Executable {
  const def = definitionOf(entity);
  if (!def) throw new UserError("only tasks, workflows and launch plans can be executed");
  let byDef = built.get(nameOf);
  if (!byDef) built.set(nameOf, (byDef = new WeakMap()));
  let executable = byDef.get(def);
  if (!executable) byDef.set(def, (executable = build(entity, def, nameOf)));
  return executable;
}

function build(entity: Entity, def: Definition, nameOf: NameOf): Executable {
  const name = nameOf(entity);
  switch (def.kind) {
    case "task":
      return taskExecutable(name, def);
    case "workflow":
      return workflowExecutable(name, def, nameOf);
    case "launchPlan":
      return launchPlanExecutable(name, def, nameOf);
  }
}

function taskExecutable(name: string, def: TaskDefinition): ExecTask {
  const cache = def.options.cache || undefined;
  return {
    kind: "task",
    name,
    retries: def.options.retries ?? 0,
    timeoutMs: def.options.timeout === undefined ? undefined : parseDuration(def.options.timeout),
    ...(def.options.interruptible !== undefined ? { interruptible: def.options.interruptible } : {}),
    cache: cache && { version: cache.version, serialize: cache.serialize ?? false, ignoredInputs: cache.ignoredInputs ?? [] },
    get interfaceHash() {
      return interfaceHash(def);
    },
    runnable: { name, definition: def },
    completeInputs: (given) => completeInputs(def, given, name),
    inputNames: Object.keys(def.inputs),
    outputNames: Object.keys(def.outputs),
  };
}

function workflowExecutable(name: string, def: WorkflowDefinition, nameOf: NameOf): ExecWorkflow {
  let plan: WorkflowPlan | undefined;
  return {
    kind: "workflow",
    name,
    failFast: (def.options.failurePolicy ?? (typeof def.options.onFailure === "string" ? def.options.onFailure : "fail-immediately")) === "fail-immediately",
    plan() {
      return (plan ??= planWorkflow(def, nameOf, name, (entity) => executableOf(entity, nameOf)));
    },
    completeInputs: (given) => completeInputs(def, given, name),
    inputNames: Object.keys(def.inputs),
    outputNames: Object.keys(def.outputs),
  };
}

function launchPlanExecutable(name: string, def: LaunchPlanDefinition, nameOf: NameOf): ExecLaunchPlan {
  const workflow = executableOf(def.workflow, nameOf);
  if (workflow.kind !== "workflow") throw new UserError(`launch plan ${name} does not launch a workflow`);
  return { kind: "launchPlan", name, workflow, completeInputs: (given) => completeInputs(def, given, name), inputNames: Object.keys(def.inputs), outputNames: workflow.outputNames };
}

/**
 * Fills in what the caller left out: the entity's defaults, a launch plan's defaults and fixed inputs, and
 * NONE for optional inputs. A required input that is still missing is the caller's error.
 */
function completeInputs(def: Definition, given: LiteralMap, name: string): LiteralMap {
  const literals: Record<string, Literal> = {};
  const missing: string[] = [];
  for (const [input, type] of Object.entries(def.inputs)) {
    const literal = given.literals[input] ?? defaultLiteral(type, input);
    if (literal) literals[input] = literal;
    else missing.push(`${input} (${type.name})`);
  }
  const unknown = Object.keys(given.literals).filter((k) => !(k in def.inputs));
  if (def.kind === "launchPlan") {
    const wf = definitionOf(def.workflow) as WorkflowDefinition;
    const fixed = unknown.filter((k) => k in def.fixedInputs);
    if (fixed.length) throw new UserError(`${name}: ${fixed.join(", ")} ${fixed.length > 1 ? "are" : "is"} fixed by the launch plan and cannot be given`);
    for (const [input, value] of Object.entries(def.fixedInputs)) literals[input] = wf.inputs[input].toLiteral(value, input);
  }
  const problems = [
    ...unknown.map((k) => `unknown input "${k}" (inputs: ${Object.keys(def.inputs).join(", ") || "none"})`),
    ...missing.map((m) => `missing input ${m}`),
  ];
  if (problems.length) throw new UserError(`${name}: ${problems.join("; ")}`);
  return create(LiteralMapSchema, { literals });
}

function defaultLiteral(type: AnyType, name: string): Literal | undefined {
  if (type.hasDefault) return type.toLiteral(type.defaultValue, name);
  if (acceptsNone(type)) return type.toLiteral(null, name);
  return undefined;
}
