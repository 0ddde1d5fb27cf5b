// Executions on a control plane: create, read back as the same views local runs give (list, one, details with
// nodes, attempts, values and log links), wait with progress, terminate, relaunch and recover. Never prints.
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { NodeExecutionListSchema, NodeExecutionSchema, type NodeExecution } from "../idl/gen/flyteidl/admin/node_execution_pb.js";
import { TaskExecutionListSchema, type TaskExecution } from "../idl/gen/flyteidl/admin/task_execution_pb.js";
import { TaskSchema } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSchema } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LiteralMapSchema, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { NodeExecution_Phase, TaskExecution_Phase, ExecutionError_ErrorKind } from "../idl/gen/flyteidl/core/execution_pb.js";
import { CatalogCacheStatus } from "../idl/gen/flyteidl/core/catalog_pb.js";
import type { Node, WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import { NotFoundError, UserError } from "../errors.js";
import { formatSeconds, sortByNodeId, subtreeOf, type AttemptView, type EntityIdParts, type ExecutionDetailsView, type ExecutionView, type NodeView } from "../engine/history.js";
import type { CacheStatus, ExecutionKey, ExecutionPhase, NodePhase, TaskPhase } from "../store/records.js";
import { getExecutionView } from "./execution-json.js";
import { splitErrorText } from "../engine/error-text.js";
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
  const [data, nodes, workflow] = await Promise.all([
    client.get<Record<string, JsonValue>>(`/api/v1/data/executions/${path(key.project, key.domain, key.name)}`),
    nodesInBulk(client, key).then((bulk) => bulk ?? listAllNodes(client, key)),
    workflowClosure(client, (execution.execution.closure as { workflowId?: EntityIdParts } | undefined)?.workflowId),
  ]);
  if (options.nodeId !== undefined && !nodes.some((n) => n.execution.id?.nodeId === options.nodeId)) {
    const ids = nodes.map((n) => n.execution.id?.nodeId ?? "").sort(nodeIdOrder.compare);
    throw new NotFoundError(`node ${options.nodeId} not found in execution ${key.name}; ${ids.length ? `its nodes are: ${ids.join(", ")}` : "it has no nodes yet"}`);
  }
  const selected = options.nodeId === undefined ? nodes : subtreeOf(nodes, options.nodeId, (n) => n.execution.id?.nodeId ?? "", (n) => n.parent);
  const views = await Promise.all(selected.map((n) => nodeView(client, key, n, workflow)));
  const byId = new Map(views.map((v) => [v.nodeId, v] as const));
  const roots: NodeView[] = [];
  for (const [i, n] of selected.entries()) {
    const parent = n.parent !== undefined && views[i].nodeId !== options.nodeId ? byId.get(n.parent) : undefined;
    if (parent) (parent.children ??= []).push(views[i]);
    else roots.push(views[i]);
  }
  sortByNodeId(roots);
  const view: ExecutionDetailsView = { execution: execution.execution, inputs: plainMap(data.full_inputs ?? data.fullInputs) ?? {}, nodes: roots };
  const outputs = plainMap(data.full_outputs ?? data.fullOutputs);
  if (outputs) view.outputs = outputs;
  return view;
}

interface ListedNode {
  execution: NodeExecution;
  parent?: string;
  /** What tsflyte's details route already answered for the node: its attempts and its data. */
  fetched?: { attempts: JsonValue; data: Record<string, JsonValue> };
}

/**
 * Every node with its attempts and data from tsflyte's own details route, a few requests for the whole execution;
 * undefined from a FlyteAdmin, which has no such route (404), so its per-node routes are used instead.
 */
