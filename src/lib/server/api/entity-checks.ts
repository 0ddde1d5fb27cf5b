// The checks FlyteAdmin applies to what is registered, on the messages alone: identifiers, task templates
// (type, interface, image, Kubernetes quantities) and launch plan inputs against their workflow's interface.
// Pure: the registry lookups happen in the callers.
import { create } from "@bufbuild/protobuf";
import type { LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType, type Identifier } from "../../idl/gen/flyteidl/core/identifier_pb.js";
import { ParameterMapSchema, ParameterSchema, type Parameter, type TypedInterface } from "../../idl/gen/flyteidl/core/interface_pb.js";
import { Resources_ResourceName, type Resources_ResourceEntry, type TaskTemplate } from "../../idl/gen/flyteidl/core/tasks_pb.js";
import { SimpleType } from "../../idl/gen/flyteidl/core/types_pb.js";
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

// Kubernetes resource quantities: a number with an optional binary, decimal or exponent suffix.
const quantityRe = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const suffixFactor: Record<string, number> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

function quantityValue(text: string): number | undefined {
  const m = quantityRe.exec(text);
  if (!m) return undefined;
  const suffix = m[3] ?? "";
  const number = Number(text.slice(0, text.length - suffix.length));
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * suffixFactor[suffix];
}

const resourceLabels: Record<number, string> = {
  [Resources_ResourceName.CPU]: "cpu",
  [Resources_ResourceName.GPU]: "gpu",
  [Resources_ResourceName.MEMORY]: "memory",
  [Resources_ResourceName.STORAGE]: "storage",
  [Resources_ResourceName.EPHEMERAL_STORAGE]: "ephemeral_storage",
};

function quantities(entries: Resources_ResourceEntry[], what: string, problems: string[]): Map<Resources_ResourceName, number> {
  const found = new Map<Resources_ResourceName, number>();
  for (const entry of entries) {
    const label = resourceLabels[entry.name] ?? String(entry.name);
    if (found.has(entry.name)) problems.push(`container.resources.${what} sets ${label} twice`);
    const value = quantityValue(entry.value);
    if (value === undefined) {
      problems.push(`container.resources.${what}.${label} is ${JSON.stringify(entry.value)}, not a Kubernetes quantity such as "500m", "2", "100Mi" or "1Gi"`);
      continue;
    }
    if (entry.name === Resources_ResourceName.GPU && !Number.isInteger(value)) problems.push(`container.resources.${what}.gpu must be a whole number, got ${entry.value}`);
    found.set(entry.name, value);
  }
  return found;
}

/** What FlyteAdmin's task validator refuses, every problem at once. */
export function taskTemplateProblems(template: TaskTemplate): string[] {
  const problems: string[] = [];
  if (!template.type) problems.push("template.type is required");
  if (!template.metadata) problems.push("template.metadata is required");
  else if (template.metadata.runtime && !template.metadata.runtime.version) problems.push("template.metadata.runtime.version is required when runtime is set");
  if (!template.interface) problems.push("template.interface is required");
  for (const [kind, vars] of [["inputs", template.interface?.inputs], ["outputs", template.interface?.outputs]] as const) {
    for (const [name, v] of Object.entries(vars?.variables ?? {})) if (!v.type?.type.case) problems.push(`template.interface.${kind}.${name} has no type`);
  }
  if (template.target.case === "container") {
    const container = template.target.value;
    if (!container.image) problems.push("template.container.image is required");
    const requests = quantities(container.resources?.requests ?? [], "requests", problems);
    const limits = quantities(container.resources?.limits ?? [], "limits", problems);
    for (const [name, request] of requests) {
      const limit = limits.get(name);
      if (limit === undefined) continue;
      const label = resourceLabels[name] ?? String(name);
      if (name === Resources_ResourceName.GPU && limit !== request) problems.push(`gpu requests (${request}) must equal gpu limits (${limit})`);
      else if (name !== Resources_ResourceName.GPU && limit < request) problems.push(`${label} requests are greater than its limits; raise the limit or lower the request`);
    }
  }
  return problems;
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
  const schedule = spec.entityMetadata?.schedule;
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
  if (schedule && schedule.ScheduleExpression.case !== undefined) {
    const kickoff = schedule.kickoffTimeInputArg;
    for (const [name, p] of Object.entries(expected)) {
      if (p.behavior.case === "required" && p.behavior.value && name !== kickoff) {
        problems.push(`a scheduled launch plan cannot leave a required input unbound: give "${name}" a default or a fixed value`);
      }
    }
    if (kickoff) {
      const p = expected[kickoff];
      const t = p?.var?.type?.type;
      if (!p) problems.push(`schedule.kickoff_time_input_arg "${kickoff}" is not a free input of the workflow`);
      else if (!(t?.case === "simple" && t.value === SimpleType.DATETIME)) problems.push(`schedule.kickoff_time_input_arg "${kickoff}" must be a datetime input`);
    }
  }
  if (spec.entityMetadata?.launchConditions) problems.push("entity_metadata.launch_conditions (artifact triggers) are not supported by tsflyte");
  if (problems.length) throw invalidArgument(`launch plan inputs do not match workflow ${workflowText}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return create(ParameterMapSchema, { parameters: expected });
}
