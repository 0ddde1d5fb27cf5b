// FlyteAdmin's list filter syntax, `eq(phase,SUCCEEDED)+gte(created_at,2026-01-01T00:00:00Z)`, parsed into
// field/operator/values and mapped onto what the store can filter on. Never drops an expression it cannot apply.
import type { ExecutionFilter, ExecutionFilterField, ExecutionPhase, LaunchKind } from "../../store/records.js";
import { invalidArgument } from "./api-error.js";

export type FilterOp = ExecutionFilter["op"];

export interface ParsedFilter {
  op: FilterOp;
  field: string;
  values: string[];
}

const supportedOps: readonly FilterOp[] = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "value_in"];
// FlyteAdmin knows these too; the store cannot express them yet.
const unsupportedOps = ["not_like", "value_not_in"];

const expressionRe = /^([a-z_]+)\(([^,]+),\s?(.*)\)$/;

/** Splits and checks the expressions; an unknown function, or a bad shape, is a 400 naming the expression. */
export function parseFilters(text: string | undefined): ParsedFilter[] {
  if (!text || !text.trim()) return [];
  return text.split("+").map((raw) => {
    const expression = raw.trim();
    const m = expressionRe.exec(expression);
    if (!m) throw invalidArgument(`filter "${expression.slice(0, 80)}" is not of the form function(field,value), e.g. eq(phase,SUCCEEDED)`);
    const [, fn, field, value] = m;
    if (unsupportedOps.includes(fn)) throw invalidArgument(`filter function "${fn}" is not supported by tsflyte; use one of ${supportedOps.join(", ")}`);
    if (!(supportedOps as readonly string[]).includes(fn)) throw invalidArgument(`unrecognized filter function "${fn}"; use one of ${supportedOps.join(", ")}`);
    const values = fn === "value_in" ? value.split(";") : [value];
    if (values.some((v) => v === "")) throw invalidArgument(`filter "${expression.slice(0, 80)}" has an empty value`);
    return { op: fn as FilterOp, field: field.trim(), values };
  });
}

function timestampMs(value: string, field: string): number {
  // RFC 3339, as FlyteAdmin requires; Date.parse alone would take "2026" or "March 3".
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalidArgument(`${field} value "${value}" must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z`);
  }
  return Date.parse(value);
}

const executionPhases: readonly ExecutionPhase[] = ["UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDING", "SUCCEEDED", "FAILING", "FAILED", "ABORTED", "TIMED_OUT", "ABORTING"];
// ExecutionMetadata.ExecutionMode, by name and by number (FlyteAdmin stores the number).
const executionModes = ["MANUAL", "SCHEDULED", "SYSTEM", "RELAUNCH", "CHILD_WORKFLOW", "RECOVERED", "TRIGGER"];

function phaseValue(value: string): string {
  if (!(executionPhases as readonly string[]).includes(value)) throw invalidArgument(`phase "${value}" is not an execution phase; use one of ${executionPhases.join(", ")}`);
  return value;
}

function modeValue(value: string): string {
  if (/^\d+$/.test(value) && executionModes[Number(value)]) return executionModes[Number(value)];
  if (executionModes.includes(value)) return value;
  throw invalidArgument(`mode "${value}" is not an execution mode; use one of ${executionModes.join(", ")}`);
}

/** Filters the store applies, plus those the API applies to the page itself (the workflow a launch plan runs). */
export interface ExecutionFilters {
  store: ExecutionFilter[];
  workflow: ParsedFilter[];
}

const launchPlanKinds: readonly LaunchKind[] = ["launchPlan", "workflow"];

/**
 * Maps FlyteAdmin's execution filter fields onto the store's: `phase`, `name`, `mode`, the times,
 * `launch_plan.name|version`, `task.name|version`; `workflow.name|version` are answered by the API.
 */
export function executionFilters(parsed: ParsedFilter[]): ExecutionFilters {
  const out: ExecutionFilters = { store: [], workflow: [] };
  const push = (field: ExecutionFilterField, f: ParsedFilter, values: (string | number)[]) => {
    out.store.push({ field, op: f.op, value: f.op === "value_in" ? values : values[0] });
  };
  const kind = (kinds: readonly LaunchKind[]) => out.store.push({ field: "launch_kind", op: "value_in", value: kinds });
  for (const f of parsed) {
    const field = f.field.startsWith("execution.") ? f.field.slice("execution.".length) : f.field;
    switch (field) {
      case "phase":
        push("phase", f, f.values.map(phaseValue));
        break;
      case "name":
        push("name", f, f.values);
        break;
      case "mode":
        push("mode", f, f.values.map(modeValue));
        break;
      case "created_at":
      case "updated_at":
      case "started_at":
      case "ended_at":
        if (f.op === "contains") throw invalidArgument(`${field} is a time: use eq, ne, gt, gte, lt, lte or value_in on it, not contains`);
        push(field, f, f.values.map((v) => timestampMs(v, field)));
        break;
      case "launch_plan.name":
      case "launch_plan.version":
        push(field === "launch_plan.name" ? "launch_name" : "launch_version", f, f.values);
        kind(launchPlanKinds);
        break;
      case "task.name":
      case "task.version":
        push(field === "task.name" ? "launch_name" : "launch_version", f, f.values);
        kind(["task"]);
        break;
      case "workflow.name":
      case "workflow.version":
        if (!["eq", "ne", "contains", "value_in"].includes(f.op)) throw invalidArgument(`${field} takes eq, ne, contains or value_in, not ${f.op}`);
        out.workflow.push({ ...f, field });
        break;
      default:
        throw invalidArgument(
          `"${f.field}" is not a field executions can be filtered on; use phase, name, mode, created_at, updated_at, started_at, ended_at, ` +
            "launch_plan.name, launch_plan.version, task.name, task.version, workflow.name or workflow.version",
        );
    }
  }
  return out;
}

/** Whether a string or time value passes one filter; for filters the API applies itself. */
export function valuePasses(value: string | number | undefined, f: { op: FilterOp; values: (string | number)[] }): boolean {
  const [first] = f.values;
  switch (f.op) {
    case "eq":
      return value !== undefined && value === first;
    case "ne":
      return value !== first;
    case "contains":
      return typeof value === "string" && value.includes(String(first));
    case "value_in":
      return value !== undefined && f.values.includes(value);
    case "gt":
      return value !== undefined && value > first;
    case "gte":
      return value !== undefined && value >= first;
    case "lt":
      return value !== undefined && value < first;
    case "lte":
      return value !== undefined && value <= first;
  }
}

/**
 * Filters on node executions, applied in memory: `phase`, `node_id` and the times. Returns a predicate over the
 * fields the caller reads off each node.
 */
export function nodeFilters(parsed: ParsedFilter[]): (fields: Record<string, string | number | undefined>) => boolean {
  const checks = parsed.map((f) => {
    const field = f.field.startsWith("node_execution.") ? f.field.slice("node_execution.".length) : f.field;
    if (field === "created_at" || field === "updated_at" || field === "started_at") {
      if (f.op === "contains") throw invalidArgument(`${field} is a time: use eq, ne, gt, gte, lt, lte or value_in on it, not contains`);
      return { field, op: f.op, values: f.values.map((v) => timestampMs(v, field)) };
    }
    if (field === "phase" || field === "node_id") return { field, op: f.op, values: f.values };
    throw invalidArgument(`"${f.field}" is not a field node executions can be filtered on; use phase, node_id, created_at, updated_at or started_at`);
  });
  return (fields) => checks.every((c) => valuePasses(fields[c.field], c));
}
