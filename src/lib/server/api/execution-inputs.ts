// The inputs of a new execution: what a launch plan or a single task expects, and the request's inputs checked
// against it (unknown names, fixed inputs, missing required ones, wrong types) and completed with the defaults.
// Never writes anything; every problem is reported together.
import { create } from "@bufbuild/protobuf";
import type { LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { ParameterSchema, type Parameter, type TypedInterface } from "../../idl/gen/flyteidl/core/interface_pb.js";
import { LiteralMapSchema, LiteralSchema, type Literal, type LiteralMap } from "../../idl/gen/flyteidl/core/literals_pb.js";
import { SimpleType, type LiteralType } from "../../idl/gen/flyteidl/core/types_pb.js";
import { describeLiteralType } from "../../types/compat.js";
import { invalidArgument } from "./api-error.js";
import { literalMismatch, withUnionTags } from "./literal-check.js";

export interface ExpectedInputs {
  /** Inputs the caller may give: required ones, and ones with a default. */
  parameters: Record<string, Parameter>;
  /** Inputs the launch plan fixes; giving one is an error. */
  fixed: Record<string, Literal>;
  /** For messages: `launch plan x@v1` or `task y@v1`. */
  what: string;
}

export function launchPlanInputs(spec: LaunchPlanSpec, what: string): ExpectedInputs {
  return { parameters: spec.defaultInputs?.parameters ?? {}, fixed: spec.fixedInputs?.literals ?? {}, what };
}

/**
 * A task run on its own, as FlyteAdmin's single-task executions do: every input is required, except one whose type
 * accepts none, which defaults to none (task templates carry no defaults).
 */
export function taskInputs(iface: TypedInterface | undefined, what: string): ExpectedInputs {
  const parameters: Record<string, Parameter> = {};
  for (const [name, variable] of Object.entries(iface?.inputs?.variables ?? {})) {
    const none = variable.type ? noneLiteralFor(variable.type) : undefined;
    parameters[name] = create(ParameterSchema, {
      var: variable,
      behavior: none ? { case: "default", value: none } : { case: "required", value: true },
    });
  }
  return { parameters, fixed: {}, what };
}

/** The none value of a type that accepts none: a bare none, or the NONE variant of a union. */
function noneLiteralFor(type: LiteralType): Literal | undefined {
  const t = type.type;
  const noneScalar = create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "noneType", value: {} } } } });
  if (t.case === "simple" && t.value === SimpleType.NONE) return noneScalar;
  if (t.case !== "unionType") return undefined;
  const variant = t.value.variants.find((v) => v.type.case === "simple" && v.type.value === SimpleType.NONE);
  if (!variant) return undefined;
  return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "union", value: { value: noneScalar, type: variant } } } } });
}

/**
 * The complete inputs: the given ones checked, defaults for the rest, fixed ones added. Throws one 400 listing
 * every unknown, fixed, missing and mistyped input, with the expected types.
 */
export function completeInputs(expected: ExpectedInputs, given: Record<string, Literal>): LiteralMap {
  const problems: string[] = [];
  const names = [...Object.keys(expected.parameters), ...Object.keys(expected.fixed)].sort();
  const literals: Record<string, Literal> = {};
  for (const [name, literal] of Object.entries(given)) {
    if (name in expected.fixed) {
      problems.push(`input "${name}" is fixed by ${expected.what} and cannot be overridden`);
      continue;
    }
    const parameter = expected.parameters[name];
    if (!parameter) {
      problems.push(`"${name}" is not an input of ${expected.what}; its inputs are ${names.length ? names.join(", ") : "none"}`);
      continue;
    }
    const type = parameter.var?.type;
    const mismatch = type ? literalMismatch(literal, type, `input "${name}"`) : undefined;
    if (mismatch) problems.push(mismatch);
    literals[name] = type && !mismatch ? withUnionTags(literal, type) : literal;
  }
  const missing: string[] = [];
  for (const [name, parameter] of Object.entries(expected.parameters)) {
    if (name in given) continue;
    if (parameter.behavior.case === "default") literals[name] = parameter.behavior.value;
    else missing.push(`"${name}" (${describeLiteralType(parameter.var?.type)})`);
  }
  if (missing.length) problems.push(`missing required input${missing.length > 1 ? "s" : ""} ${missing.sort().join(", ")}`);
  Object.assign(literals, expected.fixed);
  if (problems.length) throw invalidArgument(`the inputs do not fit ${expected.what}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return create(LiteralMapSchema, { literals });
}
