// Compile checks of an array node (a map over lists): what it maps (a task, subworkflow or launch plan node), its
// mapped and fixed (`boundInputs`) inputs, its success criteria, and its outputs as lists. Never sizes the lists.
import { create } from "@bufbuild/protobuf";
import { LiteralTypeSchema, SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { ArrayNode, Node } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { describeLiteralType } from "../types/compat.js";
import { calleeOf, checkInputBindings, type CheckScope, type NodePlace, type Outputs } from "./checks-scope.js";

/*
 * Two interfaces reach us. flytekit's map task (ArrayNodeMapTask) registers its task with the list interface already
 * (`isOriginalSubNodeInterface: false`): the array node's inputs are the task's, as FlytePropeller's compiler takes
 * them. flytekit's ArrayNode over a launch plan or subworkflow keeps the original interface (`true`): each mapped
 * input is a list of the sub-node's input and each output a list of its output. Without the flag (older flytekit),
 * an input bound with the sub-node's own list type is read as the listed form. flytekit writes the bindings on both
 * the array node and its sub-node; FlytePropeller reads the array node's, so those count, else the sub-node's.
 */
export function checkArrayNode(node: Node, array: ArrayNode, place: NodePlace, scope: CheckScope, upstream: Set<string> | undefined): Outputs | undefined {
  const at = `array node ${place.path}`;
  const problems = scope.problems;
  const ratio = array.successCriteria.case === "minSuccessRatio" ? array.successCriteria.value : undefined;
  if (ratio !== undefined && !(ratio >= 0 && ratio <= 1)) problems.push(`${at} has minSuccessRatio ${ratio}; give a ratio between 0 and 1`);
  if (array.parallelismOption.case === "parallelism" && !(array.parallelismOption.value >= 0)) {
    problems.push(`${at} has parallelism ${array.parallelismOption.value}; give 0 (no limit) or more`);
  }
  const inner = array.node;
  if (!inner) {
    problems.push(`${at} has no node to map; give it a task, subworkflow or launch plan node`);
    return undefined;
  }
  const innerPlace: NodePlace = { label: `${at} (its sub-node ${inner.id || "?"})`, path: `${place.path}-${inner.id || "?"}`, readable: place.readable };
  const called = calleeOf(inner, { ...innerPlace, label: at }, scope);
  if (!called) {
    problems.push(`${at} maps a ${inner.target.case ?? "node without a target"}; an array node maps a task, subworkflow or launch plan node`);
    return undefined;
  }
  const { callee } = called;
  if (!callee) return undefined;

  const bound = new Set(array.boundInputs);
  for (const name of bound) if (!callee.inputs[name]) problems.push(`${at} lists "${name}" in boundInputs, which is not an input of ${called.refText}`);
  const bindings = node.inputs.length ? node.inputs : inner.inputs;
  const listed = listedInterface(array, bindings, callee.inputs, scope);
  const expectedOf = (name: string): LiteralType | undefined => {
    const type = callee.inputs[name]?.type;
    if (!type || listed || bound.has(name)) return type;
    return listOf(type);
  };
  checkInputBindings(bindings, callee.inputs, expectedOf, { label: at, path: place.path, readable: place.readable }, scope, upstream);
  const mapped = bindings.filter((b) => !bound.has(b.var) && callee.inputs[b.var] && (!listed || callee.inputs[b.var].type?.type.case === "collectionType"));
  if (mapped.length === 0) {
    problems.push(
      `${at} maps over no list: every input it binds is fixed (boundInputs)${listed ? " or not a list" : ""}; bind at least one input of ${called.refText} to a list to map over`,
    );
  }
  if (listed) return callee.outputs;
  // flytekit types the outputs of a map that may lose items (a success ratio below 1) as lists of optionals.
  const lossy = ratio !== undefined && ratio < 1;
  const outputs: Outputs = {};
  for (const [name, type] of Object.entries(callee.outputs)) outputs[name] = type ? listOf(lossy ? optional(type) : type) : undefined;
  return outputs;
}

/** Whether the sub-node's interface is already the array node's (see above). */
function listedInterface(array: ArrayNode, bindings: Node["inputs"], inputs: Record<string, { type?: LiteralType }>, scope: CheckScope): boolean {
  if (array.isOriginalSubNodeInterface !== undefined) return !array.isOriginalSubNodeInterface;
  const bound = new Set(array.boundInputs);
  const mappedTypes = bindings
    .filter((b) => !bound.has(b.var) && inputs[b.var]?.type && b.binding?.value.case === "promise")
    .map((b) => {
      const v = b.binding!.value;
      return { declared: inputs[b.var].type!, given: v.case === "promise" ? scope.outputsOf.get(v.value.nodeId || "start-node")?.[v.value.var] : undefined };
    });
  return mappedTypes.length > 0 && mappedTypes.every(({ declared, given }) => given !== undefined && declared.type.case === "collectionType" && describeLiteralType(given) === describeLiteralType(declared));
}

function listOf(type: LiteralType): LiteralType {
  return create(LiteralTypeSchema, { type: { case: "collectionType", value: type } });
}

function optional(type: LiteralType): LiteralType {
  if (type.type.case === "unionType" && type.type.value.variants.some((v) => v.type.case === "simple" && v.type.value === SimpleType.NONE)) return type;
  const none = create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.NONE }, structure: { tag: "none" } });
  return create(LiteralTypeSchema, { type: { case: "unionType", value: { variants: [type, none] } } });
}
