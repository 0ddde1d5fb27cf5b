// Reads the recorded history back as views: FlyteAdmin's Execution/NodeExecution/TaskExecution messages for
// `-o json`, and the details view (nodes, attempts, values, logs) for `--details`. Never writes to the store.
import { create, fromBinary, toJson, type JsonObject } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { NotFoundError } from "../errors.js";
import {
  ExecutionMetadata_ExecutionMode,
  ExecutionSchema,
  ExecutionState,
  type Execution,
} from "../idl/gen/flyteidl/admin/execution_pb.js";
import { NodeExecutionSchema, type NodeExecution } from "../idl/gen/flyteidl/admin/node_execution_pb.js";
import { TaskExecutionSchema, type TaskExecution } from "../idl/gen/flyteidl/admin/task_execution_pb.js";
import { CatalogCacheStatus } from "../idl/gen/flyteidl/core/catalog_pb.js";
import {
  ExecutionErrorSchema,
  ExecutionError_ErrorKind,
  NodeExecution_Phase,
  TaskExecution_Phase,
  WorkflowExecution_Phase,
  type ExecutionError,
} from "../idl/gen/flyteidl/core/execution_pb.js";
import { ResourceType } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { LiteralMapSchema, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { BlobStore } from "../storage/blob-store.js";
import type {
  CacheStatus,
  ErrorKind,
  ExecutionErrorRecord,
  ExecutionKey,
  ExecutionPhase,
  ExecutionRecord,
  ExecutionSettings,
  LaunchKind,
  NodeKind,
  ListExecutionsQuery,
  MetadataStore,
  NodeExecutionRecord,
  NodePhase,
  Page,
  TaskExecutionRecord,
  TaskPhase,
} from "../store/records.js";
import { literalMapToPlain } from "../types/plain.js";
import { errorText } from "./error-text.js";
import { readRecordedLiteralMap, recordedInputs, recordedOutputs, type RecordedValue } from "./recorded-values.js";

// ---------------------------------------------------------------------------------------------------------
// Records → FlyteAdmin messages

/** FlyteAdmin's ExecutionError; its message carries the user's stack after the message, bounded, as flytekit's tracebacks do. */
function errorMessage(e: ExecutionErrorRecord): ExecutionError {
  return create(ExecutionErrorSchema, { code: e.code, message: errorText(e), errorUri: e.errorUri ?? "", kind: ExecutionError_ErrorKind[e.kind] });
}

/** A node's or attempt's `output_result` oneof: its error, else its outputs inline (from its row), else where they are. */
function outputResult(record: { error?: ExecutionErrorRecord; outputs?: Uint8Array; outputsUri?: string }):
  | { case: "error"; value: ExecutionError }
  | { case: "outputData"; value: LiteralMap }
  | { case: "outputUri"; value: string }
  | { case: undefined } {
  if (record.error) return { case: "error", value: errorMessage(record.error) };
  if (record.outputs) return { case: "outputData", value: fromBinary(LiteralMapSchema, record.outputs) };
  return record.outputsUri ? { case: "outputUri", value: record.outputsUri } : { case: undefined };
}

function elapsed(startedAt: number | undefined, endedAt: number | undefined) {
  return startedAt !== undefined && endedAt !== undefined ? durationFromMs(Math.max(0, endedAt - startedAt)) : undefined;
}

function ts(ms: number | undefined) {
  return ms === undefined ? undefined : timestampFromMs(ms);
}

const launchResourceType: Record<LaunchKind, ResourceType> = {
  task: ResourceType.TASK,
  workflow: ResourceType.LAUNCH_PLAN,
  launchPlan: ResourceType.LAUNCH_PLAN,
};

/** An entity's identifying parts, as a core.Identifier carries them. */
export interface EntityIdParts {
  project: string;
  domain: string;
  name: string;
  version: string;
}

/** What the control plane knows about an execution beyond its record, for the fields FlyteAdmin fills in. */
export interface ExecutionAdminContext {
  /** The workflow a launch plan launched (`closure.workflow_id`); the record names only the launch plan. */
  workflowId?: EntityIdParts;
  /** The execution's inputs (`spec.inputs`), read from its inputs.pb. */
  inputs?: LiteralMap;
  /** FlyteAdmin reports every execution as active since its creation (`closure.state_change_details`). */
  reportActiveState?: boolean;
}

/** The execution as FlyteAdmin returns it from `GET /api/v1/executions/{p}/{d}/{n}`. */
export function executionToAdmin(record: ExecutionRecord, context: ExecutionAdminContext = {}): Execution {
  const id = { project: record.project, domain: record.domain, name: record.name };
  const entityId = (resourceType: ResourceType) => ({
    resourceType,
    project: record.launchProject ?? record.project,
    domain: record.launchDomain ?? record.domain,
    name: record.launchName,
    version: record.launchVersion,
  });
  return create(ExecutionSchema, {
    id,
    spec: {
      launchPlan: entityId(launchResourceType[record.launchKind]),
      inputs: context.inputs,
      metadata: {
        mode: ExecutionMetadata_ExecutionMode[record.mode],
        principal: record.principal ?? "",
        referenceExecution: record.sourceExecution
          ? { project: record.project, domain: record.domain, name: record.sourceExecution }
          : undefined,
        systemMetadata: {},
      },
      overwriteCache: record.overwriteCache,
      maxParallelism: record.maxParallelism,
      ...(record.settings ? settingsSpec(record.settings) : {}),
    },
    closure: {
      phase: WorkflowExecution_Phase[record.phase],
      // A terminated execution reports who stopped it and why, as FlyteAdmin's abort_metadata does.
      outputResult: record.abort
        ? { case: "abortMetadata", value: { cause: record.abort.cause, principal: record.abort.principal } }
        : record.error
          ? { case: "error", value: errorMessage(record.error) }
          : record.outputs
            ? { case: "outputs", value: { data: { case: "values", value: fromBinary(LiteralMapSchema, record.outputs) } } }
            : record.outputsUri
              ? { case: "outputs", value: { data: { case: "uri", value: record.outputsUri } } }
              : { case: undefined },
      startedAt: ts(record.startedAt),
      duration: elapsed(record.startedAt, record.endedAt),
      createdAt: ts(record.createdAt),
      updatedAt: ts(record.updatedAt),
      // A workflow's default launch plan has the workflow's name and version.
      workflowId:
        record.launchKind === "workflow"
          ? entityId(ResourceType.WORKFLOW)
          : context.workflowId
            ? { resourceType: ResourceType.WORKFLOW, ...context.workflowId }
            : undefined,
      stateChangeDetails: context.reportActiveState
        ? { state: ExecutionState.EXECUTION_ACTIVE, occurredAt: ts(record.createdAt), principal: record.principal ?? "" }
        : undefined,
    },
  });
}

/** The ExecutionSpec fields an execution's settings give, as FlyteAdmin returns them: identity in security_context, auth_role as sent. */
function settingsSpec(s: ExecutionSettings) {
  return {
    labels: s.labels ? { values: s.labels } : undefined,
    annotations: s.annotations ? { values: s.annotations } : undefined,
    envs: s.envs ? { values: Object.entries(s.envs).map(([key, value]) => ({ key, value })) } : undefined,
    securityContext: s.serviceAccount || s.iamRole ? { runAs: { k8sServiceAccount: s.serviceAccount ?? "", iamRole: s.iamRole ?? "" } } : undefined,
    authRole: s.authRole,
    rawOutputDataConfig: s.rawOutputPrefix ? { outputLocationPrefix: s.rawOutputPrefix } : undefined,
    clusterAssignment: s.clusterPool ? { clusterPoolName: s.clusterPool } : undefined,
    executionClusterLabel: s.executionClusterLabel ? { value: s.executionClusterLabel } : undefined,
    interruptible: s.interruptible,
    notificationOverrides: s.disableAllNotifications ? { case: "disableAll" as const, value: true } : { case: undefined },
  };
}

/** Children of a subworkflow node have ids `<parent>-<attempt>-<node>`; Flyte calls that attempt the retry group. */
function retryGroup(record: NodeExecutionRecord): string {
  if (!record.parentNodeId || !record.nodeId.startsWith(`${record.parentNodeId}-`)) return "";
  return record.nodeId.slice(record.parentNodeId.length + 1).split("-")[0] ?? "";
}

/** The node execution as FlyteAdmin returns it from `GET /api/v1/node_executions/{p}/{d}/{exec}/{node}`. */
export function nodeExecutionToAdmin(record: NodeExecutionRecord): NodeExecution {
  const cacheStatus = record.cacheStatus ? CatalogCacheStatus[record.cacheStatus] : undefined;
  const cached = record.cacheStatus === "CACHE_HIT" || record.cacheStatus === "CACHE_POPULATED";
  return create(NodeExecutionSchema, {
    id: {
      nodeId: record.nodeId,
      executionId: { project: record.project, domain: record.domain, name: record.executionName },
    },
    inputUri: record.inputsUri ?? "",
    closure: {
      phase: NodeExecution_Phase[record.phase],
      outputResult: outputResult(record),
      startedAt: ts(record.startedAt),
      duration: elapsed(record.startedAt, record.endedAt),
      createdAt: ts(record.createdAt),
      updatedAt: ts(record.updatedAt),
      targetMetadata:
        record.entityKind === "task" && cacheStatus !== undefined
          ? {
              case: "taskNodeMetadata",
              value: {
                cacheStatus,
                catalogKey:
                  cached && record.cacheKey
                    ? {
                        datasetId: {
                          resourceType: ResourceType.DATASET,
                          project: record.project,
                          domain: record.domain,
                          name: `flyte_task-${record.entityName}`,
                        },
                        artifactTag: { name: record.cacheKey },
                      }
                    : undefined,
              },
            }
          : { case: undefined },
    },
    // A map (ArrayNode) says is_array as Flyte's does. Flyte shows its items only as external resources of the map's
    // task execution (`mapTaskExecutionToAdmin`); tsflyte also lists them as its child node executions (is_parent_node,
    // `unique_parent_id`), so a client walks one tree for maps, branches and subworkflows alike.
    metadata: { retryGroup: retryGroup(record), specNodeId: record.specNodeId, isParentNode: record.isParent, isArray: record.entityKind === "array" },
  });
}

/** One item of a map as its task execution presents it: the item's node and that node's attempts. */
export interface MapItem {
  node: NodeExecutionRecord;
  attempts: TaskExecutionRecord[];
}

/** What a task execution's phase reads for a node phase, as FlytePropeller's array node maps its sub-nodes' phases. */
const taskPhaseOfNode: Partial<Record<NodePhase, TaskExecution_Phase>> = {
  QUEUED: TaskExecution_Phase.QUEUED,
  RUNNING: TaskExecution_Phase.RUNNING,
  DYNAMIC_RUNNING: TaskExecution_Phase.RUNNING,
  FAILING: TaskExecution_Phase.RUNNING,
  SUCCEEDED: TaskExecution_Phase.SUCCEEDED,
  RECOVERED: TaskExecution_Phase.SUCCEEDED,
  FAILED: TaskExecution_Phase.FAILED,
  TIMED_OUT: TaskExecution_Phase.FAILED,
  ABORTED: TaskExecution_Phase.ABORTED,
};

/**
 * A map node's one task execution (retry attempt 0: an ArrayNode is never retried itself), as FlytePropeller's array
 * node reports it: task type `container_array`, and every item attempt as an external resource with the item's index,
 * attempt, phase, cache status and logs. An item answered from the cache, or one that runs a workflow, has no attempt
 * of its own and is one resource of its node's phase. `logUri` gives an attempt's log link.
 */
export function mapTaskExecutionToAdmin(
  record: NodeExecutionRecord,
  items: MapItem[],
  context: { taskId?: EntityIdParts; logUri?: (attempt: TaskExecutionRecord) => string | undefined; inputUri?: string } = {},
): TaskExecution {
  const externalResources = [];
  const ordered = [...items].sort((a, b) => Number(a.node.specNodeId) - Number(b.node.specNodeId));
  for (const { node, attempts } of ordered) {
    const index = Number(node.specNodeId);
    const cacheStatus = CatalogCacheStatus[node.cacheStatus ?? "CACHE_DISABLED"];
    if (attempts.length === 0) {
      const phase = taskPhaseOfNode[node.phase];
      if (phase === undefined) continue;
      externalResources.push({ externalId: `${record.executionName}-${node.nodeId}-0`, index, retryAttempt: 0, phase, cacheStatus });
      continue;
    }
    for (const a of [...attempts].sort((x, y) => x.attempt - y.attempt)) {
      const uri = context.logUri?.(a) ?? a.logsUri;
      externalResources.push({
        externalId: `${record.executionName}-${node.nodeId}-${a.attempt}`,
        index,
        retryAttempt: a.attempt,
        phase: TaskExecution_Phase[a.phase],
        cacheStatus,
        logs: uri ? [{ uri, name: `logs (item ${index}, attempt ${a.attempt + 1})` }] : [],
      });
    }
  }
  return create(TaskExecutionSchema, {
    id: {
      taskId: context.taskId ? { resourceType: ResourceType.TASK, ...context.taskId } : undefined,
      nodeExecutionId: { nodeId: record.nodeId, executionId: { project: record.project, domain: record.domain, name: record.executionName } },
      retryAttempt: 0,
    },
    inputUri: context.inputUri ?? record.inputsUri ?? "",
    closure: {
      phase: taskPhaseOfNode[record.phase] ?? TaskExecution_Phase.UNDEFINED,
      outputResult: outputResult(record),
      startedAt: ts(record.startedAt),
      duration: elapsed(record.startedAt, record.endedAt),
      createdAt: ts(record.createdAt),
      updatedAt: ts(record.updatedAt),
      taskType: "container_array",
      metadata: { externalResources, pluginIdentifier: "k8s-array" },
    },
  });
}

/** What the control plane knows about an attempt beyond its record. */
export interface TaskExecutionAdminContext {
  /** The registered task the attempt ran; local runs know only its name. */
  taskId?: EntityIdParts;
  /** A link to the attempt's logs that a client can open, instead of the blob store URI. */
  logUri?: string;
  /** The node's inputs.pb. */
  inputUri?: string;
}

/**
 * One attempt as FlyteAdmin returns it from `GET /api/v1/task_executions/…`. Local runs record no task version,
 * so the execution's launch version is used when given.
 */
export function taskExecutionToAdmin(record: TaskExecutionRecord, taskVersion = "", context: TaskExecutionAdminContext = {}): TaskExecution {
  const logUri = context.logUri ?? record.logsUri;
  return create(TaskExecutionSchema, {
    id: {
      taskId: {
        resourceType: ResourceType.TASK,
        ...(context.taskId ?? { project: record.project, domain: record.domain, name: record.taskName, version: taskVersion }),
      },
      nodeExecutionId: {
        nodeId: record.nodeId,
        executionId: { project: record.project, domain: record.domain, name: record.executionName },
      },
      retryAttempt: record.attempt,
    },
    inputUri: context.inputUri ?? "",
    closure: {
      phase: TaskExecution_Phase[record.phase],
      outputResult: outputResult(record),
      startedAt: ts(record.startedAt),
      duration: elapsed(record.startedAt, record.endedAt),
      createdAt: ts(record.startedAt),
      updatedAt: ts(record.updatedAt),
      logs: logUri ? [{ uri: logUri, name: "logs" }] : [],
    },
  });
}

/**
 * An Execution in proto3 JSON (camelCase, enums by name) with every scalar and list field present, as FlyteAdmin
 * answers: `spec.metadata.mode` reads MANUAL rather than being absent. Used for `-o json|yaml` and by the server.
 */
export function executionJson(execution: Execution): JsonObject {
  return toJson(ExecutionSchema, execution, { alwaysEmitImplicit: true }) as JsonObject;
}

// ---------------------------------------------------------------------------------------------------------
// Views: what `get execution` prints

/** What the list and the one-execution table show, plus the admin message that `-o json|yaml` prints. */
export interface ExecutionView {
  name: string;
  project: string;
  domain: string;
  launched: { kind: LaunchKind; name: string; version: string };
  phase: ExecutionPhase;
  mode: ExecutionRecord["mode"];
  /** The execution this one relaunches or recovers. */
  sourceExecution?: string;
  /** ISO 8601 (UTC, milliseconds). */
  createdAt: string;
  startedAt?: string;
  /** Seconds, proto3 JSON style: "0.012s", "90s". */
  duration?: string;
  error?: ViewError;
  /** Why a QUEUED execution has not started, where the target can tell (not part of FlyteAdmin's Execution). */
  pending?: string;
  /** flyteidl.admin.Execution in proto3 JSON (`executionJson`): what `-o json|yaml` prints. */
  execution: JsonObject;
}

export interface ViewError {
  kind: ErrorKind;
  code: string;
  message: string;
}

export interface AttemptErrorView extends ViewError {
  recoverable: boolean;
  stack?: string;
}

/** One attempt of a task node. `attempt` counts from 1 (Flyte's retryAttempt + 1). */
export interface AttemptView {
  attempt: number;
  phase: TaskPhase;
  /** Which runner ran it (in-process, subprocess); the control plane's API does not say, so remote views leave it out. */
  runner?: string;
  startedAt: string;
  duration?: string;
  error?: AttemptErrorView;
  /** The attempt's captured stdout, stderr and logger lines; absent when there were none. */
  logs?: string;
  /** Where the control plane serves the attempt's logs (FlyteAdmin's TaskExecution `closure.logs`). */
  logLinks?: { name: string; uri: string }[];
}

export interface NodeView {
  nodeId: string;
  specNodeId: string;
  entity: { kind: NodeKind; name: string };
  phase: NodePhase;
  cacheStatus?: CacheStatus;
  startedAt?: string;
  duration?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  error?: ViewError;
  /** For RECOVERED nodes: the execution whose outputs were reused. */
  recoveredFrom?: string;
  /** Task nodes: the retries the task allows (up to `retries + 1` attempts for user errors), when known. */
  retries?: number;
  attempts: AttemptView[];
  /** The nodes of a subworkflow or launch plan node, in node-id order. */
  children?: NodeView[];
}

/** The `get execution NAME --details -o json|yaml` contract. */
export interface ExecutionDetailsView {
  /** flyteidl.admin.Execution in proto3 JSON, exactly what `get execution NAME -o json` prints. */
  execution: JsonObject;
  inputs: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  /** Top-level nodes in node-id order (n0, n1, …, n10); children nest under their parent. */
  nodes: NodeView[];
}

export function isDetailsView(view: ExecutionView | ExecutionDetailsView): view is ExecutionDetailsView {
  return "nodes" in view;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Milliseconds as proto3 JSON writes a Duration: whole seconds, or 3 decimals ("90s", "0.012s", "1.500s"). */
export function formatSeconds(ms: number): string {
  const whole = Math.round(ms);
  const rest = whole % 1000;
  return rest === 0 ? `${whole / 1000}s` : `${Math.floor(whole / 1000)}.${String(rest).padStart(3, "0")}s`;
}

function durationText(startedAt: number | undefined, endedAt: number | undefined): string | undefined {
  return startedAt !== undefined && endedAt !== undefined ? formatSeconds(Math.max(0, endedAt - startedAt)) : undefined;
}

function viewError(e: ExecutionErrorRecord | undefined): ViewError | undefined {
  return e ? { kind: e.kind, code: e.code, message: e.message } : undefined;
}

/** The list and one-execution view of a record. Pure. */
export function toExecutionView(record: ExecutionRecord): ExecutionView {
  return dropUndefined({
    name: record.name,
    project: record.project,
    domain: record.domain,
    launched: { kind: record.launchKind, name: record.launchName, version: record.launchVersion },
    phase: record.phase,
    mode: record.mode,
    sourceExecution: record.sourceExecution,
    createdAt: iso(record.createdAt)!,
    startedAt: iso(record.startedAt),
    duration: durationText(record.startedAt, record.endedAt),
    error: viewError(record.error),
    execution: executionJson(executionToAdmin(record)),
  });
}

const nodeIdOrder = new Intl.Collator("en", { numeric: true });

/** A page of executions, newest first, as views. */
export async function listExecutionViews(store: MetadataStore, query: ListExecutionsQuery): Promise<Page<ExecutionView>> {
  const page = await store.listExecutions(query);
  return { items: page.items.map(toExecutionView), ...(page.token ? { token: page.token } : {}) };
}

export interface DescribeOptions {
  details: boolean;
  /** Narrows the details to one node and its children; implies details. */
  nodeId?: string;
}

/**
 * One execution: the view for the table and `-o json`, or with `details` its nodes, attempts, values and logs.
 * Values and logs that are missing from the blob store are left out rather than failing the whole answer.
 */
export async function describeExecution(
  store: MetadataStore,
  blobs: BlobStore,
  key: ExecutionKey,
  options: DescribeOptions,
): Promise<ExecutionView | ExecutionDetailsView> {
  const record = await store.getExecution(key);
  if (!record) throw new NotFoundError(`execution ${key.name} not found in project ${key.project}, domain ${key.domain}`);
  if (!options.details && options.nodeId === undefined) return toExecutionView(record);

  const [nodes, attempts] = await Promise.all([store.listNodeExecutions(key), store.listTaskExecutions(key)]);
  if (options.nodeId !== undefined && !nodes.some((n) => n.nodeId === options.nodeId)) {
    const ids = nodes.map((n) => n.nodeId).sort(nodeIdOrder.compare);
    throw new NotFoundError(
      `node ${options.nodeId} not found in execution ${key.name}; ${ids.length ? `its nodes are: ${ids.join(", ")}` : "it has no nodes yet"}`,
    );
  }
  const selected = options.nodeId === undefined ? nodes : subtreeOf(nodes, options.nodeId, (n) => n.nodeId, (n) => n.parentNodeId);
  const selectedIds = new Set(selected.map((n) => n.nodeId));
  const attemptsByNode = new Map<string, TaskExecutionRecord[]>();
  for (const a of attempts) {
    if (!selectedIds.has(a.nodeId)) continue;
    const list = attemptsByNode.get(a.nodeId) ?? [];
    list.push(a);
    attemptsByNode.set(a.nodeId, list);
  }

  const [inputs, outputs, nodeViews] = await Promise.all([
    readLiteralMap(blobs, recordedInputs(record)),
    readLiteralMap(blobs, recordedOutputs(record)),
    Promise.all(selected.map((n) => buildNodeView(blobs, n, attemptsByNode.get(n.nodeId) ?? []))),
  ]);
  const byId = new Map(nodeViews.map((v, i) => [selected[i].nodeId, v] as const));
  const roots: NodeView[] = [];
  for (const [i, n] of selected.entries()) {
    const view = nodeViews[i];
    const parent = n.nodeId !== options.nodeId && n.parentNodeId !== undefined ? byId.get(n.parentNodeId) : undefined;
    if (parent) (parent.children ??= []).push(view);
    else roots.push(view);
  }
  sortByNodeId(roots);
  return dropUndefined({
    execution: executionJson(executionToAdmin(record)),
    inputs: inputs ?? {},
    outputs,
    nodes: roots,
  });
}

/**
 * Siblings in node-id order (n0, n1, …, n10), at every level: creation order varies between runs when nodes run
 * concurrently, and the compiler numbers nodes in the workflow's order.
 */
export function sortByNodeId(nodes: NodeView[]): void {
  nodes.sort((a, b) => nodeIdOrder.compare(a.nodeId, b.nodeId));
  for (const n of nodes) if (n.children) sortByNodeId(n.children);
}

/** The node and every node under it, in the order given; `id` and `parent` read a node's id and its parent's. */
export function subtreeOf<T>(nodes: T[], nodeId: string, id: (node: T) => string, parent: (node: T) => string | undefined): T[] {
  const keep = new Set([nodeId]);
  // Children usually come after their parent, but loop anyway in case clocks tie.
  for (let grew = true; grew; ) {
    grew = false;
    for (const n of nodes) {
      const p = parent(n);
      if (!keep.has(id(n)) && p !== undefined && keep.has(p)) {
        keep.add(id(n));
        grew = true;
      }
    }
  }
  return nodes.filter((n) => keep.has(id(n)));
}

async function buildNodeView(blobs: BlobStore, n: NodeExecutionRecord, attempts: TaskExecutionRecord[]): Promise<NodeView> {
  const [inputs, outputs, attemptViews] = await Promise.all([
    readLiteralMap(blobs, recordedInputs(n)),
    readLiteralMap(blobs, recordedOutputs(n)),
    Promise.all([...attempts].sort((a, b) => a.attempt - b.attempt).map((a) => buildAttemptView(blobs, a))),
  ]);
  return dropUndefined({
    nodeId: n.nodeId,
    specNodeId: n.specNodeId,
    entity: { kind: n.entityKind, name: n.entityName },
    phase: n.phase,
    cacheStatus: n.cacheStatus,
    startedAt: iso(n.startedAt),
    duration: durationText(n.startedAt, n.endedAt),
    inputs,
    outputs,
    error: viewError(n.error),
    recoveredFrom: n.recoveredFrom,
    retries: n.retries,
    attempts: attemptViews,
  });
}

async function buildAttemptView(blobs: BlobStore, a: TaskExecutionRecord): Promise<AttemptView> {
  const logs = a.logs ?? (a.logsUri ? await readText(blobs, a.logsUri) : undefined);
  return dropUndefined({
    attempt: a.attempt + 1,
    phase: a.phase,
    runner: a.runner,
    startedAt: iso(a.startedAt)!,
    duration: durationText(a.startedAt, a.endedAt),
    error: a.error
      ? dropUndefined({
          kind: a.error.kind,
          code: a.error.code,
          message: a.error.message,
          recoverable: a.error.recoverable ?? a.error.kind === "SYSTEM",
          stack: a.error.stack,
        })
      : undefined,
    logs: logs ? logs : undefined,
  });
}

/** A recorded LiteralMap as plain values; undefined when there is none or it cannot be read. */
async function readLiteralMap(blobs: BlobStore, value: RecordedValue): Promise<Record<string, unknown> | undefined> {
  const map = await readRecordedLiteralMap(blobs, value);
  return map && literalMapToPlain(map);
}

async function readText(blobs: BlobStore, uri: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await blobs.read(uri));
  } catch {
    return undefined;
  }
}

/** Leaves optional fields out instead of writing `undefined`, so views compare and serialize cleanly. */
function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
