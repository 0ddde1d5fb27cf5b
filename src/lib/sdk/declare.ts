// The authoring API: `task`, `workflow` and `launchPlan` turn declarations into callable, typed entities.
// Declaring is cheap and checks only the shape; the compiler checks the rest and reports every problem together.
import { UserError, describeValue } from "../errors.js";
import { isFlyteType, type AnyType, type ValueOf } from "../types/types.js";
import { activeTracer } from "./trace.js";
import {
  captureCallSite,
  definitionOf,
  entityBrand,
  type Definition,
  type Entity,
  type LaunchPlanDefinition,
} from "./entity.js";
import {
  normalizeOutputs,
  type CallSignature,
  type InputValues,
  type InputsDecl,
  type InputRefs,
  type OutputValues,
  type OutputsDecl,
  type WorkflowReturn,
} from "./interface.js";
import type { Schedule, TaskContext, TaskOptions, WorkflowOptions } from "./options.js";

declare const ioBrand: unique symbol;

/** Carries an entity's declared inputs and outputs at the type level. */
interface Typed<I, O> {
  readonly [ioBrand]?: { inputs: I; outputs: O };
}

export type Task<I extends InputsDecl = InputsDecl, O extends OutputsDecl = OutputsDecl> = CallSignature<I, O> &
  Entity &
  Typed<I, O> & { readonly kind: "task" };
export type Workflow<I extends InputsDecl = InputsDecl, O extends OutputsDecl = OutputsDecl> = CallSignature<I, O> &
  Entity &
  Typed<I, O> & { readonly kind: "workflow" };
export type LaunchPlan<I extends InputsDecl = InputsDecl, O extends OutputsDecl = OutputsDecl> = CallSignature<I, O> &
  Entity &
  Typed<I, O> & { readonly kind: "launchPlan" };

function checkDeclaredTypes(what: string, declared: unknown, where: "inputs" | "outputs"): void {
  if (declared === undefined) return;
  if (where === "outputs" && isFlyteType(declared)) return;
  if (typeof declared !== "object" || declared === null || Array.isArray(declared)) {
    throw new UserError(`${what}: ${where} must be an object of t.* types${where === "outputs" ? " or one t.* type" : ""}, got ${describeValue(declared)}`);
  }
  for (const [name, type] of Object.entries(declared)) {
    if (!isFlyteType(type)) throw new UserError(`${what}: ${where}.${name} must be a t.* type such as t.int(), got ${describeValue(type)}`);
  }
}

function makeEntity(definition: Definition): Entity {
  const entity = function (args?: unknown): unknown {
    const tracer = activeTracer();
    if (tracer) return tracer.call(entity as unknown as Entity, args);
    return import("../engine/direct.js").then((m) => m.runDirect(entity as unknown as Entity, args));
  };
  Object.defineProperty(entity, entityBrand, { value: definition });
  Object.defineProperty(entity, "kind", { value: definition.kind, enumerable: true });
  return entity as unknown as Entity;
}

/**
 * Declares a task: a typed function that runs as one node, in-process locally or in a container remotely.
 * A single `outputs` type is named `o0`; an object of types gives named outputs.
 */
export function task<I extends InputsDecl = {}, O extends OutputsDecl = undefined>(
  options: TaskOptions<I, O>,
  fn: (inputs: InputValues<I>, context: TaskContext) => Promise<OutputValues<O>> | OutputValues<O>,
): Task<I, O> {
  const definedAt = captureCallSite();
  if (typeof options !== "object" || options === null) throw new UserError(`task(options, fn): options must be an object, got ${describeValue(options)}`);
  if (typeof fn !== "function") throw new UserError(`task(options, fn): fn must be a function, got ${describeValue(fn)}`);
  const what = options.name ? `task ${options.name}` : "task";
  checkDeclaredTypes(what, options.inputs, "inputs");
  checkDeclaredTypes(what, options.outputs, "outputs");
  const { outputs, single } = normalizeOutputs(options.outputs);
  return makeEntity({
    kind: "task",
    explicitName: options.name,
    description: options.description,
    definedAt,
    inputs: { ...(options.inputs ?? {}) },
    outputs,
    singleOutput: single,
    options,
    fn,
  }) as Task<I, O>;
}

/**
 * Declares a workflow: its body runs once at compile time, on references, and wires tasks, subworkflows and
 * launch plans into a graph. It never sees data.
 */
