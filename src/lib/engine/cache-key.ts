// Cache keys: task name + cache version + a hash of the task's interface + a hash of its input literals (minus
// ignored inputs). Never hashes a file's URI when its content hash is known: equal content is a hit anywhere.
import { createHash } from "node:crypto";
import { toBinary, toJson } from "@bufbuild/protobuf";
import { ScalarSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { TypedInterface, VariableMap } from "../idl/gen/flyteidl/core/interface_pb.js";
import type { AnyType } from "../types/types.js";
import type { TaskDefinition } from "../sdk/entity.js";
import { canonicalJson } from "../types/compat.js";

const interfaceHashes = new WeakMap<TaskDefinition, string>();

/** A hash of the declared input and output names and types: changing the interface invalidates the cache. */
export function interfaceHash(def: TaskDefinition): string {
  let hash = interfaceHashes.get(def);
  if (hash) return hash;
  const types = (vars: Record<string, AnyType>) => Object.fromEntries(Object.entries(vars).map(([name, type]) => [name, type.literalType()]));
  hash = hashInterface(types(def.inputs), types(def.outputs));
  interfaceHashes.set(def, hash);
  return hash;
}

/** The same hash for a registered task's interface, so a task hashes alike before and after registration. */
export function typedInterfaceHash(iface: TypedInterface | undefined): string {
  const types = (vars: VariableMap | undefined) =>
    Object.fromEntries(Object.entries(vars?.variables ?? {}).flatMap(([name, v]) => (v.type ? [[name, v.type]] : [])));
  return hashInterface(types(iface?.inputs), types(iface?.outputs));
}

function hashInterface(inputs: Record<string, LiteralType>, outputs: Record<string, LiteralType>): string {
  const h = createHash("sha256");
  for (const [side, vars] of [["in", inputs], ["out", outputs]] as const) {
    for (const name of Object.keys(vars).sort()) {
      h.update(`${side}\0${name}\0`);
      h.update(toBinary(LiteralTypeSchema, vars[name]));
    }
  }
  return h.digest("base64url");
}

/** A JSON-able digest of a literal in which map keys are sorted and blobs with a content hash are that hash. */
function digestable(literal: Literal): unknown {
  if (literal.hash) return { hash: literal.hash };
  const v = literal.value;
  switch (v.case) {
    case "collection":
      return { c: v.value.literals.map(digestable) };
    case "map":
      return { m: Object.fromEntries(Object.keys(v.value.literals).sort().map((k) => [k, digestable(v.value.literals[k])])) };
    case "scalar":
      return { s: toJson(ScalarSchema, v.value) };
    default:
      return { o: literal.value.case ?? "empty" };
  }
}

export function inputsHash(inputs: LiteralMap, ignored: readonly string[] = []): string {
  const h = createHash("sha256");
  for (const name of Object.keys(inputs.literals).sort()) {
    if (ignored.includes(name)) continue;
    h.update(`${name}\0${canonicalJson(digestable(inputs.literals[name]))}\0`);
  }
  return h.digest("base64url");
}

export function cacheKey(taskName: string, interfaceDigest: string, cacheVersion: string, inputs: LiteralMap, ignored?: readonly string[]): string {
  return `${taskName}:${cacheVersion}:${interfaceDigest}:${inputsHash(inputs, ignored)}`;
}
