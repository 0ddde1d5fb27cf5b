// Node and task executions over FlyteAdmin's REST paths: lists (top level, or the children of one node), one
// node, one attempt, their inputs and outputs, and each attempt's logs as text/plain behind the link it carries.
// Never writes; never serves a blob that is not an attempt's own logs.
import { create } from "@bufbuild/protobuf";
import { NodeExecutionGetDataResponseSchema, NodeExecutionListSchema, NodeExecutionSchema } from "../../idl/gen/flyteidl/admin/node_execution_pb.js";
import { TaskExecutionGetDataResponseSchema, TaskExecutionListSchema, TaskExecutionSchema } from "../../idl/gen/flyteidl/admin/task_execution_pb.js";
import { mapTaskExecutionToAdmin, nodeExecutionToAdmin, taskExecutionToAdmin, type EntityIdParts } from "../../engine/history.js";
import type { ExecutionKey, ExecutionRecord, NodeExecutionRecord, TaskExecutionRecord } from "../../store/records.js";
import type { ApiContext } from "./api-context.js";
import { invalidArgument, notFound } from "./api-error.js";
import { executionKeyOf, getExecutionOr404 } from "./executions.js";
import { launchedTaskIds, launchedWorkflowId } from "./launched-entities.js";
import { buildClosure, resolveReferences } from "./compiled-closure.js";
import { nodeFilters, parseFilters } from "./list-filters.js";
import { pageByOffset, pagingParams, readLimit, readSortBy, readToken } from "./list-params.js";
import type { RequestContext, Route } from "./router.js";
import { readRecordedBytes, recordedInputs, recordedOutputs, type RecordedValue } from "../../engine/recorded-values.js";
import { nodeViewOf, workflowClosureOf, type WorkflowClosure } from "../../engine/node-views.js";
import type { Identifier } from "../../idl/gen/flyteidl/core/identifier_pb.js";
import { readStoredBytes, readStoredLiteralMap } from "./stored-data.js";
import { send, sendJson, sendMessage } from "./wire-format.js";

async function nodesOf(ctx: ApiContext, key: ExecutionKey): Promise<{ execution: ExecutionRecord; nodes: NodeExecutionRecord[] }> {
  const execution = await getExecutionOr404(ctx, key);
  return { execution, nodes: await ctx.deps.store.listNodeExecutions(key) };
}

function findNode(nodes: NodeExecutionRecord[], key: ExecutionKey, nodeId: string): NodeExecutionRecord {
  const node = nodes.find((n) => n.nodeId === nodeId);
  if (!node) throw notFound(`node ${nodeId} does not exist in execution ${key.name}`);
  return node;
}

function attemptNumber(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw invalidArgument(`retry attempt "${text}" must be a whole number ≥ 0`);
  return Number(text);
}

/** The link a task execution's logs are served from: this server, behind the same token as the API. */
function logLink(ctx: ApiContext, a: TaskExecutionRecord): string {
  if (ctx.deps.logLink) return ctx.deps.logLink(a);
  const parts = [a.project, a.domain, a.executionName, a.nodeId, String(a.attempt)].map(encodeURIComponent);
  return `${ctx.deps.publicUrl().replace(/\/+$/, "")}/logs/${parts.join("/")}`;
}

function taskMessage(ctx: ApiContext, a: TaskExecutionRecord, node: NodeExecutionRecord | undefined, taskIds: Map<string, EntityIdParts>) {
  return taskExecutionToAdmin(a, "", {
    taskId: taskIds.get(a.taskName) ?? { project: a.project, domain: a.domain, name: a.taskName, version: "" },
    ...(a.logsUri || a.logs !== undefined ? { logUri: logLink(ctx, a) } : {}),
    ...(node?.inputsUri ? { inputUri: node.inputsUri } : {}),
  });
}

/**
 * A map node's one task execution, its items as external resources (as FlytePropeller reports an ArrayNode). Its task
 * id is the mapped task's; a map over a workflow or launch plan has none, as in Flyte.
 */
function mapTaskMessage(ctx: ApiContext, node: NodeExecutionRecord, nodes: NodeExecutionRecord[], attempts: TaskExecutionRecord[], taskIds: Map<string, EntityIdParts>) {
  const items = nodes.filter((n) => n.parentNodeId === node.nodeId);
  const itemIds = new Set(items.map((n) => n.nodeId));
  const attemptsOf = new Map<string, TaskExecutionRecord[]>();
  for (const a of attempts) {
    if (!itemIds.has(a.nodeId)) continue;
    const list = attemptsOf.get(a.nodeId);
    if (list) list.push(a);
    else attemptsOf.set(a.nodeId, [a]);
  }
  const mapsTask = items.length === 0 || items.some((n) => n.entityKind === "task");
  const taskId = mapsTask ? (taskIds.get(node.entityName) ?? { project: node.project, domain: node.domain, name: node.entityName, version: "" }) : undefined;
  return mapTaskExecutionToAdmin(
    node,
    items.map((n) => ({ node: n, attempts: attemptsOf.get(n.nodeId) ?? [] })),
    { ...(taskId ? { taskId } : {}), logUri: (a) => (a.logsUri || a.logs !== undefined ? logLink(ctx, a) : undefined) },
  );
}

