// Registered tasks, workflows and launch plans over FlyteAdmin's REST paths: create (immutable versions, identical
// re-register accepted, compile-checked against the registry), get, list, names, launch plan state. Each create is
// one store transaction; nothing is written before every check has passed.
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { NamedEntityIdentifierListSchema } from "../../idl/gen/flyteidl/admin/common_pb.js";
import {
  LaunchPlanCreateRequestSchema,
  LaunchPlanCreateResponseSchema,
  LaunchPlanListSchema,
  LaunchPlanSchema,
  LaunchPlanSpecSchema,
  LaunchPlanState,
  LaunchPlanUpdateRequestSchema,
  LaunchPlanUpdateResponseSchema,
  type LaunchPlan,
} from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import {
  TaskCreateRequestSchema,
  TaskCreateResponseSchema,
  TaskListSchema,
  TaskSchema,
  TaskSpecSchema,
  type Task,
} from "../../idl/gen/flyteidl/admin/task_pb.js";
import {
  WorkflowCreateRequestSchema,
  WorkflowCreateResponseSchema,
  WorkflowListSchema,
  WorkflowSchema,
  WorkflowSpecSchema,
  type Workflow,
} from "../../idl/gen/flyteidl/admin/workflow_pb.js";
import { ResourceType, type Identifier } from "../../idl/gen/flyteidl/core/identifier_pb.js";
import type { EntityKey, EntityRecord, EntityResource, ListEntitiesQuery } from "../../store/records.js";
import type { ApiContext } from "./api-context.js";
import { invalidArgument, notFound } from "./api-error.js";
import { buildClosure, compileProblems, resolveReferences } from "./compiled-closure.js";
import { taskTemplateProblems } from "../../compiler/registration-rules.js";
import { checkIdentifier, idText, launchPlanExpectedInputs, sameEntity } from "./entity-checks.js";
import { pagingParams, readLimit, readSortBy, readToken, withPageToken } from "./list-params.js";
import { checkLabels, requireProjectAndDomain } from "./projects.js";
import { decodeLaunchPlanSpec, decodeTaskSpec, decodeWorkflowSpec, describeEntity } from "./registry-reader.js";
import { checkDomain, checkEntityName, checkProjectId, checkVersion } from "./resource-names.js";
import type { RequestContext, Route } from "./router.js";
import { canonicalSpec, describeDifferences, jsonDifferences } from "./spec-digest.js";
import { readMessage, readRequest, sendMessage } from "./wire-format.js";

const resourceTypeOf: Record<EntityResource, ResourceType> = {
  task: ResourceType.TASK,
  workflow: ResourceType.WORKFLOW,
  launchPlan: ResourceType.LAUNCH_PLAN,
};

const resourceWords: Record<EntityResource, string> = { task: "task", workflow: "workflow", launchPlan: "launch plan" };

function identifierOf(record: EntityRecord) {
  return { resourceType: resourceTypeOf[record.resource], project: record.project, domain: record.domain, name: record.name, version: record.version };
}

/** The spec's template id must be the request's id; an absent one is filled in, as registration clients expect. */
function reconcileTemplateId(template: { id?: Identifier }, id: Identifier, field: string): void {
  if (!template.id) template.id = id;
  else if (!sameEntity(template.id, id)) throw invalidArgument(`${field} (${idText(template.id)}) does not match id (${idText(id)})`);
}

/**
 * Stores a spec under its key. An identical spec already there is success (FlyteAdmin answers AlreadyExists, which
 * clients treat as success); a different one is refused with the field paths that differ.
 */
async function registerSpec<Desc extends DescMessage>(
  ctx: ApiContext,
  resource: EntityResource,
  id: Identifier,
  schema: Desc,
  spec: MessageShape<Desc>,
): Promise<void> {
  const { bytes, digest, json } = canonicalSpec(schema, spec);
  const outcome = await ctx.deps.store.registerEntity({
    resource,
    project: id.project,
    domain: id.domain,
    name: id.name,
    version: id.version,
    spec: bytes,
    digest,
    // FlyteAdmin creates every launch plan inactive; activating is a separate, explicit request.
    ...(resource === "launchPlan" ? { state: "INACTIVE" as const } : {}),
    createdAt: ctx.now(),
  });
  if (outcome.created || outcome.existing.digest === digest) return;
  const existing = canonicalSpec(schema, decodeSpec(resource, outcome.existing) as MessageShape<Desc>).json;
  const differences = jsonDifferences(existing, json);
  // Digests of equal specs can differ only if an older server wrote them differently; equal JSON is the same spec.
  if (differences.length === 0) return;
  throw invalidArgument(
    `${resourceWords[resource]} ${id.name} version ${id.version} is already registered with a different structure, and versions are immutable: ` +
      `register this one under a new version. What differs (registered → this request):\n${describeDifferences(differences)}`,
  );
}

