// Executions on a control plane: create, read back as the same views local runs give (list, one, details with
// nodes, attempts, values and log links), wait with progress, terminate, relaunch and recover. Never prints.
import { fromBinary, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { NodeExecutionListSchema, type NodeExecution } from "../idl/gen/flyteidl/admin/node_execution_pb.js";
import { TaskExecutionListSchema } from "../idl/gen/flyteidl/admin/task_execution_pb.js";
import { TaskSchema } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSchema } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LiteralMapSchema, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { NodeExecution_Phase, TaskExecution_Phase } from "../idl/gen/flyteidl/core/execution_pb.js";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { NotFoundError, UserError } from "../errors.js";
import { sortByNodeId, subtreeOf, type EntityIdParts, type ExecutionDetailsView, type ExecutionView, type NodeView } from "../engine/history.js";
import { nodeViewOf, withValues, workflowClosureOf, type WorkflowClosure } from "../engine/node-views.js";
import type { ExecutionKey, ExecutionPhase, NodePhase, TaskPhase } from "../store/records.js";
import { getExecutionView } from "./execution-json.js";
import { literalMapToPlain } from "../types/plain.js";
import type { AdminClient } from "../admin/client.js";
import type { RunResult } from "../local/commands.js";

const lenient = { ignoreUnknownFields: true };
const terminal = new Set<ExecutionPhase>(["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]);

export function isTerminal(phase: ExecutionPhase): boolean {
  return terminal.has(phase);
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

export interface LaunchTarget {
  kind: "task" | "launchPlan";
  project: string;
  domain: string;
  name: string;
  version: string;
}

/** What an execution can be started with beyond its inputs, under flytectl's names (its execution spec file keys). */
export interface ExecutionOptions {
  envs?: Record<string, string>;
  kubeServiceAcct?: string;
  iamRoleARN?: string;
  clusterPool?: string;
  targetExecutionCluster?: string;
}

export interface CreateRemoteExecution {
  project: string;
  domain: string;
  name?: string;
  launch: LaunchTarget;
  inputs: LiteralMap;
  overwriteCache?: boolean;
  /** Task attempts that may run at once; the launch plan's (or the server's default) when left out. */
  maxParallelism?: number;
  options?: ExecutionOptions;
}

/**
 * The ExecutionSpec fields the options give, as flytectl sends them: the identity both in security_context and in the
 * deprecated auth_role (older FlyteAdmins read only that), the cluster pool and label each in their message.
 */
export function executionOptionsSpec(options: ExecutionOptions): Record<string, unknown> {
  const envs = Object.entries(options.envs ?? {}).map(([key, value]) => ({ key, value }));
  const serviceAccount = options.kubeServiceAcct ?? "";
  const iamRole = options.iamRoleARN ?? "";
  return {
    ...(envs.length ? { envs: { values: envs } } : {}),
    ...(serviceAccount || iamRole
      ? {
          authRole: { assumableIamRole: iamRole, kubernetesServiceAccount: serviceAccount },
          securityContext: { runAs: { k8sServiceAccount: serviceAccount, iamRole } },
        }
      : {}),
    ...(options.clusterPool ? { clusterAssignment: { clusterPoolName: options.clusterPool } } : {}),
    ...(options.targetExecutionCluster ? { executionClusterLabel: { value: options.targetExecutionCluster } } : {}),
  };
}

/** Starts an execution of a launch plan or a task; resolves to its key. */
export async function createRemoteExecution(client: AdminClient, request: CreateRemoteExecution): Promise<ExecutionKey> {
  const body = {
    project: request.project,
    domain: request.domain,
    ...(request.name ? { name: request.name } : {}),
    spec: {
      launchPlan: {
        resourceType: request.launch.kind === "task" ? "TASK" : "LAUNCH_PLAN",
        project: request.launch.project,
        domain: request.launch.domain,
        name: request.launch.name,
        version: request.launch.version,
      },
      metadata: { mode: "MANUAL" },
      ...(request.overwriteCache ? { overwriteCache: true } : {}),
      ...(request.maxParallelism ? { maxParallelism: request.maxParallelism } : {}),
      ...executionOptionsSpec(request.options ?? {}),
    },
    inputs: toJson(LiteralMapSchema, request.inputs),
  };
  const answer = await client.post<{ id?: ExecutionKey }>("/api/v1/executions", body);
  if (!answer?.id?.name) throw new UserError("the control plane created the execution but did not say its name");
  return { project: answer.id.project, domain: answer.id.domain, name: answer.id.name };
}

export interface DescribeRemote {
  details: boolean;
  nodeId?: string;
}

/** One execution: its view, or with details every node, attempt, value and log link. */
export async function describeRemoteExecution(client: AdminClient, key: ExecutionKey, options: DescribeRemote): Promise<ExecutionView | ExecutionDetailsView> {
  const execution = await getExecutionView(client, key);
  if (!options.details && options.nodeId === undefined) return execution;
  const [data, nodes] = await Promise.all([
    client.get<Record<string, JsonValue>>(`/api/v1/data/executions/${path(key.project, key.domain, key.name)}`),
    nodeViewsInBulk(client, key).then((bulk) => bulk ?? nodeViewsOneByOne(client, key, execution, options.nodeId)),
  ]);
  if (options.nodeId !== undefined && !nodes.some((n) => n.view.nodeId === options.nodeId)) {
    throw missingNode(key, options.nodeId, nodes.map((n) => n.view.nodeId));
  }
  const selected = options.nodeId === undefined ? nodes : subtreeOf(nodes, options.nodeId, (n) => n.view.nodeId, (n) => n.parent);
  const byId = new Map(selected.map((n) => [n.view.nodeId, n.view] as const));
  const roots: NodeView[] = [];
  for (const n of selected) {
    const parent = n.parent !== undefined && n.view.nodeId !== options.nodeId ? byId.get(n.parent) : undefined;
    if (parent) (parent.children ??= []).push(n.view);
    else roots.push(n.view);
  }
  sortByNodeId(roots);
  const view: ExecutionDetailsView = { execution: execution.execution, inputs: plainMap(data.full_inputs ?? data.fullInputs) ?? {}, nodes: roots };
  const outputs = plainMap(data.full_outputs ?? data.fullOutputs);
  if (outputs) view.outputs = outputs;
  return view;
}

/** A node's view with its values, and the id of the node it runs under. */
interface ListedNode {
  view: NodeView;
  parent?: string;
}

/**
 * Every node's view from tsflyte's own node views route, made by the server from its records as below and sent in a
 * few requests; undefined from a FlyteAdmin, which has no such route (404), so its per-node routes are used instead.
 */
async function nodeViewsInBulk(client: AdminClient, key: ExecutionKey): Promise<ListedNode[] | undefined> {
  const out: ListedNode[] = [];
  let token: string | undefined;
  do {
    let answer: NodeViewsAnswer;
    try {
      answer = await client.get(`/api/v1/tsflyte/node_views/${path(key.project, key.domain, key.name)}`, { token });
    } catch (e) {
      if (e instanceof NotFoundError && out.length === 0) return undefined;
      throw e;
    }
    for (const n of answer.nodes ?? []) {
      out.push({ view: withValues(n.view, plainBytes(n.inputs), plainBytes(n.outputs)), ...(n.parent_node_id ? { parent: n.parent_node_id } : {}) });
    }
    token = answer.token || undefined;
  } while (token);
  return out;
}

/** A LiteralMap's bytes, base64 (as the node views route sends values), as plain values; undefined if unreadable. */
function plainBytes(base64: string | undefined): Record<string, unknown> | undefined {
  if (base64 === undefined) return undefined;
  try {
    return literalMapToPlain(fromBinary(LiteralMapSchema, Buffer.from(base64, "base64")));
  } catch {
    return undefined;
  }
}

/** Every node's view from FlyteAdmin's routes: the node lists, then each selected node's attempts and data. */
async function nodeViewsOneByOne(client: AdminClient, key: ExecutionKey, execution: ExecutionView, nodeId: string | undefined): Promise<ListedNode[]> {
  const [nodes, workflow] = await Promise.all([
    listAllNodes(client, key),
    workflowClosure(client, (execution.execution.closure as { workflowId?: EntityIdParts } | undefined)?.workflowId),
  ]);
  if (nodeId !== undefined && !nodes.some((n) => n.execution.id?.nodeId === nodeId)) {
    throw missingNode(key, nodeId, nodes.map((n) => n.execution.id?.nodeId ?? ""));
  }
  const selected = nodeId === undefined ? nodes : subtreeOf(nodes, nodeId, (n) => n.execution.id?.nodeId ?? "", (n) => n.parent);
  const byId = new Map(nodes.map((n) => [n.execution.id?.nodeId ?? "", n.execution] as const));
  return Promise.all(
    selected.map(async (n) => {
      const parent = n.parent !== undefined ? byId.get(n.parent) : undefined;
      return { view: await nodeView(client, key, n.execution, workflow, parent), ...(n.parent !== undefined ? { parent: n.parent } : {}) };
    }),
  );
}

function missingNode(key: ExecutionKey, nodeId: string, ids: string[]): NotFoundError {
  const known = [...ids].sort(nodeIdOrder.compare);
  return new NotFoundError(`node ${nodeId} not found in execution ${key.name}; ${known.length ? `its nodes are: ${known.join(", ")}` : "it has no nodes yet"}`);
}

/** One node of tsflyte's node views route. */
interface NodeViewsAnswer {
  nodes?: { view: NodeView; parent_node_id?: string; inputs?: string; outputs?: string }[];
  token?: string;
}

const nodeIdOrder = new Intl.Collator("en", { numeric: true });

/** Every node execution, children of parent nodes included (FlyteAdmin lists them per `unique_parent_id`). */
async function listAllNodes(client: AdminClient, key: ExecutionKey): Promise<{ execution: NodeExecution; parent?: string }[]> {
  const out: { execution: NodeExecution; parent?: string }[] = [];
  const visit = async (parent: string | undefined): Promise<void> => {
    let token: string | undefined;
    do {
      const answer = fromJson(
        NodeExecutionListSchema,
        await client.get<JsonValue>(`/api/v1/node_executions/${path(key.project, key.domain, key.name)}`, { limit: 1000, token, unique_parent_id: parent }),
        lenient,
      );
      for (const n of answer.nodeExecutions) out.push({ execution: n, parent });
      await Promise.all(answer.nodeExecutions.filter((n) => n.metadata?.isParentNode).map((n) => visit(n.id?.nodeId)));
      token = answer.token || undefined;
    } while (token);
  };
  await visit(undefined);
  return out;
}

/** The workflow the execution ran, to name what each node ran and read its retries; empty for a task. */
async function workflowClosure(client: AdminClient, id: EntityIdParts | undefined): Promise<WorkflowClosure> {
  const retriesOfTask = async (taskId: Identifier): Promise<number | undefined> => {
    try {
      const json = await client.get<JsonValue>(`/api/v1/tasks/${path(taskId.project, taskId.domain, taskId.name, taskId.version)}`);
      const template = fromJson(TaskSchema, json, lenient).closure?.compiledTask?.template;
      return template ? (template.metadata?.retries?.retries ?? 0) : undefined;
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  };
  if (!id?.name) return workflowClosureOf(undefined, retriesOfTask);
  try {
    const answer = fromJson(WorkflowSchema, await client.get<JsonValue>(`/api/v1/workflows/${path(id.project, id.domain, id.name, id.version)}`), lenient);
    return workflowClosureOf(answer.closure?.compiledWorkflow, retriesOfTask);
  } catch (e) {
    if (e instanceof NotFoundError) return workflowClosureOf(undefined, retriesOfTask);
    throw e;
  }
}

async function nodeView(client: AdminClient, key: ExecutionKey, n: NodeExecution, workflow: WorkflowClosure, parent: NodeExecution | undefined): Promise<NodeView> {
  const nodePath = path(key.project, key.domain, key.name, n.id?.nodeId ?? "");
  const [attempts, data] = await Promise.all([
    client.get<JsonValue>(`/api/v1/task_executions/${nodePath}`, { limit: 1000 }),
    client.get<Record<string, JsonValue>>(`/api/v1/data/node_executions/${nodePath}`).catch((e: unknown) => {
      if (e instanceof NotFoundError) return {} as Record<string, JsonValue>;
      throw e;
    }),
  ]);
  const view = await nodeViewOf(n, fromJson(TaskExecutionListSchema, attempts, lenient).taskExecutions, workflow, parent);
  return withValues(view, plainMap(data.full_inputs ?? data.fullInputs), plainMap(data.full_outputs ?? data.fullOutputs));
}

function plainMap(json: JsonValue | undefined): Record<string, unknown> | undefined {
  if (json === undefined || json === null) return undefined;
  return literalMapToPlain(fromJson(LiteralMapSchema, json, lenient));
}

function phaseName(enumObject: Record<number, string>, value: number): string {
  return enumObject[value] ?? "UNDEFINED";
}

// ---------------------------------------------------------------------------------------------------------
// Progress, terminate, relaunch, recover

export interface ProgressSnapshot {
  execution: ExecutionView;
  /** Top-level nodes and their phases, in node-id order. */
  nodes: { nodeId: string; phase: NodePhase }[];
  /**
   * The items of top-level maps that have started, by map node and index, each in the phase of its latest attempt:
   * read from the external resources of the map's task execution, as a FlyteAdmin reports an ArrayNode's items.
   */
  items?: { nodeId: string; index: number; phase: TaskPhase }[];
}

/** Polls until the execution ends, reporting each snapshot; resolves to the final view. */
export async function waitForRemoteExecution(
  client: AdminClient,
  key: ExecutionKey,
  onSnapshot: (snapshot: ProgressSnapshot) => void,
  options: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<ExecutionView> {
  const phases = new Map<string, NodePhase>();
  // Maps whose items are still read: until a poll has seen the map finished.
  const maps = new Set<string>();
  const items = new Map<string, Map<number, TaskPhase>>();
  // After the first full listing, only nodes updated since (by the server's clock, with a margin for writes that
  // land out of order): a poll of a 10,000-node execution stays a page or two.
  let since: number | undefined;
  for (;;) {
    // The execution first, its nodes after: once it reads terminal, the nodes read after it are final too.
    const view = await getExecutionView(client, key);
    const updated = await listTopNodes(client, key, since);
    for (const n of updated.nodes) {
      phases.set(n.nodeId, n.phase);
      if (n.isArray) maps.add(n.nodeId);
    }
    if (updated.latest !== undefined) since = Math.max(since ?? 0, updated.latest - progressMarginMs);
    // A map's node changes only when it starts and ends; its items move in between, so each poll reads them.
    await Promise.all(
      [...maps].map(async (nodeId) => {
        const finished = !runningPhases.has(phases.get(nodeId) ?? "UNDEFINED");
        items.set(nodeId, await listMapItems(client, key, nodeId));
        if (finished) maps.delete(nodeId);
      }),
    );
    const nodes = [...phases].map(([nodeId, phase]) => ({ nodeId, phase })).sort((a, b) => nodeIdOrder.compare(a.nodeId, b.nodeId));
    const itemList = [...items]
      .sort(([a], [b]) => nodeIdOrder.compare(a, b))
      .flatMap(([nodeId, byIndex]) => [...byIndex].sort(([a], [b]) => a - b).map(([index, phase]) => ({ nodeId, index, phase })));
    onSnapshot({ execution: view, nodes, ...(itemList.length ? { items: itemList } : {}) });
    if (isTerminal(view.phase)) return view;
    if (options.signal?.aborted) throw options.signal.reason;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}

/** Node updates a poll may see late: a write stamped before another one can be committed after it. */
const progressMarginMs = 10_000;

const runningPhases = new Set<string>(["UNDEFINED", "QUEUED", "RUNNING", "FAILING", "DYNAMIC_RUNNING"]);

/** A map's items by index, each in its latest attempt's phase, from its task execution's external resources. */
async function listMapItems(client: AdminClient, key: ExecutionKey, nodeId: string): Promise<Map<number, TaskPhase>> {
  const answer = fromJson(TaskExecutionListSchema, await client.get<JsonValue>(`/api/v1/task_executions/${path(key.project, key.domain, key.name, nodeId)}`, { limit: 1000 }), lenient);
  const latest = new Map<number, { attempt: number; phase: TaskPhase }>();
  for (const execution of answer.taskExecutions) {
    for (const r of execution.closure?.metadata?.externalResources ?? []) {
      const seen = latest.get(r.index);
      if (!seen || r.retryAttempt >= seen.attempt) latest.set(r.index, { attempt: r.retryAttempt, phase: phaseName(TaskExecution_Phase, r.phase) as TaskPhase });
    }
  }
  return new Map([...latest].map(([index, { phase }]) => [index, phase]));
}

/** The top-level nodes updated at or after `since` (ms), every page of them; `latest` is the newest update seen. */
async function listTopNodes(
  client: AdminClient,
  key: ExecutionKey,
  since: number | undefined,
): Promise<{ nodes: { nodeId: string; phase: NodePhase; isArray: boolean }[]; latest?: number }> {
  const nodes: { nodeId: string; phase: NodePhase; isArray: boolean }[] = [];
  let latest: number | undefined;
  let token: string | undefined;
  do {
    const filters = since === undefined ? undefined : `gte(updated_at,${new Date(since).toISOString()})`;
    const answer = fromJson(
      NodeExecutionListSchema,
      await client.get<JsonValue>(`/api/v1/node_executions/${path(key.project, key.domain, key.name)}`, { limit: 1000, token, filters }),
      lenient,
    );
    for (const n of answer.nodeExecutions) {
      const nodeId = n.id?.nodeId ?? "";
      if (nodeId === "start-node" || nodeId === "end-node") continue;
      nodes.push({ nodeId, phase: phaseName(NodeExecution_Phase, n.closure?.phase ?? 0) as NodePhase, isArray: n.metadata?.isArray === true });
      const at = n.closure?.updatedAt;
      if (at) latest = Math.max(latest ?? 0, Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6));
    }
    token = answer.token || undefined;
  } while (token);
  return { nodes, latest };
}

/** Terminates a running execution with a cause, which the control plane records. */
export async function terminateRemote(client: AdminClient, key: ExecutionKey, cause: string): Promise<void> {
  try {
    await client.delete(`/api/v1/executions/${path(key.project, key.domain, key.name)}`, { id: key, cause });
  } catch (e) {
    if (e instanceof NotFoundError) throw new NotFoundError(`execution ${key.name} not found in project ${key.project}, domain ${key.domain}`);
    throw e;
  }
}

/** `--relaunch NAME` (from scratch, same inputs) or `--recover NAME` (reuse what finished): the new execution's key. */
export async function restartRemote(
  client: AdminClient,
  mode: "relaunch" | "recover",
  source: ExecutionKey,
  options: { name?: string; overwriteCache?: boolean } = {},
): Promise<ExecutionKey> {
  const body = { id: source, ...(options.name ? { name: options.name } : {}), ...(mode === "relaunch" && options.overwriteCache ? { overwriteCache: true } : {}) };
  try {
    const answer = await client.post<{ id?: ExecutionKey }>(`/api/v1/executions/${mode}`, body);
    if (!answer?.id?.name) throw new UserError(`the control plane did not say the name of the ${mode === "relaunch" ? "relaunched" : "recovered"} execution`);
    return answer.id;
  } catch (e) {
    if (e instanceof NotFoundError) throw new NotFoundError(`execution ${source.name} not found in project ${source.project}, domain ${source.domain}`, "tsflyte get execution lists them");
    throw e;
  }
}

/** A finished remote execution as `run` reports one: outputs on success, every detail for the error trace otherwise. */
export async function remoteRunResult(client: AdminClient, key: ExecutionKey, phase: ExecutionPhase): Promise<RunResult> {
  const result: RunResult = { execution: key, phase };
  if (phase === "SUCCEEDED") {
    const data = await client.get<Record<string, JsonValue>>(`/api/v1/data/executions/${path(key.project, key.domain, key.name)}`);
    result.outputs = plainMap(data.full_outputs ?? data.fullOutputs) ?? {};
  } else {
    result.details = (await describeRemoteExecution(client, key, { details: true })) as ExecutionDetailsView;
  }
  return result;
}