/** One attempt named by the full TaskExecutionIdentifier path; the task id in the path must be the one it ran. */
async function attemptAt(ctx: ApiContext, params: Record<string, string>) {
  const key = executionKeyOf(params);
  const execution = await getExecutionOr404(ctx, key);
  const attempt = attemptNumber(params.attempt);
  const [attempts, nodes, taskIds] = await Promise.all([
    ctx.deps.store.listTaskExecutions(key),
    ctx.deps.store.listNodeExecutions(key),
    launchedTaskIds(ctx, execution),
  ]);
  const mapNode = nodes.find((n) => n.nodeId === params.node && n.entityKind === "array");
  if (mapNode) {
    const message = mapTaskMessage(ctx, mapNode, nodes, attempts, taskIds);
    const id = message.id?.taskId;
    const matches = attempt === 0 && (!id || (id.name === params.taskName && id.project === params.taskProject && id.domain === params.taskDomain));
    if (!matches) throw notFound(`task execution ${params.taskName}@${params.taskVersion} attempt ${attempt} of node ${params.node} does not exist in execution ${key.name}`);
    return { map: message, attempt: undefined, node: mapNode, taskIds };
  }
  const found = attempts.find((a) => a.nodeId === params.node && a.attempt === attempt);
  const id = found ? (taskIds.get(found.taskName) ?? { project: key.project, domain: key.domain, name: found.taskName, version: "" }) : undefined;
  const matches = id && id.name === params.taskName && id.project === params.taskProject && id.domain === params.taskDomain && (id.version === "" || id.version === params.taskVersion);
  if (!found || !matches) {
    throw notFound(`task execution ${params.taskName}@${params.taskVersion} attempt ${attempt} of node ${params.node} does not exist in execution ${key.name}`);
  }
  return { map: undefined, attempt: found, node: nodes.find((n) => n.nodeId === found.nodeId), taskIds };
}

const taskExecutionPath = ":project/:domain/:name/:node/:taskProject/:taskDomain/:taskName/:taskVersion/:attempt";

async function listNodes(ctx: ApiContext, { req, res, params, query }: RequestContext): Promise<void> {
  query.allowOnly([...pagingParams, "filters", "unique_parent_id"]);
  const key = executionKeyOf(params);
  const parent = query.get("unique_parent_id") || undefined;
  const keep = nodeFilters(parseFilters(query.getKeepingPlus("filters")));
  const sortBy = readSortBy(query, ["created_at", "updated_at", "node_id", "phase"] as const);
  const { nodes } = await nodesOf(ctx, key);
  if (parent !== undefined) findNode(nodes, key, parent);
  let selected = nodes.filter(
    (n) =>
      (n.parentNodeId ?? undefined) === parent &&
      keep({ phase: n.phase, node_id: n.nodeId, created_at: n.createdAt, updated_at: n.updatedAt, started_at: n.startedAt }),
  );
  if (sortBy) {
    const value = (n: NodeExecutionRecord) => (sortBy.key === "node_id" ? n.nodeId : sortBy.key === "phase" ? n.phase : sortBy.key === "created_at" ? n.createdAt : n.updatedAt);
    const sign = sortBy.direction === "ASC" ? 1 : -1;
    selected = [...selected].sort((a, b) => (value(a) < value(b) ? -sign : value(a) > value(b) ? sign : 0));
  }
  const page = pageByOffset(selected, readLimit(query), readToken(query));
  sendMessage(req, res, NodeExecutionListSchema, create(NodeExecutionListSchema, { nodeExecutions: page.items.map((n) => nodeExecutionToAdmin(n)), token: page.token }));
}

/**
 * tsflyte's own route, outside FlyteAdmin's surface: every node of an execution (at every level) as the view `get
 * execution --details` shows, made here from the records through the same FlyteAdmin messages a client would read,
 * with its values as LiteralMap bytes (base64) — so the details of 10,000 nodes are a request or two and no protobuf
 * JSON either side. Clients fall back to FlyteAdmin's per-node routes where it answers 404.
 */