function decodeSpec(resource: EntityResource, record: EntityRecord) {
  return resource === "task" ? decodeTaskSpec(record) : resource === "workflow" ? decodeWorkflowSpec(record) : decodeLaunchPlanSpec(record);
}

function pathKey(params: Record<string, string>, withVersion: true): EntityKey;
function pathKey(params: Record<string, string>, withVersion: false): Omit<EntityKey, "version">;
function pathKey(params: Record<string, string>, withVersion: boolean): EntityKey | Omit<EntityKey, "version"> {
  checkProjectId(params.project);
  checkDomain(params.domain);
  checkEntityName(params.name);
  if (!withVersion) return { project: params.project, domain: params.domain, name: params.name };
  checkVersion(params.version);
  return { project: params.project, domain: params.domain, name: params.name, version: params.version };
}

async function getRecord(ctx: ApiContext, resource: EntityResource, key: EntityKey): Promise<EntityRecord> {
  const record = await ctx.deps.store.getEntity(resource, key);
  if (!record) throw notFound(`${resourceWords[resource]} ${describeEntity(key)} does not exist`);
  return record;
}

// ---------------------------------------------------------------------------------------------------------
// Records → admin messages

function taskMessage(ctx: ApiContext, record: EntityRecord): Task {
  const spec = ctx.registry.remember(record, decodeTaskSpec);
  return create(TaskSchema, {
    id: identifierOf(record),
    closure: { compiledTask: { template: spec.template }, createdAt: timestampFromMs(record.createdAt) },
    shortDescription: spec.description?.shortDescription ?? "",
  });
}

/** With the compiled closure for a single get; lists carry only the creation time, as FlyteAdmin's do. */
async function workflowMessage(ctx: ApiContext, record: EntityRecord, withClosure: boolean): Promise<Workflow> {
  const spec = ctx.registry.remember(record, decodeWorkflowSpec);
  const compiledWorkflow = withClosure ? buildClosure(spec, await resolveReferences(spec, ctx.registry)) : undefined;
  return create(WorkflowSchema, {
    id: identifierOf(record),
    closure: { compiledWorkflow, createdAt: timestampFromMs(record.createdAt) },
    shortDescription: spec.description?.shortDescription ?? "",
  });
}

