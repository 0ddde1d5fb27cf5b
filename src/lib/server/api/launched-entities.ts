// What an execution launched, resolved through the registry: the launch plan or task id, the workflow a launch
// plan runs, and the registered ids of the tasks it can reach. Never fails when an entity has gone missing.
import type { EntityIdParts } from "../../engine/history.js";
import type { ExecutionRecord } from "../../store/records.js";
import type { ApiContext } from "./api-context.js";
import { resolveReferences } from "./compiled-closure.js";

/** The launched entity's id: its own project and domain when the record names them, else the execution's. */
export function launchedId(record: ExecutionRecord): EntityIdParts {
  return {
    project: record.launchProject ?? record.project,
    domain: record.launchDomain ?? record.domain,
    name: record.launchName,
    version: record.launchVersion,
  };
}

/** The workflow a launch plan execution runs; undefined for tasks and for plans no longer registered. */
export async function launchedWorkflowId(ctx: ApiContext, record: ExecutionRecord): Promise<EntityIdParts | undefined> {
  if (record.launchKind === "workflow") return launchedId(record);
  if (record.launchKind !== "launchPlan") return undefined;
  const spec = await ctx.registry.launchPlanSpec(launchedId(record));
  const id = spec?.workflowId;
  return id ? { project: id.project, domain: id.domain, name: id.name, version: id.version } : undefined;
}

// Launch plans calling launch plans: deep enough for real pipelines, bounded against cycles.
const maxLaunchPlanDepth = 8;

/**
 * The registered id of every task the execution can run, by task name. Attempts record only the task's name;
 * a name that two versions share (possible across launch plans) resolves to the first one found.
 */
export async function launchedTaskIds(ctx: ApiContext, record: ExecutionRecord): Promise<Map<string, EntityIdParts>> {
  const ids = new Map<string, EntityIdParts>();
  if (record.launchKind === "task") {
    ids.set(record.launchName, launchedId(record));
    return ids;
  }
  let workflows: EntityIdParts[] = [];
  const first = await launchedWorkflowId(ctx, record);
  if (first) workflows.push(first);
  const seen = new Set<string>();
  for (let depth = 0; depth < maxLaunchPlanDepth && workflows.length; depth++) {
    const next: EntityIdParts[] = [];
    for (const wf of workflows) {
      const key = `${wf.project}\0${wf.domain}\0${wf.name}\0${wf.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const spec = await ctx.registry.workflowSpec(wf);
      if (!spec) continue;
      const resolved = await resolveReferences(spec, ctx.registry);
      for (const template of resolved.tasks.values()) {
        const id = template.id;
        if (id && !ids.has(id.name)) ids.set(id.name, { project: id.project, domain: id.domain, name: id.name, version: id.version });
      }
      for (const lp of resolved.launchPlans.values()) {
        const w = lp.spec.workflowId;
        if (w) next.push({ project: w.project, domain: w.domain, name: w.name, version: w.version });
      }
    }
    workflows = next;
  }
  return ids;
}