async function nodeViews(ctx: ApiContext, { res, params, query }: RequestContext): Promise<void> {
  query.allowOnly(["limit", "token"]);
  const key = executionKeyOf(params);
  const { execution, nodes } = await nodesOf(ctx, key);
  const [attempts, taskIds, workflow] = await Promise.all([
    ctx.deps.store.listTaskExecutions(key),
    launchedTaskIds(ctx, execution),
    launchedWorkflowClosure(ctx, execution),
  ]);
  const attemptsOf = new Map<string, TaskExecutionRecord[]>();
  for (const a of attempts) {
    const list = attemptsOf.get(a.nodeId);
    if (list) list.push(a);
    else attemptsOf.set(a.nodeId, [a]);
  }
  // A page is as large as FlyteAdmin's lists allow when a limit is given, else a whole execution of up to maxViewsPage nodes.
  const page = pageByOffset(nodes, query.get("limit") ? readLimit(query) : maxViewsPage, readToken(query));
  // A map's items are named by their parent (the map's inner node); only maps' messages are needed for that.
  const maps = new Map(nodes.filter((n) => n.entityKind === "array").map((n) => [n.nodeId, nodeExecutionToAdmin(n)] as const));
  const items = await Promise.all(
    page.items.map(async (node) => {
      const mine = (attemptsOf.get(node.nodeId) ?? []).map((a) => taskMessage(ctx, a, node, taskIds));
      const parent = node.parentNodeId ? maps.get(node.parentNodeId) : undefined;
      const [view, inputs, outputs] = await Promise.all([
        nodeViewOf(nodeExecutionToAdmin(node), mine, workflow, parent),
        readShownBytes(ctx, recordedInputs(node)),
        readShownBytes(ctx, recordedOutputs(node)),
      ]);
      return { view, ...(node.parentNodeId ? { parent_node_id: node.parentNodeId } : {}), ...(inputs !== undefined ? { inputs } : {}), ...(outputs !== undefined ? { outputs } : {}) };
    }),
  );
  sendJson(res, 200, { nodes: items, token: page.token });
}

/** A value's LiteralMap bytes in base64, when the data routes would show it (up to the inline data limit). */
async function readShownBytes(ctx: ApiContext, value: RecordedValue): Promise<string | undefined> {
  const bytes = await readRecordedBytes(ctx.deps.blobs, value);
  return bytes && bytes.byteLength <= ctx.limits.inlineDataBytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") : undefined;
}

/** The compiled workflow an execution ran, as `GET /api/v1/workflows/…` answers its closure; empty for a task. */
async function launchedWorkflowClosure(ctx: ApiContext, execution: ExecutionRecord): Promise<WorkflowClosure> {
  const retriesOfTask = async (id: Identifier) => {
    const spec = await ctx.registry.taskSpec(id);
    return spec?.template ? (spec.template.metadata?.retries?.retries ?? 0) : undefined;
  };
  const id = await launchedWorkflowId(ctx, execution);
  const spec = id ? await ctx.registry.workflowSpec(id) : undefined;
  return workflowClosureOf(spec ? buildClosure(spec, await resolveReferences(spec, ctx.registry)) : undefined, retriesOfTask);
}

/** Nodes per page of the node views route by default: 10,000 nodes of small values are about 10 MB of JSON. */
const maxViewsPage = 10_000;

