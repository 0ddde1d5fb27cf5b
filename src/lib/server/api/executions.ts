// Executions over FlyteAdmin's REST paths: create (checked inputs written to inputs.pb, then one QUEUED row, then
// the scheduler told), relaunch, recover, get, list with filters, terminate with a cause, data and counts.
// Never starts an execution whose row is not durable, never overwrites another execution's inputs, and never keeps a
// request field it does not honour (execution-settings.ts refuses those).
import { create, toBinary } from "@bufbuild/protobuf";
import {
  ExecutionCreateRequestSchema,
  ExecutionCreateResponseSchema,
  ExecutionListSchema,
  ExecutionMetadata_ExecutionMode,
  ExecutionRecoverRequestSchema,
  ExecutionRelaunchRequestSchema,
  ExecutionSchema,
  ExecutionTerminateRequestSchema,
  ExecutionTerminateResponseSchema,
  WorkflowExecutionGetDataResponseSchema,
} from "../../idl/gen/flyteidl/admin/execution_pb.js";
import type { LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType } from "../../idl/gen/flyteidl/core/identifier_pb.js";
import { LiteralMapSchema } from "../../idl/gen/flyteidl/core/literals_pb.js";
import { executionToAdmin } from "../../engine/history.js";
import { inlineLimitBytes, readRecordedBytes, recordedInputs, recordedOutputs } from "../../engine/recorded-values.js";
import { executionInputsUri } from "../../storage/layout.js";
import {
  terminalExecutionPhases,
  type ExecutionKey,
  type ExecutionPhase,
  type ExecutionRecord,
  type ListExecutionsQuery,
  type Page,
} from "../../store/records.js";
import type { ApiContext } from "./api-context.js";
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from "./api-error.js";
import { checkIdentifier } from "./entity-checks.js";
import { completeInputs, launchPlanInputs, taskInputs, type ExpectedInputs } from "./execution-inputs.js";
import { launchedWorkflowId } from "./launched-entities.js";
import { executionFilters, parseFilters, valuePasses, type ParsedFilter } from "./list-filters.js";
import { pagingParams, readLimit, readSortBy, readToken, withPageToken } from "./list-params.js";
import { requireProjectAndDomain } from "./projects.js";
import { principalOf, settingsOfSpec } from "./execution-settings.js";
import { describeEntity } from "./registry-reader.js";
import { checkDomain, checkExecutionName, checkProjectId, generateExecutionName } from "./resource-names.js";
import type { RequestContext, Route } from "./router.js";
import { readStoredLiteralMap } from "./stored-data.js";
import { readMessage, readRequest, sendJson, sendMessage } from "./wire-format.js";

/** FlyteAdmin's default when neither the request nor the launch plan sets max_parallelism. */
const defaultMaxParallelism = 25;
const maxCauseLength = 2048;

/** The execution key from a path, checked. */
export function executionKeyOf(params: Record<string, string>): ExecutionKey {
  checkProjectId(params.project);
  checkDomain(params.domain);
  checkExecutionName(params.name);
  return { project: params.project, domain: params.domain, name: params.name };
}

export async function getExecutionOr404(ctx: ApiContext, key: ExecutionKey): Promise<ExecutionRecord> {
  const record = await ctx.deps.store.getExecution(key);
  if (!record) throw notFound(`execution ${key.name} does not exist in ${key.project}/${key.domain}`);
  return record;
}

function keyText(key: ExecutionKey): string {
  return `${key.project}/${key.domain}/${key.name}`;
}

/** Names being created right now, so two requests for one name cannot both write its inputs.pb. */
type CreatesInFlight = Set<string>;

/**
 * Writes the inputs and the QUEUED row, then hands the execution to the scheduler. The target refuses first what it
 * cannot honour, and the name is checked before the inputs are written, so a taken name never has its inputs replaced.
 */