async function nodesInBulk(client: AdminClient, key: ExecutionKey): Promise<ListedNode[] | undefined> {
  const out: ListedNode[] = [];
  let token: string | undefined;
  do {
    let answer: { nodes?: BulkNode[]; token?: string };
    try {
      answer = await client.get(`/api/v1/tsflyte/execution_details/${path(key.project, key.domain, key.name)}`, { token });
    } catch (e) {
      if (e instanceof NotFoundError && out.length === 0) return undefined;
      throw e;
    }
    for (const n of answer.nodes ?? []) {
      out.push({
        execution: fromJson(NodeExecutionSchema, n.node_execution, lenient),
        ...(n.parent_node_id ? { parent: n.parent_node_id } : {}),
        fetched: { attempts: { task_executions: n.task_executions }, data: { full_inputs: n.full_inputs, full_outputs: n.full_outputs } },
      });
    }
    token = answer.token || undefined;
  } while (token);
  return out;
}

/** One node as tsflyte's details route answers it. */
interface BulkNode {
  node_execution: JsonValue;
  parent_node_id?: string;
  full_inputs: JsonValue;
  full_outputs: JsonValue;
  task_executions: JsonValue[];
}

const nodeIdOrder = new Intl.Collator("en", { numeric: true });

/** Every node execution, children of parent nodes included (FlyteAdmin lists them per `unique_parent_id`). */
async function listAllNodes(client: AdminClient, key: ExecutionKey): Promise<ListedNode[]> {
  const out: ListedNode[] = [];
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

/** The workflow an execution ran, compiled: its own and its subworkflows' templates, and its tasks' templates. */
interface WorkflowClosure {
  templates: WorkflowTemplate[];
  tasks: TaskTemplate[];
  /** Retries of tasks outside the closure (a task launched alone, a launch plan node's), read once each by id. */
  fetched?: Map<string, Promise<number | undefined>>;
  /** The templates' nodes by id, made on first use. */
  nodesById?: Map<string, Node[]>;
}

/** The workflow the execution ran, to name what each node ran and read its retries; empty for a task. */
/** The template nodes with this id, in the workflow and its subworkflows; indexed once, as every node of the execution asks. */
function nodesWithId(workflow: WorkflowClosure, specNodeId: string): Node[] {
  if (!workflow.nodesById) {
    workflow.nodesById = new Map();
    for (const n of workflow.templates.flatMap((t) => t.nodes)) {
      const same = workflow.nodesById.get(n.id);
      if (same) same.push(n);
      else workflow.nodesById.set(n.id, [n]);
    }
  }
  return workflow.nodesById.get(specNodeId) ?? [];
}

async function workflowClosure(client: AdminClient, id: EntityIdParts | undefined): Promise<WorkflowClosure> {
  if (!id?.name) return { templates: [], tasks: [] };
  try {
    const answer = fromJson(WorkflowSchema, await client.get<JsonValue>(`/api/v1/workflows/${path(id.project, id.domain, id.name, id.version)}`), lenient);
    const compiled = answer.closure?.compiledWorkflow;
    return {
      templates: [compiled?.primary?.template, ...(compiled?.subWorkflows ?? []).map((s) => s.template)].filter((t): t is WorkflowTemplate => t !== undefined),
      tasks: (compiled?.tasks ?? []).map((t) => t.template).filter((t): t is TaskTemplate => t !== undefined),
    };
  } catch (e) {
    if (e instanceof NotFoundError) return { templates: [], tasks: [] };
    throw e;
  }
}

/**
 * The retries a task node allows: the node's own (Node.metadata.retries) beat its task's, as in FlytePropeller. A task
 * launched on its own has no workflow closure: its template is read from the control plane.
 */
async function retriesOfNode(client: AdminClient, workflow: WorkflowClosure, specNodeId: string, attempts: TaskExecution[]): Promise<number | undefined> {
  const taskId = attempts[0]?.id?.taskId;
  if (!taskId?.name) return undefined;
  const same = (id: { project: string; domain: string; name: string; version: string } | undefined) =>
    id?.name === taskId.name && id.version === taskId.version && id.project === taskId.project && id.domain === taskId.domain;
  // Spec node ids repeat across a workflow and its subworkflows; the node that ran this task is the one meant.
  const node = nodesWithId(workflow, specNodeId).find(
    (n) => n.target.case === "taskNode" && n.target.value.reference.case === "referenceId" && same(n.target.value.reference.value),
  );
  if (node?.metadata?.retries) return node.metadata.retries.retries;
  const known = workflow.tasks.find((t) => same(t.id));
  if (known) return known.metadata?.retries?.retries ?? 0;
  const url = `/api/v1/tasks/${path(taskId.project, taskId.domain, taskId.name, taskId.version)}`;
  workflow.fetched ??= new Map();
  let retries = workflow.fetched.get(url);
  if (!retries) {
    retries = client.get<JsonValue>(url).then(
      (json) => {
        const template = fromJson(TaskSchema, json, lenient).closure?.compiledTask?.template;
        return template ? (template.metadata?.retries?.retries ?? 0) : undefined;
      },
      (e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      },
    );
    workflow.fetched.set(url, retries);
  }
  return retries;
}

/** What a node ran, by its spec node id, looked up in the workflow and its subworkflows. */
function entityOfNode(workflow: WorkflowClosure, specNodeId: string, attempts: TaskExecution[]): NodeView["entity"] {
  const taskName = attempts[0]?.id?.taskId?.name;
  if (taskName) return { kind: "task", name: taskName };
  // In template order (the workflow's own, then its subworkflows'), the first node of this id that runs something.
  for (const { target } of nodesWithId(workflow, specNodeId)) {
    if (target.case === "taskNode" && target.value.reference.case === "referenceId") return { kind: "task", name: target.value.reference.value.name };
    if (target.case === "workflowNode" && target.value.reference.case === "launchplanRef") return { kind: "launchPlan", name: target.value.reference.value.name };
    if (target.case === "workflowNode" && target.value.reference.case === "subWorkflowRef") return { kind: "workflow", name: target.value.reference.value.name };
  }
  return { kind: "task", name: "" };
}

async function nodeView(client: AdminClient, key: ExecutionKey, listed: ListedNode, workflow: WorkflowClosure): Promise<NodeView> {
  const n = listed.execution;
  const nodeId = n.id?.nodeId ?? "";
  const nodePath = path(key.project, key.domain, key.name, nodeId);
  const [attemptsAnswer, data] = listed.fetched
    ? [listed.fetched.attempts, listed.fetched.data]
    : await Promise.all([
        client.get<JsonValue>(`/api/v1/task_executions/${nodePath}`, { limit: 1000 }),
        client.get<Record<string, JsonValue>>(`/api/v1/data/node_executions/${nodePath}`).catch((e: unknown) => {
          if (e instanceof NotFoundError) return {} as Record<string, JsonValue>;
          throw e;
        }),
      ]);
  const attempts = fromJson(TaskExecutionListSchema, attemptsAnswer, lenient).taskExecutions.sort((a, b) => (a.id?.retryAttempt ?? 0) - (b.id?.retryAttempt ?? 0));
  const closure = n.closure;
  const specNodeId = n.metadata?.specNodeId || nodeId;
  // Fields in the order the local history writes them (attempts last), so YAML from either target reads the same.
  const view = {
    nodeId,
    specNodeId,
    entity: entityOfNode(workflow, specNodeId, attempts),
    phase: phaseName(NodeExecution_Phase, closure?.phase ?? 0) as NodePhase,
  } as NodeView;
  if (closure?.targetMetadata.case === "taskNodeMetadata") {
    view.cacheStatus = phaseName(CatalogCacheStatus, closure.targetMetadata.value.cacheStatus) as CacheStatus;
  }
  const started = isoOf(closure?.startedAt);
  if (started) view.startedAt = started;
  if (closure?.duration && started) view.duration = durationText(closure.duration);
  const inputs = plainMap(data.full_inputs ?? data.fullInputs);
  if (inputs) view.inputs = inputs;
  const outputs = plainMap(data.full_outputs ?? data.fullOutputs);
  if (outputs) view.outputs = outputs;
  if (closure?.outputResult.case === "error") {
    const e = closure.outputResult.value;
    view.error = { kind: errorKind(e.kind), code: e.code, message: splitErrorText(e.message, e.code).message };
  }
  if (attempts.length) {
    const retries = await retriesOfNode(client, workflow, specNodeId, attempts);
    if (retries !== undefined) view.retries = retries;
  }
  view.attempts = attempts.map(attemptView);
  return view;
}

function attemptView(a: TaskExecution): AttemptView {
  const closure = a.closure;
  const view: AttemptView = {
    attempt: (a.id?.retryAttempt ?? 0) + 1,
    phase: phaseName(TaskExecution_Phase, closure?.phase ?? 0) as TaskPhase,
    startedAt: isoOf(closure?.startedAt) ?? isoOf(closure?.createdAt) ?? "",
  };
  if (closure?.duration && closure.startedAt) view.duration = durationText(closure.duration);
  if (closure?.outputResult.case === "error") {
    const e = closure.outputResult.value;
    const kind = errorKind(e.kind);
    // FlyteAdmin does not carry ContainerError's recoverable flag; a RETRYABLE_FAILED attempt was retried. The
    // message carries the user's stack, as flytekit's tracebacks do.
    const { message, stack } = splitErrorText(e.message, e.code);
    view.error = { kind, code: e.code, message, recoverable: view.phase === "RETRYABLE_FAILED", ...(stack ? { stack } : {}) };
  }
  const links = (closure?.logs ?? []).filter((l) => l.uri).map((l) => ({ name: l.name || "logs", uri: l.uri }));
  if (links.length) view.logLinks = links;
  return view;
}

function plainMap(json: JsonValue | undefined): Record<string, unknown> | undefined {
  if (json === undefined || json === null) return undefined;
  return literalMapToPlain(fromJson(LiteralMapSchema, json, lenient));
}

function phaseName(enumObject: Record<number, string>, value: number): string {
  return enumObject[value] ?? "UNDEFINED";
}

function errorKind(kind: ExecutionError_ErrorKind): "USER" | "SYSTEM" | "UNKNOWN" {
  return kind === ExecutionError_ErrorKind.USER ? "USER" : kind === ExecutionError_ErrorKind.SYSTEM ? "SYSTEM" : "UNKNOWN";
}

function isoOf(ts: { seconds: bigint; nanos: number } | undefined): string | undefined {
  if (!ts || (ts.seconds === 0n && ts.nanos === 0)) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)).toISOString();
}

