// Runs a task, workflow or launch plan called directly from user code (`await calculateSpend({ emp })`),
// in-process, nodes concurrently as their inputs become ready. Never records history or touches the store.
import { randomBytes } from "node:crypto";
import { UserError, describeValue } from "../errors.js";
import { definitionOf, userLocation, type Definition, type Entity } from "../sdk/entity.js";
import { isOutputRef, nodeHandleOf, startNodeId, traceWorkflow, type OutputRef } from "../sdk/trace.js";
import type { TaskContext } from "../sdk/options.js";
import { acceptsNone, type AnyType } from "../types/types.js";

/** Names an entity in messages when it has no resolved name: its `name:` or where it was declared. */
export function entityLabel(entity: Entity): string {
  const def = definitionOf(entity)!;
  if (def.explicitName) return `${kindWord(def)} ${def.explicitName}`;
  const at = userLocation(def.definedAt);
  return at ? `${kindWord(def)} declared at ${at}` : kindWord(def);
}

function kindWord(def: Definition): string {
  return def.kind === "launchPlan" ? "launch plan" : def.kind;
}

/**
 * Checks and converts inputs the way a remote run would: every value goes through its Flyte literal, so the
 * function sees exactly what it would see in a container. All problems are reported together.
 */
export function prepareInputs(def: Definition, args: unknown, label: string): Record<string, unknown> {
  if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
    throw new UserError(`${label}: inputs must be one object, got ${describeValue(args)}`);
  }
  const given = (args ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in def.inputs)) problems.push(`unknown input "${name}" (inputs: ${Object.keys(def.inputs).join(", ") || "none"})`);
  }
  for (const [name, type] of Object.entries(def.inputs)) {
    const value = given[name] !== undefined ? given[name] : type.hasDefault ? type.defaultValue : undefined;
    if (value === undefined && !acceptsNone(type)) {
      problems.push(`missing input "${name}" of type ${type.name}`);
      continue;
    }
    try {
      values[name] = roundTrip(type, value ?? null, name);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (problems.length) throw new UserError(`${label}: ${problems.join("; ")}`);
  return values;
}

function roundTrip(type: AnyType, value: unknown, at: string): unknown {
  return type.fromLiteral(type.toLiteral(value, at), at);
}

function checkOutputs(def: Definition, result: unknown, label: string): Record<string, unknown> {
  const names = Object.keys(def.outputs);
  if (names.length === 0) return {};
  const raw: Record<string, unknown> = def.singleOutput ? { [names[0]]: result } : (result as Record<string, unknown>);
  if (!def.singleOutput && (typeof raw !== "object" || raw === null)) {
    throw new UserError(`${label} returned ${describeValue(result)}; it must return an object with ${names.join(", ")}`);
  }
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of names) {
    try {
      out[name] = roundTrip(def.outputs[name], raw[name], `output ${name}`);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (problems.length) throw new UserError(`${label} returned bad outputs: ${problems.join("; ")}`);
  return out;
}

function shapeOutputs(def: Definition, outputs: Record<string, unknown>): unknown {
  if (def.singleOutput) return outputs[Object.keys(def.outputs)[0]];
  return Object.keys(def.outputs).length ? outputs : undefined;
}

interface RunScope {
  executionId: string;
}

/** Runs an entity called outside a workflow body and returns its outputs as the caller's types promise. */
export async function runDirect(entity: Entity, args: unknown): Promise<unknown> {
  const scope = { executionId: `direct-${randomBytes(5).toString("hex")}` };
  const def = definitionOf(entity)!;
  return shapeOutputs(def, await runEntity(entity, args, scope, "n0"));
}

async function runEntity(entity: Entity, args: unknown, scope: RunScope, nodeId: string): Promise<Record<string, unknown>> {
  const def = definitionOf(entity)!;
  const label = entityLabel(entity);
  switch (def.kind) {
    case "task": {
      const inputs = prepareInputs(def, args, label);
      const controller = new AbortController();
      const context: TaskContext = {
        executionId: scope.executionId,
        nodeId,
        attempt: 0,
        signal: controller.signal,
        logger: consoleLogger(label),
      };
      const result = await def.fn(inputs, context);
      return checkOutputs(def, result, label);
    }
    case "workflow": {
      const inputs = prepareInputs(def, args, label);
      return runTrace(entity, inputs, scope, label);
    }
    case "launchPlan": {
      const given = (args ?? {}) as Record<string, unknown>;
      const fixed = Object.keys(given).filter((k) => k in def.fixedInputs);
      if (fixed.length) throw new UserError(`${label}: ${fixed.join(", ")} ${fixed.length > 1 ? "are" : "is"} fixed by the launch plan and cannot be given`);
      return runEntity(def.workflow, { ...def.defaultInputs, ...prepareInputs(def, args, label), ...def.fixedInputs }, scope, nodeId);
    }
  }
}

async function runTrace(entity: Entity, inputs: Record<string, unknown>, scope: RunScope, label: string): Promise<Record<string, unknown>> {
  const def = definitionOf(entity)!;
  if (def.kind !== "workflow") throw new Error("runTrace takes a workflow");
  const traced = traceWorkflow(def, entityLabel);
  const results = new Map<string, Promise<Record<string, unknown>>>();
  results.set(startNodeId, Promise.resolve(inputs));
  const resolve = async (value: unknown): Promise<unknown> => {
    if (isOutputRef(value)) return readRef(value);
    if (nodeHandleOf(value)) return undefined;
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)] as const));
      return Object.fromEntries(entries);
    }
    return value;
  };
  const readRef = async (ref: OutputRef): Promise<unknown> => (await results.get(ref.nodeId)!)[ref.varName];
  for (const node of traced.nodes) {
    const run = (async () => {
      const args = (await resolve(node.args)) as Record<string, unknown>;
      try {
        return await runEntity(node.entity, args, scope, node.id);
      } catch (e) {
        const nodeLabel = `${label}: node ${node.id} (${entityLabel(node.entity)})`;
        if (e instanceof Error) e.message = `${nodeLabel} failed: ${e.message}`;
        throw e;
      }
    })();
    run.catch(() => undefined);
    results.set(node.id, run);
  }
  await Promise.all(results.values());
  const names = Object.keys(def.outputs);
  if (names.length === 0) return {};
  const returned = def.singleOutput ? { [names[0]]: traced.result } : (traced.result as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = await resolve(returned?.[name]);
  return checkOutputs({ ...def, singleOutput: false }, out, label);
}

function consoleLogger(label: string): TaskContext["logger"] {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    console.error(`[${level}] ${label}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  return { info: write("info"), warn: write("warn"), error: write("error") };
}
