// Runs a task, workflow or launch plan called directly from user code (`await calculateSpend({ emp })`) on the
// engine, in-process, with nothing recorded and data kept in memory. Never writes to the user's home.
import { create } from "@bufbuild/protobuf";
import { randomBytes } from "node:crypto";
import { LiteralMapSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { ExecutionFailedError, UserError, describeValue } from "../errors.js";
import { definitionOf, userLocation, type Definition, type Entity } from "../sdk/entity.js";
import { MemoryBlobStore } from "../storage/memory-store.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { runExecution } from "./engine.js";
import { InProcessRunner } from "./in-process.js";
import { literalMapToValues, typeNeedsData, valuesToLiteralMap } from "./offload.js";

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

let runner: InProcessRunner | undefined;

/** Runs an entity called outside a workflow body and returns its outputs as the caller's types promise. */
export async function runDirect(entity: Entity, args: unknown): Promise<unknown> {
  const def = definitionOf(entity)!;
  const label = entityLabel(entity);
  const blobs = new MemoryBlobStore();
  const inputs = await argsToLiterals(def, args, label, blobs);
  const result = await runExecution(
    {
      key: { project: "direct", domain: "local", name: `direct-${randomBytes(5).toString("hex")}` },
      entity,
      nameOf: entityLabel,
      launch: { kind: def.kind, name: label, version: "direct" },
      inputs,
    },
    { blobs, runner: (runner ??= new InProcessRunner({ echo: "console" })) },
  );
  if (result.failure) {
    const { nodeId, entityName, error, thrown } = result.failure;
    const where = def.kind === "task" ? label : `${label}: node ${nodeId} (${entityName})`;
    throw new ExecutionFailedError(`${where} failed: ${error.message}`, nodeId, error.kind, error.code, { cause: thrown });
  }
  const outputs = result.outputs ?? create(LiteralMapSchema, {});
  const values = await toValues(def.outputs, outputs, blobs);
  const names = Object.keys(def.outputs);
  if (def.singleOutput) return values[names[0]];
  return names.length ? values : undefined;
}

/** Checks the caller's values the way a remote run would, reporting every problem together. */
async function argsToLiterals(def: Definition, args: unknown, label: string, blobs: MemoryBlobStore): Promise<LiteralMap> {
  if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
    throw new UserError(`${label}: inputs must be one object, got ${describeValue(args)}`);
  }
  const given = (args ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const fixed = def.kind === "launchPlan" ? Object.keys(given).filter((k) => k in def.fixedInputs) : [];
  if (fixed.length) problems.push(`${fixed.join(", ")} ${fixed.length > 1 ? "are" : "is"} fixed by the launch plan and cannot be given`);
  for (const name of Object.keys(given)) {
    if (!(name in def.inputs) && !fixed.includes(name)) problems.push(`unknown input "${name}" (inputs: ${Object.keys(def.inputs).join(", ") || "none"})`);
  }
  const types: Record<string, AnyType> = {};
  const values: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(def.inputs)) {
    if (given[name] === undefined) {
      if (!type.hasDefault && !acceptsNone(type)) problems.push(`missing input "${name}" of type ${type.name}`);
      continue;
    }
    types[name] = type;
    values[name] = given[name];
  }
  const literals: Record<string, Literal> = {};
  const plain = Object.keys(types).filter((n) => !typeNeedsData(types[n]));
  for (const name of plain) {
    try {
      literals[name] = types[name].toLiteral(values[name], name);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  const withData = Object.keys(types).filter((n) => typeNeedsData(types[n]));
  if (withData.length) {
    try {
      const map = await valuesToLiteralMap(
        Object.fromEntries(withData.map((n) => [n, types[n]])),
        Object.fromEntries(withData.map((n) => [n, values[n]])),
        { store: blobs, rawPrefix: `${blobs.baseUri}/inputs` },
      );
      Object.assign(literals, map.literals);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (problems.length) throw new UserError(`${label}: ${problems.join("; ")}`);
  return create(LiteralMapSchema, { literals });
}

async function toValues(types: Record<string, AnyType>, map: LiteralMap, blobs: MemoryBlobStore): Promise<Record<string, unknown>> {
  if (Object.values(types).some(typeNeedsData)) return literalMapToValues(types, map, { store: blobs, at: "output" });
  const values: Record<string, unknown> = {};
  for (const name in types) values[name] = types[name].fromLiteral(map.literals[name], name);
  return values;
}
