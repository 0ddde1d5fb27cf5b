// Evaluates a branch's BooleanExpression over the branch node's input literals, as flytepropeller does: primitives of
// one kind compared, booleans only for (in)equality, `none` only for (in)equality. Never coerces int to float.
import {
  ComparisonExpression_Operator as Op,
  ConjunctionExpression_LogicalOperator as Logical,
  type BooleanExpression,
  type Operand,
} from "../idl/gen/flyteidl/core/condition_pb.js";
import type { Literal, Primitive } from "../idl/gen/flyteidl/core/literals_pb.js";
import { comparisonOperatorText } from "../idl/comparison-text.js";

/** A condition that cannot be evaluated (a missing variable, values of two kinds): the branch fails with it. */
export class MalformedCondition extends Error {}

type Value = { kind: "none" } | { kind: Exclude<Primitive["value"]["case"], undefined>; key: number | bigint | string | boolean };


/** Whether the expression holds for these inputs (the branch node's bindings, by `var`). */
export function evaluateCondition(expression: BooleanExpression, inputs: Readonly<Record<string, Literal>>): boolean {
  const expr = expression.expr;
  if (expr.case === "conjunction") {
    const { operator, leftExpression, rightExpression } = expr.value;
    if (!leftExpression || !rightExpression) throw new MalformedCondition("a conjunction lacks one of its sides");
    const left = evaluateCondition(leftExpression, inputs);
    // Short-circuits as the user reads it: `a.and(b)` does not evaluate b when a is false.
    if (operator === Logical.AND) return left && evaluateCondition(rightExpression, inputs);
    return left || evaluateCondition(rightExpression, inputs);
  }
  if (expr.case !== "comparison") throw new MalformedCondition("an empty condition");
  const { operator, leftValue, rightValue } = expr.value;
  const left = operandValue(leftValue, inputs);
  const right = operandValue(rightValue, inputs);
  if (left.kind === "none" || right.kind === "none") {
    if (operator === Op.EQ) return left.kind === right.kind;
    if (operator === Op.NEQ) return left.kind !== right.kind;
    throw new MalformedCondition(`${comparisonOperatorText[operator]} is not defined for none; compare with eq or ne`);
  }
  if (left.kind !== right.kind) throw new MalformedCondition(`cannot compare a ${left.kind} with a ${right.kind}`);
  if (left.kind === "boolean" && operator !== Op.EQ && operator !== Op.NEQ) {
    throw new MalformedCondition(`${comparisonOperatorText[operator]} is not defined for booleans; compare with eq or ne`);
  }
  const a = left.key;
  const b = right.key;
  switch (operator) {
    case Op.EQ:
      return a === b;
    case Op.NEQ:
      return a !== b;
    case Op.GT:
      return a > b;
    case Op.GTE:
      return a >= b;
    case Op.LT:
      return a < b;
    case Op.LTE:
      return a <= b;
  }
  throw new MalformedCondition(`unknown comparison operator ${String(operator)}`);
}

function operandValue(operand: Operand | undefined, inputs: Readonly<Record<string, Literal>>): Value {
  const v = operand?.val;
  switch (v?.case) {
    case "primitive":
      return primitiveValue(v.value);
    case "scalar":
      return scalarValue(v.value, "a constant");
    case "var": {
      const literal = inputs[v.value];
      if (!literal) throw new MalformedCondition(`the condition reads "${v.value}", which the branch node does not bind`);
      return literalValue(literal, `"${v.value}"`);
    }
    default:
      throw new MalformedCondition("a comparison lacks one of its operands");
  }
}

function literalValue(literal: Literal, what: string): Value {
  if (literal.value.case !== "scalar") throw new MalformedCondition(`${what} is a ${literal.value.case ?? "empty value"}; only primitives can be compared`);
  return scalarValue(literal.value.value, what);
}

function scalarValue(scalar: NonNullable<Extract<Literal["value"], { case: "scalar" }>["value"]>, what: string): Value {
  const v = scalar.value;
  if (v.case === "primitive") return primitiveValue(v.value);
  if (v.case === "noneType") return { kind: "none" };
  // An optional or union value compares as the value it holds.
  if (v.case === "union" && v.value.value) return literalValue(v.value.value, what);
  throw new MalformedCondition(`${what} is a ${v.case ?? "empty value"}; only primitives can be compared`);
}

function primitiveValue(p: Primitive): Value {
  const v = p.value;
  switch (v.case) {
    case "integer":
      return { kind: "integer", key: v.value };
    case "floatValue":
      return { kind: "floatValue", key: v.value };
    case "stringValue":
      return { kind: "stringValue", key: v.value };
    case "boolean":
      return { kind: "boolean", key: v.value };
    case "datetime":
      return { kind: "datetime", key: v.value.seconds * 1_000_000_000n + BigInt(v.value.nanos) };
    case "duration":
      return { kind: "duration", key: v.value.seconds * 1_000_000_000n + BigInt(v.value.nanos) };
    default:
      throw new MalformedCondition("an empty primitive");
  }
}
