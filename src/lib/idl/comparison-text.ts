// How a branch condition's comparison operators read to a person, shared by the checks, the engine's messages and
// the pictures. Names only; never evaluates anything.
import { ComparisonExpression_Operator } from "./gen/flyteidl/core/condition_pb.js";

export const comparisonOperatorText: Readonly<Record<ComparisonExpression_Operator, string>> = {
  [ComparisonExpression_Operator.EQ]: "==",
  [ComparisonExpression_Operator.NEQ]: "!=",
  [ComparisonExpression_Operator.GT]: ">",
  [ComparisonExpression_Operator.GTE]: ">=",
  [ComparisonExpression_Operator.LT]: "<",
  [ComparisonExpression_Operator.LTE]: "<=",
};
