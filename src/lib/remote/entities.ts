// Registered entities and projects on a control plane, read as views for `get task|workflow|launchplan|project`,
// plus activating launch plans and creating projects. Never prints, never reads local modules.
import { fromJson, toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { TaskListSchema, TaskSchema, type Task } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowListSchema, WorkflowSchema, type Workflow } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanListSchema, LaunchPlanSchema, LaunchPlanState, type LaunchPlan } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { ProjectsSchema, ProjectSchema, Project_ProjectState } from "../idl/gen/flyteidl/admin/project_pb.js";
import type { TypedInterface } from "../idl/gen/flyteidl/core/interface_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { NotFoundError, UserError } from "../errors.js";
import { describeLiteralType } from "../types/compat.js";
import type { AdminClient } from "../admin/client.js";
import { describeKind, type EntityKind } from "./register.js";
import { parseFieldSelector, selectorTest } from "./field-selector.js";

const lenient = { ignoreUnknownFields: true };
const segment: Record<EntityKind, string> = { task: "tasks", workflow: "workflows", launchPlan: "launch_plans" };
const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

/** One registered entity version as `get` shows it; `message` is FlyteAdmin's Task/Workflow/LaunchPlan JSON. */
export interface EntityView {
  kind: EntityKind;
  project: string;
  domain: string;
  name: string;
  version: string;
  /** The task type, e.g. `typescript-task`. */
  type?: string;
  /** Launch plans: ACTIVE or INACTIVE. */
  state?: "ACTIVE" | "INACTIVE";
  /** `name: type` per input; `?` marks inputs that may be left out. */
  inputs: string[];
  outputs: string[];
  createdAt?: string;
  message: JsonObject;
}

export interface GetEntities {
  kind: EntityKind;
  project: string;
  domain: string;
  name?: string;
  version?: string;
  latest?: boolean;
  limit: number;
  fieldSelector?: string;
}

type AnyEntity = Task | Workflow | LaunchPlan;

/** A fetched entity with the message itself, for commands that need more than the view (DOT, exec files). */
export interface FetchedEntity<M extends AnyEntity = AnyEntity> {
  view: EntityView;
  entity: M;
}

/** One version (given or the newest) of a named entity. */
export async function fetchEntity<K extends EntityKind>(
  client: AdminClient,
  request: { kind: K; project: string; domain: string; name: string; version?: string },
): Promise<FetchedEntity<K extends "task" ? Task : K extends "workflow" ? Workflow : LaunchPlan>> {
  const { kind, project, domain, name } = request;
  let json: JsonValue;
  if (request.version) {
    try {
      json = await client.get<JsonValue>(`/api/v1/${segment[kind]}/${path(project, domain, name, request.version)}`);
    } catch (e) {
      if (e instanceof NotFoundError) {
        throw new NotFoundError(`${describeKind(kind)} ${name} version ${request.version} not found in ${project}/${domain}`, `tsflyte get ${cliNoun(kind)} ${name} lists its versions`);
      }
      throw e;
    }
  } else {
    const newest = await listEntities(client, { kind, project, domain, name, limit: 1 });
    if (newest.length === 0) throw new NotFoundError(`${describeKind(kind)} ${name} not found in ${project}/${domain}`, `tsflyte get ${cliNoun(kind)} lists what is registered`);
    // A list item of a workflow carries no compiled closure; fetch the version itself.
    json = await client.get<JsonValue>(`/api/v1/${segment[kind]}/${path(project, domain, name, newest[0].view.version)}`);
  }
  const entity = decodeOne(kind, json);
  return { view: viewOf(kind, entity), entity } as FetchedEntity<K extends "task" ? Task : K extends "workflow" ? Workflow : LaunchPlan>;
}

export function cliNoun(kind: EntityKind): string {
  return kind === "launchPlan" ? "launchplan" : kind;
}

