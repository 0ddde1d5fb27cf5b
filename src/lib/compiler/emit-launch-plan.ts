// Builds admin LaunchPlans: the default one every workflow gets, and the user's, with fixed and default inputs
// and a schedule. Never accepts an input the workflow does not declare.
import { create } from "@bufbuild/protobuf";
import { ResourceType } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { Parameter } from "../idl/gen/flyteidl/core/interface_pb.js";
import { LaunchPlanSchema, LaunchPlanState, type LaunchPlan } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { FixedRateUnit, type Schedule as AdminSchedule } from "../idl/gen/flyteidl/admin/schedule_pb.js";
import type { LaunchPlanDefinition, WorkflowDefinition } from "../sdk/entity.js";
import type { Schedule } from "../sdk/options.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { identifier, variableMap, type EmitSettings } from "./emit-task.js";
import { labelProblems, scheduleProblems } from "./registration-rules.js";

export interface LaunchPlanEmitInput {
  name: string;
  workflowName: string;
  workflow: WorkflowDefinition;
  /** Absent for a workflow's default launch plan. */
  plan?: LaunchPlanDefinition;
}

function parameter(type: AnyType, defaultLiteral: Literal | undefined): Parameter {
  return {
    $typeName: "flyteidl.core.Parameter",
    var: { $typeName: "flyteidl.core.Variable", type: type.literalType(), description: type.description ?? "" },
    behavior: defaultLiteral ? { case: "default", value: defaultLiteral } : { case: "required", value: true },
  };
}

const cronAliases = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
const rateRe = /^(\d+)\s*(m|min|minutes?|h|hours?|d|days?)$/;

// What the schedule needs of the plan's inputs (the kickoff input, nothing else left required) is checked with the
// rule FlyteAdmin applies, once the inputs are known: see emitLaunchPlan.
function emitSchedule(schedule: Schedule, problems: string[]): AdminSchedule | undefined {
  const kickoff = schedule.kickoffTimeInput ?? "";
  if ("cron" in schedule) {
    const cron = schedule.cron.trim();
    if (!cronAliases.has(cron) && cron.split(/\s+/).length !== 5) {
      problems.push(`schedule.cron "${schedule.cron}" is not a cron expression: write five fields ("0 2 * * *") or an alias such as @daily`);
      return undefined;
    }
    return {
      $typeName: "flyteidl.admin.Schedule",
      ScheduleExpression: { case: "cronSchedule", value: { $typeName: "flyteidl.admin.CronSchedule", schedule: cron, offset: "" } },
      kickoffTimeInputArg: kickoff,
    };
  }
  const m = rateRe.exec(String(schedule.rate).trim());
  if (!m || Number(m[1]) <= 0) {
    problems.push(`schedule.rate ${JSON.stringify(schedule.rate)} is not a rate: write a whole number of minutes, hours or days, e.g. "10m", "2h", "1d"`);
    return undefined;
  }
  const unit = m[2].startsWith("d") ? FixedRateUnit.DAY : m[2].startsWith("h") ? FixedRateUnit.HOUR : FixedRateUnit.MINUTE;
  return {
    $typeName: "flyteidl.admin.Schedule",
    ScheduleExpression: { case: "rate", value: { $typeName: "flyteidl.admin.FixedRate", value: Number(m[1]), unit } },
    kickoffTimeInputArg: kickoff,
  };
}

/** A launch plan (admin `LaunchPlan`: id and spec), or the problems that prevent it. */
export function emitLaunchPlan(input: LaunchPlanEmitInput, settings: EmitSettings): { launchPlan?: LaunchPlan; problems: string[] } {
  const { workflow, plan } = input;
  const problems: string[] = [];
  const fixed = plan?.fixedInputs ?? {};
  const defaults = plan?.defaultInputs ?? {};
  const inputNames = Object.keys(workflow.inputs);
  for (const [what, values] of [["fixedInputs", fixed], ["defaultInputs", defaults]] as const) {
    for (const key of Object.keys(values)) {
      if (!(key in workflow.inputs)) problems.push(`${what} names "${key}", which is not an input of the workflow (inputs: ${inputNames.join(", ") || "none"})`);
      if (what === "defaultInputs" && key in fixed) problems.push(`"${key}" is in both fixedInputs and defaultInputs; keep one`);
    }
  }
  const parameters: Record<string, Parameter> = {};
  const fixedLiterals: Record<string, Literal> = {};
  for (const [name, type] of Object.entries(workflow.inputs)) {
    try {
      if (name in fixed) {
        fixedLiterals[name] = type.toLiteral(fixed[name], `fixedInputs.${name}`);
        continue;
      }
      let defaultLiteral: Literal | undefined;
      if (name in defaults) defaultLiteral = type.toLiteral(defaults[name], `defaultInputs.${name}`);
      else if (type.hasDefault) defaultLiteral = type.toLiteral(type.defaultValue, `default of input ${name}`);
      else if (acceptsNone(type)) defaultLiteral = type.toLiteral(null, `input ${name}`);
      parameters[name] = parameter(type, defaultLiteral);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const schedule = plan?.schedule ? emitSchedule(plan.schedule, problems) : undefined;
  problems.push(...scheduleProblems(parameters, Object.keys(fixed), schedule, "schedule.kickoffTimeInput"));
  if (plan?.maxParallelism !== undefined && (!Number.isInteger(plan.maxParallelism) || plan.maxParallelism < 0)) {
    problems.push(`maxParallelism must be a whole number ≥ 0, got ${plan.maxParallelism}`);
  }
  problems.push(...labelProblems(plan?.labels ?? {}, "labels"));
  if (problems.length) return { problems };
  const defaultInputs = { $typeName: "flyteidl.core.ParameterMap" as const, parameters };
  const launchPlan = create(LaunchPlanSchema, {
    id: identifier(ResourceType.LAUNCH_PLAN, input.name, settings),
    spec: {
      workflowId: identifier(ResourceType.WORKFLOW, input.workflowName, settings),
      entityMetadata: { schedule, notifications: [], launchConditions: undefined },
      defaultInputs,
      fixedInputs: { literals: fixedLiterals },
      labels: { values: { ...(plan?.labels ?? {}) } },
      annotations: { values: { ...(plan?.annotations ?? {}) } },
      maxParallelism: plan?.maxParallelism ?? 0,
    },
    closure: {
      state: plan?.active ? LaunchPlanState.ACTIVE : LaunchPlanState.INACTIVE,
      expectedInputs: defaultInputs,
      expectedOutputs: variableMap(workflow.outputs),
    },
  });
  return { launchPlan, problems };
}
