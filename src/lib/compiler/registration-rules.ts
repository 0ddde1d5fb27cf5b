// FlyteAdmin's registration rules that need no registry, as one-sentence problems: project ids, names and versions,
// task templates (Kubernetes quantities, resource limits), labels, and schedules. The compiler applies them with
// the user's source location, the control plane at registration; neither keeps a copy of its own. Pure.
import type { Parameter } from "../idl/gen/flyteidl/core/interface_pb.js";
import { Resources_ResourceName, type Resources_ResourceEntry, type TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import { SimpleType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { Schedule } from "../idl/gen/flyteidl/admin/schedule_pb.js";
import { describeLiteralType } from "../types/compat.js";

const projectIdRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// FlyteAdmin takes any version that url.QueryEscape leaves alone: letters, digits and -_.~
const versionRe = /^[A-Za-z0-9_.~-]+$/;
// Flyte entity names are dotted module paths; tsflyte's look like `examples.spend.calculateSpend`.
const entityNameRe = /^[A-Za-z0-9_.:-]+$/;

/** NUL and the other control characters, which no name, path or header may carry. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Values that must never reach a path or a URI built from a name. */
export function hasPathTrouble(value: string): boolean {
  return value === "." || value === ".." || value.includes("/") || value.includes("\\") || hasControlCharacter(value);
}

export function showValue(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function projectIdProblem(id: string, field = "project"): string | undefined {
  if (!id) return `${field} is required`;
  if (id.length > 63 || !projectIdRe.test(id)) {
    return `${field} ${showValue(id)} is not a valid project id: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`;
  }
  return undefined;
}

export function entityNameProblem(name: string, field = "name"): string | undefined {
  if (!name) return `${field} is required`;
  if (name.length > 255 || hasPathTrouble(name) || !entityNameRe.test(name)) {
    return `${field} ${showValue(name)} is not a valid name: use up to 255 letters, digits and "_", ".", ":", "-"`;
  }
  return undefined;
}

export function versionProblem(version: string, field = "version"): string | undefined {
  if (!version) return `${field} is required`;
  if (version.length > 128 || hasPathTrouble(version) || !versionRe.test(version)) {
    return `${field} ${showValue(version)} must be URL-safe: use up to 128 letters, digits and "_", ".", "~", "-"`;
  }
  return undefined;
}

// Kubernetes resource quantities: a number with an optional binary, decimal or exponent suffix.
export const quantityRe = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
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

// Kubernetes label rules, which FlyteAdmin applies to project and launch plan labels.
const labelKeyRe = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValueRe = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export function labelProblems(labels: Record<string, string>, field: string): string[] {
  const entries = Object.entries(labels);
  const problems: string[] = [];
  if (entries.length > 16) problems.push(`${field} has ${entries.length} entries; the limit is 16`);
  for (const [key, value] of entries) {
    if (!labelKeyRe.test(key)) problems.push(`${field} key ${JSON.stringify(key)} is not a valid Kubernetes label key`);
    else if (!labelValueRe.test(value)) problems.push(`${field} value ${JSON.stringify(value)} (key ${key}) is not a valid Kubernetes label value`);
  }
  return problems;
}

/**
 * What a schedule needs of its launch plan's inputs, as FlyteAdmin checks it: every input the plan leaves required is
 * the kickoff input, and that one is a free (neither fixed nor missing) datetime input. `inputs` are the plan's
 * expected inputs (defaults, and required ones); `fixed` the names it fixes; `kickoffField` how the caller's
 * users spell the kickoff setting.
 */
export function scheduleProblems(inputs: Record<string, Parameter>, fixed: string[], schedule: Schedule | undefined, kickoffField: string): string[] {
  if (!schedule || schedule.ScheduleExpression.case === undefined) return [];
  const problems: string[] = [];
  const kickoff = schedule.kickoffTimeInputArg;
  for (const [name, p] of Object.entries(inputs)) {
    if (p.behavior.case === "required" && p.behavior.value && name !== kickoff) {
      problems.push(`a scheduled launch plan cannot leave a required input unbound: give "${name}" a default or a fixed value`);
    }
  }
  if (kickoff) {
    const t = inputs[kickoff]?.var?.type?.type;
    if (fixed.includes(kickoff)) problems.push(`${kickoffField} "${kickoff}" is fixed by the launch plan, so the schedule cannot set it`);
    else if (!inputs[kickoff]) problems.push(`${kickoffField} names "${kickoff}", which is not an input of the workflow`);
    else if (!(t?.case === "simple" && t.value === SimpleType.DATETIME)) {
      problems.push(`${kickoffField} "${kickoff}" must be a datetime input, but it is ${describeLiteralType(inputs[kickoff].var?.type)}`);
    }
  }
  return problems;
}