/** `get task|workflow|launchplan [NAME] [--version V | --latest]`: views newest first, or the one asked for. */
export async function getRemoteEntities(client: AdminClient, request: GetEntities): Promise<EntityView[] | EntityView> {
  if (request.version && request.latest) throw new UserError("give --version or --latest, not both");
  if ((request.version || request.latest) && !request.name) throw new UserError(`--${request.version ? "version" : "latest"} needs a ${describeKind(request.kind)} name`);
  if (request.name && (request.version || request.latest)) {
    return (await fetchEntity(client, { ...request, name: request.name })).view;
  }
  const selector = parseSelector(request.fieldSelector, request.kind);
  // FlyteAdmin filters entity lists server-side; tsflyte's API does not, so the selector applies here, over every page.
  const views = (await listEntities(client, { ...request, limit: selector ? Number.MAX_SAFE_INTEGER : request.limit })).map((f) => f.view);
  const kept = selector ? views.filter(selector).slice(0, request.limit) : views;
  if (request.name && kept.length === 0 && !selector) throw new NotFoundError(`${describeKind(request.kind)} ${request.name} not found in ${request.project}/${request.domain}`);
  return kept;
}

async function listEntities(
  client: AdminClient,
  request: { kind: EntityKind; project: string; domain: string; name?: string; limit: number },
): Promise<FetchedEntity[]> {
  const out: FetchedEntity[] = [];
  let token: string | undefined;
  const base = `/api/v1/${segment[request.kind]}/${path(request.project, request.domain, ...(request.name ? [request.name] : []))}`;
  do {
    const pageSize = Math.min(1000, request.limit - out.length);
    const json = await client.get<JsonValue>(base, { limit: pageSize, token, "sort_by.key": "created_at", "sort_by.direction": "DESCENDING" });
    const page = decodeList(request.kind, json);
    for (const entity of page.items) out.push({ view: viewOf(request.kind, entity), entity });
    token = page.token || undefined;
  } while (token && out.length < request.limit);
  return out;
}

function decodeOne(kind: EntityKind, json: JsonValue): AnyEntity {
  return kind === "task" ? fromJson(TaskSchema, json, lenient) : kind === "workflow" ? fromJson(WorkflowSchema, json, lenient) : fromJson(LaunchPlanSchema, json, lenient);
}

function decodeList(kind: EntityKind, json: JsonValue): { items: AnyEntity[]; token: string } {
  if (kind === "task") {
    const list = fromJson(TaskListSchema, json, lenient);
    return { items: list.tasks, token: list.token };
  }
  if (kind === "workflow") {
    const list = fromJson(WorkflowListSchema, json, lenient);
    return { items: list.workflows, token: list.token };
  }
  const list = fromJson(LaunchPlanListSchema, json, lenient);
  return { items: list.launchPlans, token: list.token };
}

function interfaceLines(iface: TypedInterface | undefined, side: "inputs" | "outputs", defaults?: Set<string>): string[] {
  const vars = iface?.[side]?.variables ?? {};
  return Object.entries(vars).map(([name, v]) => `${name}${defaults?.has(name) ? "?" : ""}: ${describeLiteralType(v.type)}`);
}

function iso(ts: { seconds: bigint; nanos: number } | undefined): string | undefined {
  return ts && (ts.seconds !== 0n || ts.nanos !== 0) ? new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)).toISOString() : undefined;
}

function viewOf(kind: EntityKind, entity: AnyEntity): EntityView {
  const id = entity.id;
  const base = { kind, project: id?.project ?? "", domain: id?.domain ?? "", name: id?.name ?? "", version: id?.version ?? "" };
  if (kind === "task") {
    const task = entity as Task;
    const template = task.closure?.compiledTask?.template;
    return dropUndefined({
      ...base,
      type: template?.type,
      inputs: interfaceLines(template?.interface, "inputs"),
      outputs: interfaceLines(template?.interface, "outputs"),
      createdAt: iso(task.closure?.createdAt),
      message: toJson(TaskSchema, task) as JsonObject,
    });
  }
  if (kind === "workflow") {
    const wf = entity as Workflow;
    const template = wf.closure?.compiledWorkflow?.primary?.template;
    return dropUndefined({
      ...base,
      inputs: interfaceLines(template?.interface, "inputs"),
      outputs: interfaceLines(template?.interface, "outputs"),
      createdAt: iso(wf.closure?.createdAt),
      message: toJson(WorkflowSchema, wf) as JsonObject,
    });
  }
  const lp = entity as LaunchPlan;
  const expected = lp.closure?.expectedInputs?.parameters ?? lp.spec?.defaultInputs?.parameters ?? {};
  const optional = new Set(Object.entries(expected).filter(([, p]) => p.behavior.case !== "required" || !p.behavior.value).map(([n]) => n));
  const inputs = Object.entries(expected).map(([n, p]) => `${n}${optional.has(n) ? "?" : ""}: ${describeLiteralType(p.var?.type)}`);
  return dropUndefined({
    ...base,
    state: lp.closure?.state === LaunchPlanState.ACTIVE ? ("ACTIVE" as const) : ("INACTIVE" as const),
    inputs,
    outputs: interfaceLines(lp.closure?.expectedOutputs ? { $typeName: "flyteidl.core.TypedInterface", outputs: lp.closure.expectedOutputs } as TypedInterface : undefined, "outputs"),
    createdAt: iso(lp.closure?.createdAt),
    message: toJson(LaunchPlanSchema, lp) as JsonObject,
  });
}