async function launch(ctx: ApiContext, inFlight: CreatesInFlight, record: ExecutionRecord, inputs: Uint8Array, generatedName: boolean): Promise<void> {
  const key: ExecutionKey = { project: record.project, domain: record.domain, name: record.name };
  await ctx.deps.control.check?.(record);
  const taken = () => alreadyExists(`an execution named ${record.name} already exists in ${record.project}/${record.domain}; choose another name or leave it out`);
  const flight = keyText(key);
  if (inFlight.has(flight)) throw taken();
  inFlight.add(flight);
  try {
    // A generated name is new: 19 random characters out of 36 do not repeat, and the insert below checks anyway.
    if (!generatedName && (await ctx.deps.store.getExecution(key))) throw taken();
    // Small inputs go in the row, so the create is one transaction; large ones are written first (and waited for
    // alone, not with every node file the running executions have queued), so the row never points at nothing.
    if (inputs.byteLength <= inlineLimitBytes) record.inputs = inputs;
    else await ctx.deps.blobs.write((record.inputsUri = executionInputsUri(ctx.deps.blobs.baseUri, key)), inputs);
    if (!(await ctx.deps.store.createExecution(record))) throw taken();
  } finally {
    inFlight.delete(flight);
  }
  const started = ctx.deps.control.start(key);
  // The server's scheduler takes the key synchronously; a Kubernetes Job is created before the request answers.
  if (started) await started;
}

function newRecord(ctx: ApiContext, key: ExecutionKey, fields: Pick<ExecutionRecord, "launchKind" | "launchName" | "launchVersion" | "mode" | "overwriteCache" | "maxParallelism"> & Partial<ExecutionRecord>): ExecutionRecord {
  const now = ctx.now();
  return {
    ...key,
    ...fields,
    phase: "QUEUED",
    createdAt: now,
    updatedAt: now,
  };
}

function nameFor(requested: string, field: string): string {
  if (!requested) return generateExecutionName();
  checkExecutionName(requested, field);
  return requested;
}

async function createExecution(ctx: ApiContext, inFlight: CreatesInFlight, { req, res, principal: caller }: RequestContext): Promise<void> {
  const request = await readMessage(req, ExecutionCreateRequestSchema, ctx.limits.requestBodyBytes);
  if (request.org) throw invalidArgument("org is not supported by tsflyte; leave it empty");
  await requireProjectAndDomain(ctx, request.project, request.domain);
  const name = nameFor(request.name, "name");
  const spec = request.spec;
  if (!spec?.launchPlan) throw invalidArgument("spec.launch_plan is required: the id of a launch plan, or of a task to run on its own");
  const type = spec.launchPlan.resourceType;
  if (type !== ResourceType.LAUNCH_PLAN && type !== ResourceType.TASK) {
    throw invalidArgument("spec.launch_plan.resource_type must be LAUNCH_PLAN, or TASK for a single-task execution");
  }
  const launchId = checkIdentifier(spec.launchPlan, type, "spec.launch_plan");
  if (spec.maxParallelism < 0) throw invalidArgument(`spec.max_parallelism must be ≥ 0, got ${spec.maxParallelism}`);
  const principal = principalOf(spec.metadata, "spec.metadata", ExecutionMetadata_ExecutionMode.MANUAL, caller);
  const given = request.inputs?.literals ?? {};
  const deprecated = spec.inputs?.literals ?? {};
  if (Object.keys(given).length && Object.keys(deprecated).length) throw invalidArgument("give the inputs in inputs, not in both inputs and spec.inputs");

  let expected: ExpectedInputs;
  let plan: LaunchPlanSpec | undefined;
  if (type === ResourceType.LAUNCH_PLAN) {
    plan = await ctx.registry.launchPlanSpec(launchId);
    if (!plan) throw notFound(`launch plan ${describeEntity(launchId)} does not exist`);
    expected = launchPlanInputs(plan, `launch plan ${launchId.name}@${launchId.version}`);
  } else {
    const task = await ctx.registry.taskSpec(launchId);
    if (!task) throw notFound(`task ${describeEntity(launchId)} does not exist`);
    expected = taskInputs(task.template?.interface, `task ${launchId.name}@${launchId.version}`);
  }
  const inputs = completeInputs(expected, Object.keys(given).length ? given : deprecated);
  const settings = settingsOfSpec(spec, plan, `${launchId.name}@${launchId.version}`, ctx.deps.blobs);

  const key = { project: request.project, domain: request.domain, name };
  const record = newRecord(ctx, key, {
    launchKind: type === ResourceType.TASK ? "task" : "launchPlan",
    launchName: launchId.name,
    launchVersion: launchId.version,
    ...(launchId.project !== key.project ? { launchProject: launchId.project } : {}),
    ...(launchId.domain !== key.domain ? { launchDomain: launchId.domain } : {}),
    mode: "MANUAL",
    overwriteCache: spec.overwriteCache || Boolean(plan?.overwriteCache),
    maxParallelism: spec.maxParallelism || plan?.maxParallelism || defaultMaxParallelism,
    principal,
    ...(settings ? { settings } : {}),
  });
  await launch(ctx, inFlight, record, toBinary(LiteralMapSchema, inputs), !request.name);
  sendMessage(req, res, ExecutionCreateResponseSchema, create(ExecutionCreateResponseSchema, { id: key }));
}

