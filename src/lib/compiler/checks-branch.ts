// Compile checks of a branch node as FlyteAdmin's compiler applies them: an if case, an else (node or error), conditions
// over the branch node's own inputs comparing like primitives, and outputs every case produces. Never runs a condition.
import { comparisonOperatorText } from "../idl/comparison-text.js";
import type { BooleanExpression, Operand } from "../idl/gen/flyteidl/core/condition_pb.js";
import { ComparisonExpression_Operator } from "../idl/gen/flyteidl/core/condition_pb.js";
import { SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { BranchNode, Node } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { describeLiteralType } from "../types/compat.js";
import { bindingType, checkBindingData, primitiveType, type CheckScope, type NodePlace, type Outputs } from "./checks-scope.js";

interface Case {
  /** "the if case", "elif case 1", "the else case". */
  name: string;
  node: Node;
}

/**
 * Checks a branch node and its cases (each like any node, reading what the branch's upstream nodes produce) and
 * returns its outputs: those every case produces with one type. An else that fails produces none and is not counted.
 */
export function checkBranchNode(node: Node, branch: BranchNode, place: NodePlace, scope: CheckScope, upstream: Set<string> | undefined): Outputs | undefined {
  const at = `branch node ${place.path}`;
  const problems = scope.problems;
  const inputs = new Map<string, LiteralType | undefined>();
  for (const binding of node.inputs) {
    if (inputs.has(binding.var)) problems.push(`${at} binds "${binding.var}" twice; keep one binding`);
    if (binding.binding) {
      checkBindingData(binding.binding, undefined, `${at} input "${binding.var}"`, scope, { upstream, readable: place.readable });
      inputs.set(binding.var, bindingType(binding.binding, scope));
    } else {
      problems.push(`${at} input "${binding.var}" has an empty binding`);
      inputs.set(binding.var, undefined);
    }
  }
  const ifElse = branch.ifElse;
  if (!ifElse) {
    problems.push(`${at} has no if/else block; give it ifElse with a case and an else`);
    return undefined;
  }
  const cases: Case[] = [];
  const blocks = [{ name: "the if case", block: ifElse.case }, ...ifElse.other.map((block, i) => ({ name: `elif case ${i + 1}`, block }))];
  for (const { name, block } of blocks) {
    if (!block) {
      problems.push(`${at} has no if case; give ifElse.case a condition and a thenNode`);
      continue;
    }
    if (block.condition) checkCondition(block.condition, name, at, inputs, problems);
    else problems.push(`${at}: ${name} has no condition; give it one over the branch node's inputs`);
    if (block.thenNode) cases.push({ name, node: block.thenNode });
    else problems.push(`${at}: ${name} has no thenNode; give it the node to run when its condition holds`);
  }
  if (ifElse.default.case === "elseNode") cases.push({ name: "the else case", node: ifElse.default.value });
  else if (ifElse.default.case !== "error") {
    problems.push(`${at} has no else; Flyte refuses a branch without one: add an elseNode, or an error to fail when no case holds`);
  }

  // Cases read what the branch's upstream nodes produce; their own ids live under the branch's.
  const outputsPerCase: { name: string; outputs: Outputs }[] = [];
  let unknown = false;
  const readable = place.readable ?? {
    ids: scope.readableInside(node.id),
    why: (id: string) =>
      id === node.id ? `its own branch; a case cannot read its branch's outputs` : `which waits for ${at}; a case cannot read what runs after its branch (that is a cycle)`,
  };
  for (const c of cases) {
    const path = `${place.path}-${c.node.id || "?"}`;
    const outputs = scope.checkNode(c.node, { label: `node ${path} (${c.name} of ${at})`, path, readable });
    if (outputs) outputsPerCase.push({ name: c.name, outputs });
    else unknown = true;
  }
  if (unknown || outputsPerCase.length === 0) return unknown ? undefined : {};

  const [first, ...rest] = outputsPerCase;
  const result: Outputs = {};
  const lacking = new Map<string, string>();
  const names = new Set(outputsPerCase.flatMap((c) => Object.keys(c.outputs)));
  for (const name of [...names].sort()) {
    const without = outputsPerCase.filter((c) => !(name in c.outputs)).map((c) => c.name);
    if (without.length) {
      lacking.set(name, without.join(" and "));
      continue;
    }
    const type = first.outputs[name];
    let same = true;
    for (const other of rest) {
      const t = other.outputs[name];
      if (type && t && !sameType(type, t)) {
        problems.push(
          `${at}: ${other.name} produces "${name}" as ${describeLiteralType(t)}, but ${first.name} produces it as ${describeLiteralType(type)}; every case must produce the same type`,
        );
        same = false;
      }
    }
    if (same) result[name] = type;
  }
  if (lacking.size && place.topLevel) scope.partialOutputs.set(node.id, lacking);
  return result;
}

function sameType(a: LiteralType, b: LiteralType): boolean {
  return describeLiteralType(a) === describeLiteralType(b) && JSON.stringify(a.type) === JSON.stringify(b.type);
}

const comparable: Partial<Record<SimpleType, string>> = {
  [SimpleType.INTEGER]: "integer",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "string",
  [SimpleType.BOOLEAN]: "boolean",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "duration",
};
const comparableText = "integers, floats, strings, booleans, datetimes or durations";


/** The primitive a type compares as: itself, an optional of it, or a string for an enum; undefined if none. */
function comparedAs(type: LiteralType): string | undefined {
  const t = type.type;
  if (t.case === "simple") return comparable[t.value];
  if (t.case === "enumType") return "string";
  if (t.case === "unionType") {
    const rest = t.value.variants.filter((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
    return rest.length === 1 ? comparedAs(rest[0]) : undefined;
  }
  return undefined;
}

interface OperandInfo {
  text: string;
  type?: LiteralType;
  none?: boolean;
}

function checkCondition(expr: BooleanExpression, caseName: string, at: string, inputs: Map<string, LiteralType | undefined>, problems: string[]): void {
  const e = expr.expr;
  if (e.case === "conjunction") {
    for (const side of [e.value.leftExpression, e.value.rightExpression]) {
      if (side) checkCondition(side, caseName, at, inputs, problems);
      else problems.push(`${at}: ${caseName} has an and/or with a side missing; give both sides a comparison`);
    }
    return;
  }
  if (e.case !== "comparison") {
    problems.push(`${at}: ${caseName} has an empty condition; give it a comparison or an and/or of comparisons`);
    return;
  }
  const op = e.value.operator;
  const sides: (OperandInfo | undefined)[] = [];
  for (const operand of [e.value.leftValue, e.value.rightValue]) sides.push(operandInfo(operand, caseName, at, inputs, problems));
  const [left, right] = sides;
  if (!left || !right) return;
  if (left.none || right.none) {
    if (op !== ComparisonExpression_Operator.EQ && op !== ComparisonExpression_Operator.NEQ) {
      problems.push(`${at}: ${caseName} compares ${left.text} ${comparisonOperatorText[op]} ${right.text}; a none can only be compared with == or !=`);
    }
    return;
  }
  if (!left.type || !right.type) return;
  const l = comparedAs(left.type);
  const r = comparedAs(right.type);
  for (const [side, kind] of [[left, l], [right, r]] as const) {
    if (!kind) {
      problems.push(`${at}: ${caseName} compares ${side.text}, which is ${describeLiteralType(side.type)}; conditions compare only ${comparableText}`);
    }
  }
  if (!l || !r) return;
  if (l !== r) {
    problems.push(
      `${at}: ${caseName} compares ${left.text} (${l}) ${comparisonOperatorText[op]} ${right.text} (${r}); both sides must have the same primitive type (Flyte does not convert between them), so compare with a ${l} or bind a ${r}`,
    );
  } else if (l === "boolean" && op !== ComparisonExpression_Operator.EQ && op !== ComparisonExpression_Operator.NEQ) {
    problems.push(`${at}: ${caseName} compares booleans with ${comparisonOperatorText[op]}; booleans compare only with == or !=`);
  }
}

function operandInfo(operand: Operand | undefined, caseName: string, at: string, inputs: Map<string, LiteralType | undefined>, problems: string[]): OperandInfo | undefined {
  const v = operand?.val;
  switch (v?.case) {
    case "var": {
      if (!inputs.has(v.value)) {
        const known = [...inputs.keys()];
        problems.push(
          `${at}: ${caseName}'s condition reads "${v.value}", which is not one of the branch node's inputs (${known.length ? `it binds ${known.join(", ")}` : "it binds none"}); bind "${v.value}" on the branch node`,
        );
        return undefined;
      }
      return { text: `"${v.value}"`, type: inputs.get(v.value) };
    }
    case "primitive":
      return { text: primitiveText(v.value.value), type: primitiveType(v.value) };
    case "scalar":
      if (v.value.value.case === "noneType") return { text: "none", none: true };
      if (v.value.value.case === "primitive") return { text: primitiveText(v.value.value.value.value), type: primitiveType(v.value.value.value) };
      problems.push(`${at}: ${caseName} compares a ${v.value.value.case ?? "empty"} scalar; conditions compare only ${comparableText}`);
      return undefined;
    default:
      problems.push(`${at}: ${caseName} has a comparison with a side missing; give it a var or a value`);
      return undefined;
  }
}

function primitiveText(p: { case?: string; value?: unknown }): string {
  if (p.case === "stringValue") return JSON.stringify(p.value);
  if (p.case === "integer" || p.case === "floatValue" || p.case === "boolean") return String(p.value);
  return p.case ?? "an empty value";
}
