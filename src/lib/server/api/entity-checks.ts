// The checks FlyteAdmin applies to what is registered, on the messages alone: identifiers and launch plan inputs
// against their workflow's interface (task templates, names and schedules by the rules the compiler shares).
// Pure: the registry lookups happen in the callers.
import { create } from "@bufbuild/protobuf";
import type { LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType, type Identifier } from "../../idl/gen/flyteidl/core/identifier_pb.js";
import { ParameterMapSchema, ParameterSchema, type Parameter, type TypedInterface } from "../../idl/gen/flyteidl/core/interface_pb.js";
import { scheduleProblems } from "../../compiler/registration-rules.js";
import { describeLiteralType, isCastable } from "../../types/compat.js";
import { invalidArgument } from "./api-error.js";
import { literalMismatch } from "./literal-check.js";
import { checkDomain, checkEntityName, checkProjectId, checkVersion } from "./resource-names.js";

const resourceTypeNames: Record<number, string> = {
  [ResourceType.UNSPECIFIED]: "UNSPECIFIED",
  [ResourceType.TASK]: "TASK",
  [ResourceType.WORKFLOW]: "WORKFLOW",
  [ResourceType.LAUNCH_PLAN]: "LAUNCH_PLAN",
  [ResourceType.DATASET]: "DATASET",
};

/** A fully specified identifier of the expected resource type, with every part passing FlyteAdmin's rules. */
export function checkIdentifier(id: Identifier | undefined, expected: ResourceType, field: string): Identifier {
  if (!id) throw invalidArgument(`${field} is required`);
  if (id.resourceType !== expected) {
    throw invalidArgument(`${field}.resource_type is ${resourceTypeNames[id.resourceType] ?? id.resourceType}; expected ${resourceTypeNames[expected]}`);
  }
  checkProjectId(id.project, `${field}.project`);
  checkDomain(id.domain, `${field}.domain`);
  checkEntityName(id.name, `${field}.name`);
  checkVersion(id.version, `${field}.version`);
  if (id.org) throw invalidArgument(`${field}.org is not supported by tsflyte; leave it empty`);
  return id;
}

export function sameEntity(a: Identifier, b: Identifier): boolean {
  return a.resourceType === b.resourceType && a.project === b.project && a.domain === b.domain && a.name === b.name && a.version === b.version;
}

export function idText(id: Identifier): string {
  return `${id.project}/${id.domain}/${id.name}@${id.version}`;
}

/**
 * Launch plan inputs against the workflow's interface, as FlyteAdmin checks them: every fixed and default input is
 * an input of the workflow with a matching type, and the expected inputs are the defaults plus every workflow
 * input that is neither fixed nor defaulted (then required). Throws with all problems; returns the expected inputs.
 */
export function launchPlanExpectedInputs(spec: LaunchPlanSpec, workflow: TypedInterface | undefined, workflowText: string): LaunchPlanSpec["defaultInputs"] {
  const problems: string[] = [];
  const declared = workflow?.inputs?.variables ?? {};
  const names = Object.keys(declared);
  const known = `the inputs of workflow ${workflowText} are ${names.length ? names.join(", ") : "none"}`;
  const fixed = spec.fixedInputs?.literals ?? {};
  const defaults = spec.defaultInputs?.parameters ?? {};
  for (const [name, literal] of Object.entries(fixed)) {
    const variable = declared[name];
    if (!variable?.type) {
      problems.push(`fixed input "${name}" is not an input of the workflow; ${known}`);
      continue;
    }
    const mismatch = literalMismatch(literal, variable.type, `fixed input "${name}"`);
    if (mismatch) problems.push(mismatch);
  }
  for (const [name, parameter] of Object.entries(defaults)) {
    const variable = declared[name];
    if (!variable?.type) {
      problems.push(`default input "${name}" is not an input of the workflow; ${known}`);
      continue;
    }
    if (name in fixed) problems.push(`input "${name}" is both fixed and defaulted; keep one`);
    const type = parameter.var?.type;
    if (!type?.type.case) {
      problems.push(`default input "${name}" has no type`);
      continue;
    }
    if (!isCastable(type, variable.type)) {
      problems.push(`default input "${name}" is declared ${describeLiteralType(type)}, but the workflow input is ${describeLiteralType(variable.type)}`);
    }
    const behavior = parameter.behavior;
    if (behavior.case === "default") {
      const mismatch = literalMismatch(behavior.value, variable.type, `the default of input "${name}"`);
      if (mismatch) problems.push(mismatch);
    } else if (behavior.case === "artifactQuery" || behavior.case === "artifactId") {
      problems.push(`default input "${name}" uses an artifact, which tsflyte does not support`);
    } else if (!(behavior.case === "required" && behavior.value)) {
      problems.push(`default input "${name}" has neither a default nor required: true`);
    }
  }
  const expected: Record<string, Parameter> = {};
  for (const [name, variable] of Object.entries(declared)) {
    if (defaults[name]) expected[name] = defaults[name];
    else if (!(name in fixed)) {
      expected[name] = create(ParameterSchema, {
        var: { type: variable.type, description: variable.description },
        behavior: { case: "required", value: true },
      });
    }
  }
  problems.push(...scheduleProblems(expected, Object.keys(fixed), spec.entityMetadata?.schedule, "schedule.kickoff_time_input_arg"));
  if (spec.entityMetadata?.launchConditions) problems.push("entity_metadata.launch_conditions (artifact triggers) are not supported by tsflyte");
  if (problems.length) throw invalidArgument(`launch plan inputs do not match workflow ${workflowText}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return create(ParameterMapSchema, { parameters: expected });
}