/** The execution a relaunch or recover starts from, and its inputs exactly as they were written. */
async function sourceOf(ctx: ApiContext, id: { project: string; domain: string; name: string } | undefined): Promise<{ source: ExecutionRecord; inputs: Uint8Array }> {
  if (!id) throw invalidArgument("id is required: the execution to start from");
  const key = { project: id.project, domain: id.domain, name: id.name };
  checkProjectId(key.project, "id.project");
  checkDomain(key.domain, "id.domain");
  checkExecutionName(key.name, "id.name");
  await requireProjectAndDomain(ctx, key.project, key.domain);
  const source = await getExecutionOr404(ctx, key);
  const inputs = await readRecordedBytes(ctx.deps.blobs, recordedInputs(source));
  if (!inputs) {
    const where = source.inputsUri ? `from the blob store (${source.inputsUri})` : "from its record";
    throw failedPrecondition(`the inputs of execution ${key.name} are missing ${where}, so it cannot be started again; create a new execution with its inputs instead`);
  }
  return { source, inputs };
}

/** What a relaunch or recover takes over from its source, as FlyteAdmin starts them from the source's spec. */
function copiedLaunch(source: ExecutionRecord): Pick<ExecutionRecord, "launchKind" | "launchName" | "launchVersion"> & Partial<ExecutionRecord> {
  return {
    ...(source.settings ? { settings: source.settings } : {}),
    launchKind: source.launchKind,
    launchName: source.launchName,
    launchVersion: source.launchVersion,
    ...(source.launchProject ? { launchProject: source.launchProject } : {}),
    ...(source.launchDomain ? { launchDomain: source.launchDomain } : {}),
    ...(source.source ? { source: source.source } : {}),
  };
}

async function relaunchExecution(ctx: ApiContext, inFlight: CreatesInFlight, { req, res, principal }: RequestContext): Promise<void> {
  const request = await readMessage(req, ExecutionRelaunchRequestSchema, ctx.limits.requestBodyBytes);
  const { source, inputs } = await sourceOf(ctx, request.id);
  const key = { project: source.project, domain: source.domain, name: nameFor(request.name, "name") };
  const record = newRecord(ctx, key, {
    ...copiedLaunch(source),
    mode: "RELAUNCH",
    sourceExecution: source.name,
    overwriteCache: request.overwriteCache,
    maxParallelism: source.maxParallelism,
    principal,
  });
  await launch(ctx, inFlight, record, inputs, !request.name);
  sendMessage(req, res, ExecutionCreateResponseSchema, create(ExecutionCreateResponseSchema, { id: key }));
}

