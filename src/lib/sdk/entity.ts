// What tasks, workflows and launch plans are at run time: callable functions branded with their definition,
// and where in the user's source they were declared. Never imports the engine, the compiler or the CLI.
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../package-root.js";
import type { AnyType } from "../types/types.js";
import type { TaskOptions, WorkflowOptions, Schedule } from "./options.js";

export const entityBrand = Symbol.for("tsflyte.entity");
export type EntityKind = "task" | "workflow" | "launchPlan";

interface BaseDefinition {
  /** The name given with `name:`; otherwise the compiler derives one from the module path and export name. */
  explicitName?: string;
  description?: string;
  /** Captured where the entity was declared; its stack is formatted only when an error needs the location. */
  definedAt: Error;
  inputs: Record<string, AnyType>;
  outputs: Record<string, AnyType>;
  /** True when the outputs were declared as one type (named `o0`): callers get the value, not an object. */
  singleOutput: boolean;
}

export interface TaskDefinition extends BaseDefinition {
  kind: "task";
  options: TaskOptions<any, any>;
  fn: (inputs: any, context: any) => unknown;
  /** A dynamic workflow: `fn` builds a workflow from the inputs' values when the task runs (Flyte's @dynamic). */
  dynamic?: boolean;
}

export interface WorkflowDefinition extends BaseDefinition {
  kind: "workflow";
  options: WorkflowOptions<any, any>;
  body: (inputs: any) => unknown;
}

export interface LaunchPlanDefinition extends BaseDefinition {
  kind: "launchPlan";
  workflow: Entity;
  fixedInputs: Record<string, unknown>;
  defaultInputs: Record<string, unknown>;
  schedule?: Schedule;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  maxParallelism?: number;
  active: boolean;
}

export type Definition = TaskDefinition | WorkflowDefinition | LaunchPlanDefinition;

/** A task, workflow or launch plan as user code holds it. */
export interface Entity {
  readonly [entityBrand]: Definition;
}

/** The definition behind an entity, also one made by a second copy of tsflyte; undefined for anything else. */
export function definitionOf(value: unknown): Definition | undefined {
  if ((typeof value === "function" || typeof value === "object") && value !== null) {
    return (value as Partial<Entity>)[entityBrand];
  }
  return undefined;
}

export function isEntity(value: unknown): value is Entity {
  return definitionOf(value) !== undefined;
}

const internalDirs = ["src", "dist"].map((d) => join(packageRoot, d) + sep);

/** Records the caller's position cheaply; V8 formats the stack only if it is read. */
export function captureCallSite(): Error {
  return new Error("call site");
}

const frameRe = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?\s*$/;

/** The first frame of a captured stack that is in the user's code (not tsflyte's, not Node's): `file:line:col`. */
export function userLocation(site: Error | undefined): string | undefined {
  const stack = site?.stack;
  if (!stack) return undefined;
  for (const line of stack.split("\n").slice(1)) {
    const m = frameRe.exec(line.trim());
    if (!m) continue;
    const file = m[1].startsWith("file://") ? fileURLToPath(m[1]) : m[1];
    if (internalDirs.some((d) => file.startsWith(d)) || file.includes("/node_modules/")) continue;
    return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}