function durationText(d: { seconds: bigint; nanos: number }): string {
  return formatSeconds(Number(d.seconds) * 1000 + d.nanos / 1e6);
}

// ---------------------------------------------------------------------------------------------------------
// Progress, terminate, relaunch, recover

export interface ProgressSnapshot {
  execution: ExecutionView;
  /** Top-level nodes and their phases, in node-id order. */
  nodes: { nodeId: string; phase: NodePhase }[];
}

/** Polls until the execution ends, reporting each snapshot; resolves to the final view. */
export async function waitForRemoteExecution(
  client: AdminClient,
  key: ExecutionKey,
  onSnapshot: (snapshot: ProgressSnapshot) => void,
  options: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<ExecutionView> {
  for (;;) {
    const [view, nodes] = await Promise.all([
      getExecutionView(client, key),
      client.get<JsonValue>(`/api/v1/node_executions/${path(key.project, key.domain, key.name)}`, { limit: 1000 }),
    ]);
    const nodeList = fromJson(NodeExecutionListSchema, nodes, lenient)
      .nodeExecutions.map((n) => ({ nodeId: n.id?.nodeId ?? "", phase: phaseName(NodeExecution_Phase, n.closure?.phase ?? 0) as NodePhase }))
      .filter((n) => n.nodeId !== "start-node" && n.nodeId !== "end-node")
      .sort((a, b) => nodeIdOrder.compare(a.nodeId, b.nodeId));
    onSnapshot({ execution: view, nodes: nodeList });
    if (isTerminal(view.phase)) return view;
    if (options.signal?.aborted) throw options.signal.reason;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
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