export function nodeExecutionRoutes(ctx: ApiContext): Route[] {
  return [
    { method: "GET", path: "/api/v1/tsflyte/node_views/:project/:domain/:name", handle: (rc) => nodeViews(ctx, rc) },
    { method: "GET", path: "/api/v1/node_executions/:project/:domain/:name", handle: (rc) => listNodes(ctx, rc) },
    {
      method: "GET",
      path: "/api/v1/node_executions/:project/:domain/:name/:node",
      async handle({ req, res, params, query }) {
        query.allowOnly([]);
        const key = executionKeyOf(params);
        const { nodes } = await nodesOf(ctx, key);
        sendMessage(req, res, NodeExecutionSchema, nodeExecutionToAdmin(findNode(nodes, key, params.node)));
      },
    },
    {
      method: "GET",
      path: "/api/v1/data/node_executions/:project/:domain/:name/:node",
      async handle({ req, res, params, query }) {
        query.allowOnly([]);
        const key = executionKeyOf(params);
        const { nodes } = await nodesOf(ctx, key);
        const node = findNode(nodes, key, params.node);
        const [inputs, outputs] = await Promise.all([readStoredLiteralMap(ctx, recordedInputs(node)), readStoredLiteralMap(ctx, recordedOutputs(node))]);
        const flyteUrl = `flyte://v1/${key.project}/${key.domain}/${key.name}/${node.nodeId}`;
        const answer = create(NodeExecutionGetDataResponseSchema, {
          inputs: inputs?.blob,
          outputs: outputs?.blob,
          fullInputs: inputs?.map,
          fullOutputs: outputs?.map,
          flyteUrls: { inputs: `${flyteUrl}/i`, outputs: `${flyteUrl}/o`, deck: "" },
        });
        sendMessage(req, res, NodeExecutionGetDataResponseSchema, answer);
      },
    },
    {
      method: "GET",
      path: "/api/v1/task_executions/:project/:domain/:name/:node",
      async handle({ req, res, params, query }) {
        query.allowOnly([...pagingParams, "filters"]);
        if (query.get("filters")) throw invalidArgument("filters are not supported on task execution lists");
        if (query.get("sort_by.key")) throw invalidArgument("task executions are listed by attempt; sort_by is not supported");
        const key = executionKeyOf(params);
        const { execution, nodes } = await nodesOf(ctx, key);
        const node = findNode(nodes, key, params.node);
        const [attempts, taskIds] = await Promise.all([ctx.deps.store.listTaskExecutions(key), launchedTaskIds(ctx, execution)]);
        if (node.entityKind === "array") {
          const map = pageByOffset([mapTaskMessage(ctx, node, nodes, attempts, taskIds)], readLimit(query), readToken(query));
          sendMessage(req, res, TaskExecutionListSchema, create(TaskExecutionListSchema, { taskExecutions: map.items, token: map.token }));
          return;
        }
        const mine = attempts.filter((a) => a.nodeId === node.nodeId).sort((a, b) => a.attempt - b.attempt);
        const page = pageByOffset(mine, readLimit(query), readToken(query));
        const taskExecutions = page.items.map((a) => taskMessage(ctx, a, node, taskIds));
        sendMessage(req, res, TaskExecutionListSchema, create(TaskExecutionListSchema, { taskExecutions, token: page.token }));
      },
    },
    {
      method: "GET",
      path: `/api/v1/task_executions/${taskExecutionPath}`,
      async handle({ req, res, params, query }) {
        query.allowOnly([]);
        const found = await attemptAt(ctx, params);
        sendMessage(req, res, TaskExecutionSchema, found.map ? found.map : taskMessage(ctx, found.attempt, found.node, found.taskIds));
      },
    },
    {
      method: "GET",
      path: `/api/v1/data/task_executions/${taskExecutionPath}`,
      async handle({ req, res, params, query }) {
        query.allowOnly([]);
        const found = await attemptAt(ctx, params);
        if (found.map) {
          // A map's task execution has the map node's inputs and outputs (the lists).
          const [inputs, outputs] = await Promise.all([readStoredLiteralMap(ctx, recordedInputs(found.node)), readStoredLiteralMap(ctx, recordedOutputs(found.node))]);
          const answer = create(TaskExecutionGetDataResponseSchema, { inputs: inputs?.blob, outputs: outputs?.blob, fullInputs: inputs?.map, fullOutputs: outputs?.map });
          sendMessage(req, res, TaskExecutionGetDataResponseSchema, answer);
          return;
        }
        const { attempt, node } = found;
        const attemptOutputs = attempt.outputs || attempt.outputsUri || attempt.phase !== "SUCCEEDED" || !node ? recordedOutputs(attempt) : recordedOutputs(node);
        const [inputs, outputs] = await Promise.all([readStoredLiteralMap(ctx, node ? recordedInputs(node) : {}), readStoredLiteralMap(ctx, attemptOutputs)]);
        const answer = create(TaskExecutionGetDataResponseSchema, {
          inputs: inputs?.blob,
          outputs: outputs?.blob,
          fullInputs: inputs?.map,
          fullOutputs: outputs?.map,
        });
        sendMessage(req, res, TaskExecutionGetDataResponseSchema, answer);
      },
    },
    {
      // Children of a task execution are the nodes of a dynamic workflow; tsflyte tasks have none.
      method: "GET",
      path: `/api/v1/children/task_executions/${taskExecutionPath}`,
      async handle({ req, res, params, query }) {
        query.allowOnly([...pagingParams, "filters"]);
        await attemptAt(ctx, params);
        sendMessage(req, res, NodeExecutionListSchema, create(NodeExecutionListSchema, { nodeExecutions: [], token: "" }));
      },
    },
    {
      method: "GET",
      path: "/logs/:project/:domain/:name/:node/:attempt",
      async handle({ res, params, query }) {
        query.allowOnly([]);
        const key = executionKeyOf(params);
        await getExecutionOr404(ctx, key);
        const n = attemptNumber(params.attempt);
        const attempt = (await ctx.deps.store.listTaskExecutions(key)).find((a) => a.nodeId === params.node && a.attempt === n);
        if (!attempt) throw notFound(`attempt ${n} of node ${params.node} does not exist in execution ${key.name}`);
        const bytes = attempt.logs !== undefined ? new TextEncoder().encode(attempt.logs) : await readStoredBytes(ctx, attempt.logsUri);
        if (!bytes) throw notFound(`attempt ${n} of node ${params.node} has no logs${attempt.logsUri ? " in the blob store" : " recorded"}`);
        send(res, 200, "text/plain; charset=utf-8", bytes, { "X-Content-Type-Options": "nosniff" });
      },
    },
  ];
}