export function workflow<I extends InputsDecl = {}, O extends OutputsDecl = undefined>(
  options: WorkflowOptions<I, O>,
  body: (inputs: InputRefs<I>) => WorkflowReturn<O>,
): Workflow<I, O> {
  const definedAt = captureCallSite();
  if (typeof options !== "object" || options === null) throw new UserError(`workflow(options, body): options must be an object, got ${describeValue(options)}`);
  if (typeof body !== "function") throw new UserError(`workflow(options, body): body must be a function, got ${describeValue(body)}`);
  const what = options.name ? `workflow ${options.name}` : "workflow";
  checkDeclaredTypes(what, options.inputs, "inputs");
  checkDeclaredTypes(what, options.outputs, "outputs");
  const { outputs, single } = normalizeOutputs(options.outputs);
  return makeEntity({
    kind: "workflow",
    explicitName: options.name,
    description: options.description,
    definedAt,
    inputs: { ...(options.inputs ?? {}) },
    outputs,
    singleOutput: single,
    options,
    body,
  }) as Workflow<I, O>;
}

type PartialValues<I> = { [K in keyof I]?: ValueOf<I[K]> };
type NoExtraKeys<T, Allowed> = T & Record<Exclude<keyof T, keyof Allowed>, never>;
type Defaulted<X> = X & { readonly __hasDefault: true };

/** A launch plan's inputs: fixed ones are gone, ones with a launch-plan default become optional. */
export type LaunchPlanInputs<I extends InputsDecl, F, D> = {
  [K in Exclude<keyof I, keyof F>]: K extends keyof D ? Defaulted<I[K]> : I[K];
};

export interface LaunchPlanOptions<I extends InputsDecl, O extends OutputsDecl, F, D> {
  /** The launch plan's name; every workflow also gets a default launch plan named like the workflow. */
  name: string;
  workflow: Workflow<I, O>;
  description?: string;
  /** Inputs that every execution of this plan gets and no caller may change. */
  fixedInputs?: NoExtraKeys<F, I>;
  /** Inputs with a default that callers may override. */
  defaultInputs?: NoExtraKeys<D, I>;
  schedule?: Schedule;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  maxParallelism?: number;
  /** Whether registration activates it (its schedule runs only while active). Default false. */
  active?: boolean;
}

/** Declares a launch plan: a workflow with fixed and default inputs, and optionally a schedule. */
export function launchPlan<
  I extends InputsDecl,
  O extends OutputsDecl,
  F extends PartialValues<I> = {},
  D extends PartialValues<I> = {},
>(options: LaunchPlanOptions<I, O, F, D>): LaunchPlan<LaunchPlanInputs<I, F, D>, O> {
  const definedAt = captureCallSite();
  if (typeof options !== "object" || options === null) throw new UserError(`launchPlan(options): options must be an object, got ${describeValue(options)}`);
  const wf = definitionOf(options.workflow);
  if (wf?.kind !== "workflow") {
    throw new UserError(`launch plan ${options.name ?? ""}: workflow must be a workflow declared with workflow(...), got ${describeValue(options.workflow)}`);
  }
  if (typeof options.name !== "string" || options.name === "") throw new UserError("launchPlan(options): name is required, e.g. name: \"nightly_spend\"");
  const fixedInputs = { ...((options.fixedInputs ?? {}) as Record<string, unknown>) };
  const defaultInputs = { ...((options.defaultInputs ?? {}) as Record<string, unknown>) };
  const inputs: Record<string, AnyType> = {};
  for (const [name, type] of Object.entries(wf.inputs)) {
    if (name in fixedInputs) continue;
    inputs[name] = name in defaultInputs ? withDefault(type, defaultInputs[name]) : type;
  }
  const definition: LaunchPlanDefinition = {
    kind: "launchPlan",
    explicitName: options.name,
    description: options.description,
    definedAt,
    inputs,
    outputs: wf.outputs,
    singleOutput: wf.singleOutput,
    workflow: options.workflow,
    fixedInputs,
    defaultInputs,
    schedule: options.schedule,
    labels: options.labels,
    annotations: options.annotations,
    maxParallelism: options.maxParallelism,
    active: options.active ?? false,
  };
  return makeEntity(definition) as LaunchPlan<LaunchPlanInputs<I, F, D>, O>;
}

// A default of the wrong type is reported by the compiler with the other launch plan problems.
function withDefault(type: AnyType, value: unknown): AnyType {
  try {
    return type.default(value);
  } catch {
    return type;
  }
}