async function recoverExecution(ctx: ApiContext, inFlight: CreatesInFlight, { req, res, principal: caller }: RequestContext): Promise<void> {
  const request = await readMessage(req, ExecutionRecoverRequestSchema, ctx.limits.requestBodyBytes);
  const principal = principalOf(request.metadata, "metadata", ExecutionMetadata_ExecutionMode.RECOVERED, caller);
  const { source, inputs } = await sourceOf(ctx, request.id);
  if (!terminalExecutionPhases.has(source.phase)) {
    throw failedPrecondition(`execution ${source.name} is ${source.phase}; only an execution that has ended can be recovered (terminate it first)`);
  }
  const key = { project: source.project, domain: source.domain, name: nameFor(request.name, "name") };
  const record = newRecord(ctx, key, {
    ...copiedLaunch(source),
    mode: "RECOVERED",
    sourceExecution: source.name,
    overwriteCache: source.overwriteCache,
    maxParallelism: source.maxParallelism,
    principal,
  });
  await launch(ctx, inFlight, record, inputs, !request.name);
  sendMessage(req, res, ExecutionCreateResponseSchema, create(ExecutionCreateResponseSchema, { id: key }));
}

async function terminateExecution(ctx: ApiContext, { req, res, params, query, principal }: RequestContext): Promise<void> {
  query.allowOnly([]);
  const key = executionKeyOf(params);
  const { message } = await readRequest(req, ExecutionTerminateRequestSchema, ctx.limits.requestBodyBytes);
  const bodyId = message.id;
  if (bodyId && (["project", "domain", "name"] as const).some((f) => bodyId[f] && bodyId[f] !== key[f])) {
    throw invalidArgument(`id in the body (${bodyId.project}/${bodyId.domain}/${bodyId.name}) does not match the path (${keyText(key)})`);
  }
  const cause = message.cause.trim();
  if (!cause) throw invalidArgument('cause is required: say why the execution is being terminated, e.g. {"cause": "wrong inputs"}');
  if (cause.length > maxCauseLength) throw invalidArgument(`cause is ${cause.length} characters; the limit is ${maxCauseLength}`);
  const record = await getExecutionOr404(ctx, key);
  const ended = (phase: ExecutionPhase) => failedPrecondition(`execution ${key.name} has already ended (${phase}); there is nothing to terminate`);
  if (terminalExecutionPhases.has(record.phase)) throw ended(record.phase);
  if (!(await ctx.deps.control.terminate(key, cause, principal))) {
    const now = await ctx.deps.store.getExecution(key);
    throw ended(now?.phase ?? record.phase);
  }
  sendMessage(req, res, ExecutionTerminateResponseSchema, create(ExecutionTerminateResponseSchema));
}

async function executionMessage(ctx: ApiContext, record: ExecutionRecord, withInputs: boolean) {
  const [workflowId, inputs] = await Promise.all([
    launchedWorkflowId(ctx, record),
    withInputs ? readStoredLiteralMap(ctx, recordedInputs(record)) : undefined,
  ]);
  return executionToAdmin(record, { workflowId, inputs: inputs?.map, reportActiveState: true });
}

// A page filtered on the workflow is collected from store pages; this bounds the reads one request makes.
const maxStorePagesPerRequest = 20;

async function listExecutions(ctx: ApiContext, { req, res, params, query }: RequestContext): Promise<void> {
  query.allowOnly([...pagingParams, "filters"]);
  checkProjectId(params.project);
  checkDomain(params.domain);
  const filters = executionFilters(parseFilters(query.getKeepingPlus("filters")));
  const base: ListExecutionsQuery = {
    project: params.project,
    domain: params.domain,
    limit: readLimit(query),
    token: readToken(query),
    filters: filters.store,
    sortBy: readSortBy(query, ["created_at", "updated_at", "started_at", "ended_at", "name", "phase"] as const),
  };
  const page = await withPageToken(base.token, () => (filters.workflow.length ? listByWorkflow(ctx, base, filters.workflow) : ctx.deps.store.listExecutions(base)));
  const executions = await Promise.all(page.items.map((r) => executionMessage(ctx, r, false)));
  sendMessage(req, res, ExecutionListSchema, create(ExecutionListSchema, { executions, token: page.token ?? "" }));
}

