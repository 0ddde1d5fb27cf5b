// Turns what a workflow body passed to a call (references, constants, lists and maps of both) into Flyte
// BindingData, checking every type on the way. Never guesses a conversion Flyte would not make.
import { create } from "@bufbuild/protobuf";
import { BindingDataSchema, type BindingData, type Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import { isCastable, describeLiteralType } from "../types/compat.js";
import type { AnyType, ListType, MapType } from "../types/types.js";
import { isOutputRef, nodeHandleOf, startNodeId, type OutputRef } from "../sdk/trace.js";

export interface BindingScope {
  /** Describes where a reference comes from, e.g. `output "total" of node n1 (totalSpend)`. */
  describeRef(ref: OutputRef): string;
  /** Describes a node by id, e.g. `n1 (totalSpend)`. */
  describeNode(nodeId: string): string;
  /** Whether the reference was made in this workflow's trace. */
  ownsRef(ref: OutputRef): boolean;
  /** Why a reference this workflow made may not be bound here (e.g. it is a case's output), as `is bound to …`. */
  notOwned?(ref: OutputRef): string | undefined;
  /** Nodes the binding reads from, collected as bindings are made. */
  upstream: Set<string>;
}

/** Thrown for a binding that cannot be made; the message says which input, both types and what to do. */
export class BindingProblem extends Error {}

/** A Literal as BindingData: scalars stay scalars, collections and maps are bound element by element. */
export function literalToBindingData(literal: Literal): BindingData {
  const v = literal.value;
  switch (v.case) {
    case "scalar":
      return create(BindingDataSchema, { value: { case: "scalar", value: v.value } });
    case "collection":
      return create(BindingDataSchema, {
        value: { case: "collection", value: { bindings: v.value.literals.map(literalToBindingData) } },
      });
    case "map": {
      const bindings: Record<string, BindingData> = {};
      for (const [k, l] of Object.entries(v.value.literals)) bindings[k] = literalToBindingData(l);
      return create(BindingDataSchema, { value: { case: "map", value: { bindings } } });
    }
    default:
      throw new BindingProblem(`cannot bind a literal of kind ${v.case ?? "empty"}`);
  }
}

function containsRef(value: unknown, depth = 0): boolean {
  if (isOutputRef(value) || nodeHandleOf(value)) return true;
  if (depth > 32 || typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => containsRef(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).some((v) => containsRef(v, depth + 1));
}

/** Each reference inside `value`, as `path is what it refers to` (`order.qty is output "o0" of node n0 (count)`). */
function refsIn(value: unknown, path: string, scope: BindingScope, depth = 0): string[] {
  if (isOutputRef(value)) return [`${path} is ${scope.describeRef(value)}`];
  const handle = nodeHandleOf(value);
  if (handle) return [`${path} is node ${scope.describeNode(handle.nodeId)}`];
  if (depth > 32 || typeof value !== "object" || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => refsIn(v, `${path}[${i}]`, scope, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return [];
  return Object.entries(value).flatMap(([k, v]) => refsIn(v, `${path}.${k}`, scope, depth + 1));
}

/**
 * Binds one value to an input of type `type`. `at` names the input in messages; `path` is the short name a
 * value's own errors are reported under (`rows[0].pay`).
 */
export function bindValue(value: unknown, type: AnyType, at: string, scope: BindingScope, path = at): BindingData {
  if (isOutputRef(value)) {
    if (!scope.ownsRef(value)) {
      const why = scope.notOwned?.(value);
      if (why) throw new BindingProblem(`${at} ${why}`);
      throw new BindingProblem(`${at} is bound to a reference from another workflow; pass values into this workflow through its inputs`);
    }
    const from = value.type.literalType();
    const to = type.literalType();
    if (!isCastable(from, to)) {
      throw new BindingProblem(
        `${at} expects ${describeLiteralType(to)}, but ${scope.describeRef(value)} is ${describeLiteralType(from)}`,
      );
    }
    if (value.nodeId !== startNodeId) scope.upstream.add(value.nodeId);
    return create(BindingDataSchema, { value: { case: "promise", value: { nodeId: value.nodeId, var: value.varName } } });
  }
  const handle = nodeHandleOf(value);
  if (handle) {
    const outputs = Object.keys(value as object);
    throw new BindingProblem(
      outputs.length
        ? `${at} is bound to all outputs of node ${scope.describeNode(handle.nodeId)}; pick one of them: ${outputs.map((o) => `.${o}`).join(", ")}`
        : `${at} is bound to node ${scope.describeNode(handle.nodeId)}, which has no outputs`,
    );
  }
  if (containsRef(value)) {
    if (Array.isArray(value) && type.literalType().type.case === "collectionType") {
      const list = type as ListType<AnyType>;
      const bindings = value.map((item, i) => bindValue(item, list.element, `${at}[${i}]`, scope, `${path}[${i}]`));
      return create(BindingDataSchema, { value: { case: "collection", value: { bindings } } });
    }
    if (type.literalType().type.case === "mapValueType" && typeof value === "object" && value !== null && !Array.isArray(value)) {
      const map = type as MapType<AnyType>;
      const bindings: Record<string, BindingData> = {};
      for (const [k, v] of Object.entries(value)) bindings[k] = bindValue(v, map.valueType, `${at}.${k}`, scope, `${path}.${k}`);
      return create(BindingDataSchema, { value: { case: "map", value: { bindings } } });
    }
    const refs = refsIn(value, path, scope);
    const shown = refs.slice(0, 4).join(", ") + (refs.length > 4 ? `, and ${refs.length - 4} more` : "");
    throw new BindingProblem(
      `${at} expects ${type.name}; references can be combined only into lists and maps, not into ${Array.isArray(value) ? "a list" : "an object"} for it, and here ${shown}; ` +
        "pass them to a task that builds the value from them",
    );
  }
  try {
    return literalToBindingData(type.toLiteral(value, path));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new BindingProblem(path === at ? message : `${at}: ${message}`);
  }
}
