// Cache keys: task name + cache version + a hash of the task's interface + a hash of its input literals (minus
// ignored inputs). Never hashes a file's URI when its content hash is known: equal content is a hit anywhere.
import { createHash } from "node:crypto";
import { toBinary, toJson } from "@bufbuild/protobuf";
import { ScalarSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema } from "../idl/gen/flyteidl/core/types_pb.js";
import type { TaskDefinition } from "../sdk/entity.js";
import { canonicalJson } from "../types/compat.js";

const interfaceHashes = new WeakMap<TaskDefinition, string>();

/** A hash of the declared input and output names and types: changing the interface invalidates the cache. */
export function interfaceHash(def: TaskDefinition): string {
  let hash = interfaceHashes.get(def);
  if (hash) return hash;
  const h = createHash("sha256");
  for (const [side, vars] of [["in", def.inputs], ["out", def.outputs]] as const) {
    for (const name of Object.keys(vars).sort()) {
      h.update(`${side}\0${name}\0`);
      h.update(toBinary(LiteralTypeSchema, vars[name].literalType()));
    }
  }
  hash = h.digest("base64url");
  interfaceHashes.set(def, hash);
  return hash;
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

export function cacheKey(taskName: string, def: TaskDefinition, cacheVersion: string, inputs: LiteralMap, ignored?: readonly string[]): string {
  return `${taskName}:${cacheVersion}:${interfaceHash(def)}:${inputsHash(inputs, ignored)}`;
}