const selectorKeys: Record<EntityKind, (keyof EntityView)[]> = {
  task: ["name", "version", "type"],
  workflow: ["name", "version"],
  launchPlan: ["name", "version", "state"],
};

/** `--filter.fieldSelector "k=v,k!=v"` over entity views. */
function parseSelector(selector: string | undefined, kind: EntityKind): ((view: EntityView) => boolean) | undefined {
  const terms = parseFieldSelector(selector, selectorKeys[kind], /^(task|workflow|launch_plan|launchplan)\./);
  return selectorTest(terms, (view: EntityView, key) => String(view[key as keyof EntityView] ?? ""));
}

function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// What a workflow graph and an execution spec need

/** The workflow's own template, its subworkflows and the tasks it calls, from its compiled closure. */
export function workflowGraphParts(workflow: Workflow): { workflow: WorkflowTemplate; subWorkflows: WorkflowTemplate[]; tasks: TaskTemplate[] } {
  const compiled = workflow.closure?.compiledWorkflow;
  const primary = compiled?.primary?.template;
  if (!primary) throw new UserError(`workflow ${workflow.id?.name ?? ""} came back without its compiled closure; cannot draw it`);
  return {
    workflow: primary,
    subWorkflows: (compiled.subWorkflows ?? []).map((s) => s.template).filter((t): t is WorkflowTemplate => t !== undefined),
    tasks: (compiled.tasks ?? []).map((t) => t.template).filter((t): t is TaskTemplate => t !== undefined),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Launch plan state, projects

/** `update launchplan NAME --version V --activate|--deactivate`. */
export async function setLaunchPlanState(
  client: AdminClient,
  request: { project: string; domain: string; name: string; version: string; state: "ACTIVE" | "INACTIVE" },
): Promise<EntityView> {
  const at = `/api/v1/launch_plans/${path(request.project, request.domain, request.name, request.version)}`;
  try {
    await client.put(at, { state: request.state });
  } catch (e) {
    if (e instanceof NotFoundError) {
      throw new NotFoundError(`launch plan ${request.name} version ${request.version} not found in ${request.project}/${request.domain}`, `tsflyte get launchplan ${request.name} lists its versions`);
    }
    throw e;
  }
  return (await fetchEntity(client, { kind: "launchPlan", ...request })).view;
}

export interface ProjectView {
  id: string;
  name: string;
  description: string;
  domains: string[];
  state: string;
}

export async function getProjects(client: AdminClient, id?: string): Promise<ProjectView[] | ProjectView> {
  if (id) {
    try {
      return projectView(fromJson(ProjectSchema, await client.get<JsonValue>(`/api/v1/projects/${encodeURIComponent(id)}`), lenient));
    } catch (e) {
      // FlyteAdmin before 1.13 has no GET projects/{id}; the list has it too.
      if (!(e instanceof NotFoundError)) throw e;
      const all = (await getProjects(client)) as ProjectView[];
      const found = all.find((p) => p.id === id);
      if (!found) throw new NotFoundError(`project ${id} not found`, "tsflyte get project lists them; tsflyte create project --id ID --name NAME creates one");
      return found;
    }
  }
  return fromJson(ProjectsSchema, await client.get<JsonValue>("/api/v1/projects"), lenient).projects.map(projectView);
}

function projectView(p: ReturnType<typeof fromJson<typeof ProjectSchema>>): ProjectView {
  return { id: p.id, name: p.name, description: p.description, domains: p.domains.map((d) => d.id), state: Project_ProjectState[p.state] ?? "ACTIVE" };
}

export async function createProject(client: AdminClient, request: { id: string; name: string; description?: string }): Promise<ProjectView> {
  await client.post("/api/v1/projects", { project: { id: request.id, name: request.name, description: request.description ?? "" } });
  return (await getProjects(client, request.id)) as ProjectView;
}