async function launchPlanMessage(ctx: ApiContext, record: EntityRecord): Promise<LaunchPlan> {
  const spec = ctx.registry.remember(record, decodeLaunchPlanSpec);
  const workflow = spec.workflowId ? await ctx.registry.workflowSpec(spec.workflowId) : undefined;
  return create(LaunchPlanSchema, {
    id: identifierOf(record),
    spec,
    closure: {
      state: record.state === "ACTIVE" ? LaunchPlanState.ACTIVE : LaunchPlanState.INACTIVE,
      expectedInputs: spec.defaultInputs,
      expectedOutputs: workflow?.template?.interface?.outputs,
      createdAt: timestampFromMs(record.createdAt),
      updatedAt: timestampFromMs(record.updatedAt ?? record.createdAt),
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Creates

async function createTask(ctx: ApiContext, { req, res }: RequestContext): Promise<void> {
  const request = await readMessage(req, TaskCreateRequestSchema, ctx.limits.requestBodyBytes);
  const id = checkIdentifier(request.id, ResourceType.TASK, "id");
  await requireProjectAndDomain(ctx, id.project, id.domain);
  const template = request.spec?.template;
  if (!request.spec || !template) throw invalidArgument("spec.template is required");
  reconcileTemplateId(template, id, "spec.template.id");
  const problems = taskTemplateProblems(template);
  if (problems.length) throw invalidArgument(`task ${idText(id)} cannot be registered:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  await registerSpec(ctx, "task", id, TaskSpecSchema, request.spec);
  sendMessage(req, res, TaskCreateResponseSchema, create(TaskCreateResponseSchema));
}

async function createWorkflow(ctx: ApiContext, { req, res }: RequestContext): Promise<void> {
  const request = await readMessage(req, WorkflowCreateRequestSchema, ctx.limits.requestBodyBytes);
  const id = checkIdentifier(request.id, ResourceType.WORKFLOW, "id");
  await requireProjectAndDomain(ctx, id.project, id.domain);
  const spec = request.spec;
  if (!spec?.template) throw invalidArgument("spec.template is required");
  reconcileTemplateId(spec.template, id, "spec.template.id");
  spec.subWorkflows.forEach((sub, i) => checkIdentifier(sub.id, ResourceType.WORKFLOW, `spec.sub_workflows[${i}].id`));
  const problems = compileProblems(spec, await resolveReferences(spec, ctx.registry));
  if (problems.length) {
    throw invalidArgument(
      `workflow ${idText(id)} failed to compile against the registered entities (register tasks first, then workflows, then launch plans):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
  await registerSpec(ctx, "workflow", id, WorkflowSpecSchema, spec);
  sendMessage(req, res, WorkflowCreateResponseSchema, create(WorkflowCreateResponseSchema));
}

async function createLaunchPlan(ctx: ApiContext, { req, res }: RequestContext): Promise<void> {
  const request = await readMessage(req, LaunchPlanCreateRequestSchema, ctx.limits.requestBodyBytes);
  const id = checkIdentifier(request.id, ResourceType.LAUNCH_PLAN, "id");
  await requireProjectAndDomain(ctx, id.project, id.domain);
  const spec = request.spec;
  if (!spec) throw invalidArgument("spec is required");
  const workflowId = checkIdentifier(spec.workflowId, ResourceType.WORKFLOW, "spec.workflow_id");
  const workflow = await ctx.registry.workflowSpec(workflowId);
  if (!workflow) throw notFound(`spec.workflow_id: workflow ${describeEntity(workflowId)} is not registered; register it before its launch plans`);
  checkLabels(spec.labels?.values ?? {}, "spec.labels");
  if (spec.maxParallelism < 0) throw invalidArgument(`spec.max_parallelism must be ≥ 0, got ${spec.maxParallelism}`);
  spec.defaultInputs = launchPlanExpectedInputs(spec, workflow.template?.interface, idText(workflowId));
  await registerSpec(ctx, "launchPlan", id, LaunchPlanSpecSchema, spec);
  sendMessage(req, res, LaunchPlanCreateResponseSchema, create(LaunchPlanCreateResponseSchema));
}

// ---------------------------------------------------------------------------------------------------------
// Reads

function listQuery(ctx: RequestContext, resource: EntityResource, name?: string): ListEntitiesQuery {
  const { query, params } = ctx;
  query.allowOnly([...pagingParams, "filters"]);
  if (query.get("filters")) throw invalidArgument(`filters are not supported on ${resourceWords[resource]} lists; list by name instead`);
  checkProjectId(params.project);
  checkDomain(params.domain);
  return {
    resource,
    project: params.project,
    domain: params.domain,
    ...(name !== undefined ? { name } : {}),
    limit: readLimit(query),
    token: readToken(query),
    sortBy: readSortBy(query, ["created_at", "name", "version"] as const),
  };
}

function entityRoutes(ctx: ApiContext, resource: EntityResource, segment: string, idsSegment: string): Route[] {
  const one = async (record: EntityRecord) =>
    resource === "task" ? taskMessage(ctx, record) : resource === "workflow" ? workflowMessage(ctx, record, true) : launchPlanMessage(ctx, record);
  const sendList = async (rc: RequestContext, q: ListEntitiesQuery) => {
    const page = await withPageToken(q.token, () => ctx.deps.store.listEntities(q));
    const token = page.token ?? "";
    if (resource === "task") {
      sendMessage(rc.req, rc.res, TaskListSchema, create(TaskListSchema, { tasks: page.items.map((r) => taskMessage(ctx, r)), token }));
    } else if (resource === "workflow") {
      const workflows = await Promise.all(page.items.map((r) => workflowMessage(ctx, r, false)));
      sendMessage(rc.req, rc.res, WorkflowListSchema, create(WorkflowListSchema, { workflows, token }));
    } else {
      const launchPlans = await Promise.all(page.items.map((r) => launchPlanMessage(ctx, r)));
      sendMessage(rc.req, rc.res, LaunchPlanListSchema, create(LaunchPlanListSchema, { launchPlans, token }));
    }
  };
  return [
    {
      method: "GET",
      path: `/api/v1/${segment}/:project/:domain/:name/:version`,
      async handle(rc) {
        rc.query.allowOnly(["id.org", "org"]);
        const message = await one(await getRecord(ctx, resource, pathKey(rc.params, true)));
        if (resource === "task") sendMessage(rc.req, rc.res, TaskSchema, message as Task);
        else if (resource === "workflow") sendMessage(rc.req, rc.res, WorkflowSchema, message as Workflow);
        else sendMessage(rc.req, rc.res, LaunchPlanSchema, message as LaunchPlan);
      },
    },
    {
      method: "GET",
      path: `/api/v1/${segment}/:project/:domain/:name`,
      async handle(rc) {
        const key = pathKey(rc.params, false);
        await sendList(rc, listQuery(rc, resource, key.name));
      },
    },
    {
      method: "GET",
      path: `/api/v1/${segment}/:project/:domain`,
      async handle(rc) {
        await sendList(rc, listQuery(rc, resource));
      },
    },
    {
      method: "GET",
      path: `/api/v1/${idsSegment}/:project/:domain`,
      async handle({ req, res, params, query }) {
        query.allowOnly([...pagingParams, "filters"]);
        if (query.get("filters")) throw invalidArgument(`filters are not supported on ${resourceWords[resource]} names`);
        const sortBy = readSortBy(query, ["name"] as const);
        if (sortBy?.direction === "DESC") throw invalidArgument("names are listed in ascending order only; use sort_by.direction=ASCENDING");
        checkProjectId(params.project);
        checkDomain(params.domain);
        const token = readToken(query);
        const page = await withPageToken(token, () => ctx.deps.store.listEntityNames(resource, params.project, params.domain, readLimit(query), token));
        const entities = page.items.map((name) => ({ project: params.project, domain: params.domain, name }));
        sendMessage(req, res, NamedEntityIdentifierListSchema, create(NamedEntityIdentifierListSchema, { entities, token: page.token ?? "" }));
      },
    },
  ];
}

export function registryRoutes(ctx: ApiContext): Route[] {
  return [
    { method: "POST", path: "/api/v1/tasks", handle: (rc) => createTask(ctx, rc) },
    { method: "POST", path: "/api/v1/workflows", handle: (rc) => createWorkflow(ctx, rc) },
    { method: "POST", path: "/api/v1/launch_plans", handle: (rc) => createLaunchPlan(ctx, rc) },
    ...entityRoutes(ctx, "task", "tasks", "task_ids"),
    ...entityRoutes(ctx, "workflow", "workflows", "workflow_ids"),
    ...entityRoutes(ctx, "launchPlan", "launch_plans", "launch_plan_ids"),
    {
      method: "PUT",
      path: "/api/v1/launch_plans/:project/:domain/:name/:version",
      async handle({ req, res, params, query }) {
        query.allowOnly([]);
        const key = pathKey(params, true);
        const { message, json } = await readRequest(req, LaunchPlanUpdateRequestSchema, ctx.limits.requestBodyBytes);
        // flytectl's `update launchplan` without --activate sent state 0 and silently deactivated: say it instead.
        if (json && !("state" in json)) throw invalidArgument("state is required: ACTIVE or INACTIVE");
        const bodyId = message.id;
        // grpc-gateway fills the id from the path; a body id that names another launch plan is a mistake.
        if (bodyId && (["project", "domain", "name", "version"] as const).some((f) => bodyId[f] && bodyId[f] !== key[f])) {
          throw invalidArgument(`id in the body (${idText(bodyId)}) does not match the path (${key.project}/${key.domain}/${key.name}@${key.version})`);
        }
        const state = message.state === LaunchPlanState.ACTIVE ? "ACTIVE" : "INACTIVE";
        if (!(await ctx.deps.store.setLaunchPlanState(key, state, ctx.now()))) throw notFound(`launch plan ${describeEntity(key)} does not exist`);
        sendMessage(req, res, LaunchPlanUpdateResponseSchema, create(LaunchPlanUpdateResponseSchema));
      },
    },
    {
      method: "GET",
      path: "/api/v1/active_launch_plans/:project/:domain/:name",
      async handle({ req, res, params, query }) {
        query.allowOnly(["id.org", "org"]);
        const key = pathKey(params, false);
        const record = await ctx.deps.store.getActiveLaunchPlan(key.project, key.domain, key.name);
        if (!record) throw notFound(`launch plan ${key.name} has no active version in ${key.project}/${key.domain}`);
        sendMessage(req, res, LaunchPlanSchema, await launchPlanMessage(ctx, record));
      },
    },
    {
      method: "GET",
      path: "/api/v1/active_launch_plans/:project/:domain",
      async handle(rc) {
        const q = { ...listQuery(rc, "launchPlan"), state: "ACTIVE" as const };
        const page = await withPageToken(q.token, () => ctx.deps.store.listEntities(q));
        const launchPlans = await Promise.all(page.items.map((r) => launchPlanMessage(ctx, r)));
        sendMessage(rc.req, rc.res, LaunchPlanListSchema, create(LaunchPlanListSchema, { launchPlans, token: page.token ?? "" }));
      },
    },
  ];
}