/**
 * The store knows the launch plan, not the workflow it runs, so workflow filters are applied here: store pages are
 * read, each sized to what is still missing, until the page is full or the store has no more.
 */
async function listByWorkflow(ctx: ApiContext, base: ListExecutionsQuery, workflowFilters: ParsedFilter[]): Promise<Page<ExecutionRecord>> {
  const limit = base.limit ?? 100;
  const items: ExecutionRecord[] = [];
  let token = base.token;
  for (let round = 0; round < maxStorePagesPerRequest && items.length < limit; round++) {
    const page = await ctx.deps.store.listExecutions({ ...base, limit: limit - items.length, token });
    for (const record of page.items) {
      const wf = await launchedWorkflowId(ctx, record);
      const passes = workflowFilters.every((f) => valuePasses(f.field === "workflow.name" ? wf?.name : wf?.version, f));
      if (passes) items.push(record);
    }
    token = page.token;
    if (!token) break;
  }
  return { items, ...(token ? { token } : {}) };
}

const phaseOrder: readonly ExecutionPhase[] = ["UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDING", "SUCCEEDED", "FAILING", "FAILED", "ABORTING", "ABORTED", "TIMED_OUT"];

export function executionRoutes(ctx: ApiContext): Route[] {
  const inFlight: CreatesInFlight = new Set();
  return [
    { method: "POST", path: "/api/v1/executions", handle: (rc) => createExecution(ctx, inFlight, rc) },
    { method: "POST", path: "/api/v1/executions/relaunch", handle: (rc) => relaunchExecution(ctx, inFlight, rc) },
    { method: "POST", path: "/api/v1/executions/recover", handle: (rc) => recoverExecution(ctx, inFlight, rc) },
    { method: "GET", path: "/api/v1/executions/:project/:domain", handle: (rc) => listExecutions(ctx, rc) },
    {
      method: "GET",
      path: "/api/v1/executions/:project/:domain/:name",
      async handle({ req, res, params, query }) {
        query.allowOnly(["id.org", "org"]);
        const record = await getExecutionOr404(ctx, executionKeyOf(params));
        sendMessage(req, res, ExecutionSchema, await executionMessage(ctx, record, true));
      },
    },
    { method: "DELETE", path: "/api/v1/executions/:project/:domain/:name", handle: (rc) => terminateExecution(ctx, rc) },
    {
      method: "GET",
      path: "/api/v1/data/executions/:project/:domain/:name",
      async handle({ req, res, params, query }) {
        query.allowOnly(["id.org", "org"]);
        const record = await getExecutionOr404(ctx, executionKeyOf(params));
        const [inputs, outputs] = await Promise.all([readStoredLiteralMap(ctx, recordedInputs(record)), readStoredLiteralMap(ctx, recordedOutputs(record))]);
        const answer = create(WorkflowExecutionGetDataResponseSchema, {
          inputs: inputs?.blob,
          outputs: outputs?.blob,
          fullInputs: inputs?.map,
          fullOutputs: outputs?.map,
        });
        sendMessage(req, res, WorkflowExecutionGetDataResponseSchema, answer);
      },
    },
    {
      // admin.proto (flyteidl 1.16) has no execution count; this path is the one later FlyteAdmin versions use.
      method: "GET",
      path: "/api/v1/count/executions/:project/:domain",
      async handle({ res, params, query }) {
        query.allowOnly([]);
        checkProjectId(params.project);
        checkDomain(params.domain);
        const counts = await ctx.deps.store.countExecutions(params.project, params.domain);
        const executionCounts = Object.entries(counts)
          .filter(([, count]) => count > 0)
          .sort(([a], [b]) => phaseOrder.indexOf(a as ExecutionPhase) - phaseOrder.indexOf(b as ExecutionPhase))
          .map(([phase, count]) => ({ phase, count }));
        sendJson(res, 200, { execution_counts: executionCounts });
      },
    },
  ];
}
