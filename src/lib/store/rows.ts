// Records to table rows and back, for any SQL metadata store: nested parts become columns, flags become 0/1.
// Must round-trip exactly: an optional field that was absent comes back absent, never as null or undefined-valued.
import type {
  CacheEntryRecord,
  CacheStatus,
  EntityRecord,
  EntityResource,
  ErrorKind,
  ExecutionErrorRecord,
  ExecutionPhase,
  ExecutionRecord,
  ExecutionSettings,
  LaunchKind,
  NodeKind,
  NodeExecutionRecord,
  NodePhase,
  ProjectRecord,
  TaskExecutionRecord,
  TaskPhase,
} from "./records.js";
import type { CacheEntryRow, EntityRow, ErrorColumns, ExecutionRow, NodeExecutionRow, ProjectRow, TaskExecutionRow } from "./schema.js";

export function executionToRow(r: ExecutionRecord): ExecutionRow {
  return {
    project: r.project,
    domain: r.domain,
    name: r.name,
    launch_kind: r.launchKind,
    launch_name: r.launchName,
    launch_version: r.launchVersion,
    source_file: r.source?.file ?? null,
    source_export_name: r.source?.exportName ?? null,
    mode: r.mode,
    source_execution: r.sourceExecution ?? null,
    phase: r.phase,
    ...errorToColumns(r.error),
    inputs_uri: r.inputsUri ?? "",
    outputs_uri: r.outputsUri ?? null,
    overwrite_cache: r.overwriteCache ? 1 : 0,
    max_parallelism: r.maxParallelism,
    owner_host: r.owner?.host ?? null,
    owner_pid: r.owner?.pid ?? null,
    owner_started_at: r.owner?.startedAt ?? null,
    created_at: r.createdAt,
    started_at: r.startedAt ?? null,
    updated_at: r.updatedAt,
    ended_at: r.endedAt ?? null,
    abort_cause: r.abort?.cause ?? null,
    abort_principal: r.abort?.principal ?? null,
    launch_project: r.launchProject ?? null,
    launch_domain: r.launchDomain ?? null,
    principal: r.principal ?? null,
    settings: r.settings ? JSON.stringify(r.settings) : null,
    inputs: bytesColumn(r.inputs),
    outputs: bytesColumn(r.outputs),
  };
}

export function executionFromRow(row: ExecutionRow): ExecutionRecord {
  const r: ExecutionRecord = {
    project: row.project,
    domain: row.domain,
    name: row.name,
    launchKind: row.launch_kind as LaunchKind,
    launchName: row.launch_name,
    launchVersion: row.launch_version,
    mode: row.mode as ExecutionRecord["mode"],
    phase: row.phase as ExecutionPhase,
    overwriteCache: row.overwrite_cache === 1,
    maxParallelism: row.max_parallelism,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.source_file !== null) r.source = { file: row.source_file, exportName: row.source_export_name ?? "" };
  if (row.source_execution !== null) r.sourceExecution = row.source_execution;
  const error = errorFromColumns(row);
  if (error) r.error = error;
  if (row.inputs_uri !== "") r.inputsUri = row.inputs_uri;
  if (row.inputs !== null) r.inputs = bytesFromColumn(row.inputs);
  if (row.outputs_uri !== null) r.outputsUri = row.outputs_uri;
  if (row.outputs !== null) r.outputs = bytesFromColumn(row.outputs);
  if (row.owner_host !== null) r.owner = { host: row.owner_host, pid: row.owner_pid ?? 0, startedAt: row.owner_started_at ?? 0 };
  if (row.abort_cause !== null) r.abort = { cause: row.abort_cause, principal: row.abort_principal ?? "" };
  if (row.launch_project !== null) r.launchProject = row.launch_project;
  if (row.launch_domain !== null) r.launchDomain = row.launch_domain;
  if (row.principal !== null) r.principal = row.principal;
  if (row.settings !== null) r.settings = JSON.parse(row.settings) as ExecutionSettings;
  if (row.started_at !== null) r.startedAt = row.started_at;
  if (row.ended_at !== null) r.endedAt = row.ended_at;
  return r;
}

export function nodeExecutionToRow(r: NodeExecutionRecord): NodeExecutionRow {
  return {
    project: r.project,
    domain: r.domain,
    execution_name: r.executionName,
    node_id: r.nodeId,
    spec_node_id: r.specNodeId,
    parent_node_id: r.parentNodeId ?? null,
    entity_kind: r.entityKind,
    entity_name: r.entityName,
    is_parent: r.isParent ? 1 : 0,
    phase: r.phase,
    cache_status: r.cacheStatus ?? null,
    cache_key: r.cacheKey ?? null,
    inputs_uri: r.inputsUri ?? null,
    outputs_uri: r.outputsUri ?? null,
    ...errorToColumns(r.error),
    recovered_from: r.recoveredFrom ?? null,
    created_at: r.createdAt,
    started_at: r.startedAt ?? null,
    updated_at: r.updatedAt,
    ended_at: r.endedAt ?? null,
    retries: r.retries ?? null,
    inputs: bytesColumn(r.inputs),
    outputs: bytesColumn(r.outputs),
  };
}

export function nodeExecutionFromRow(row: NodeExecutionRow): NodeExecutionRecord {
  const r: NodeExecutionRecord = {
    project: row.project,
    domain: row.domain,
    executionName: row.execution_name,
    nodeId: row.node_id,
    specNodeId: row.spec_node_id,
    entityKind: row.entity_kind as NodeKind,
    entityName: row.entity_name,
    isParent: row.is_parent === 1,
    phase: row.phase as NodePhase,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.parent_node_id !== null) r.parentNodeId = row.parent_node_id;
  if (row.cache_status !== null) r.cacheStatus = row.cache_status as CacheStatus;
  if (row.cache_key !== null) r.cacheKey = row.cache_key;
  if (row.inputs_uri !== null) r.inputsUri = row.inputs_uri;
  if (row.outputs_uri !== null) r.outputsUri = row.outputs_uri;
  const error = errorFromColumns(row);
  if (error) r.error = error;
  if (row.recovered_from !== null) r.recoveredFrom = row.recovered_from;
  if (row.started_at !== null) r.startedAt = row.started_at;
  if (row.ended_at !== null) r.endedAt = row.ended_at;
  if (row.retries !== null) r.retries = row.retries;
  if (row.inputs !== null) r.inputs = bytesFromColumn(row.inputs);
  if (row.outputs !== null) r.outputs = bytesFromColumn(row.outputs);
  return r;
}

export function taskExecutionToRow(r: TaskExecutionRecord): TaskExecutionRow {
  return {
    project: r.project,
    domain: r.domain,
    execution_name: r.executionName,
    node_id: r.nodeId,
    attempt: r.attempt,
    task_name: r.taskName,
    runner: r.runner,
    phase: r.phase,
    ...errorToColumns(r.error),
    outputs_uri: r.outputsUri ?? null,
    logs_uri: r.logsUri ?? null,
    started_at: r.startedAt,
    updated_at: r.updatedAt,
    ended_at: r.endedAt ?? null,
    outputs: bytesColumn(r.outputs),
    logs: r.logs ?? null,
  };
}

export function taskExecutionFromRow(row: TaskExecutionRow): TaskExecutionRecord {
  const r: TaskExecutionRecord = {
    project: row.project,
    domain: row.domain,
    executionName: row.execution_name,
    nodeId: row.node_id,
    attempt: row.attempt,
    taskName: row.task_name,
    runner: row.runner,
    phase: row.phase as TaskPhase,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  };
  const error = errorFromColumns(row);
  if (error) r.error = error;
  if (row.outputs_uri !== null) r.outputsUri = row.outputs_uri;
  if (row.logs_uri !== null) r.logsUri = row.logs_uri;
  if (row.ended_at !== null) r.endedAt = row.ended_at;
  if (row.outputs !== null) r.outputs = bytesFromColumn(row.outputs);
  if (row.logs !== null) r.logs = row.logs;
  return r;
}

export function cacheEntryToRow(r: CacheEntryRecord): CacheEntryRow {
  return {
    key: r.key,
    task_name: r.taskName,
    cache_version: r.cacheVersion,
    outputs_uri: r.outputsUri ?? "",
    project: r.project,
    domain: r.domain,
    execution_name: r.executionName,
    node_id: r.nodeId,
    created_at: r.createdAt,
    outputs: bytesColumn(r.outputs),
  };
}

export function cacheEntryFromRow(row: CacheEntryRow): CacheEntryRecord {
  const r: CacheEntryRecord = {
    key: row.key,
    taskName: row.task_name,
    cacheVersion: row.cache_version,
    project: row.project,
    domain: row.domain,
    executionName: row.execution_name,
    nodeId: row.node_id,
    createdAt: row.created_at,
  };
  // Migration 1 made outputs_uri NOT NULL: empty means the outputs are inline.
  if (row.outputs_uri !== "") r.outputsUri = row.outputs_uri;
  if (row.outputs !== null) r.outputs = bytesFromColumn(row.outputs);
  return r;
}

/** Both drivers bind a Buffer as bytes: a view of the record's bytes, not a copy. */
function bytesColumn(bytes: Uint8Array | undefined): Buffer | null {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
}

/** The drivers' Buffers may be views into a shared pool: a record keeps a copy of only its own bytes. */
function bytesFromColumn(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function entityToRow(r: EntityRecord): EntityRow {
  return {
    resource: r.resource,
    project: r.project,
    domain: r.domain,
    name: r.name,
    version: r.version,
    // Both drivers bind a Buffer as bytes; a view, not a copy.
    spec: Buffer.from(r.spec.buffer, r.spec.byteOffset, r.spec.byteLength),
    digest: r.digest,
    state: r.state ?? null,
    created_at: r.createdAt,
    updated_at: r.updatedAt ?? null,
  };
}

export function entityFromRow(row: EntityRow): EntityRecord {
  const r: EntityRecord = {
    resource: row.resource as EntityResource,
    project: row.project,
    domain: row.domain,
    name: row.name,
    version: row.version,
    // A copy in a plain Uint8Array: the drivers' Buffers may be views into a shared pool, whose other bytes a
    // caller would reach through `.buffer`.
    spec: new Uint8Array(row.spec),
    digest: row.digest,
    createdAt: row.created_at,
  };
  if (row.state !== null) r.state = row.state as NonNullable<EntityRecord["state"]>;
  if (row.updated_at !== null) r.updatedAt = row.updated_at;
  return r;
}

export function projectToRow(r: ProjectRecord): ProjectRow {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    labels: JSON.stringify(r.labels),
    state: r.state,
    created_at: r.createdAt,
  };
}

export function projectFromRow(row: ProjectRow): ProjectRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    labels: JSON.parse(row.labels) as Record<string, string>,
    state: row.state as ProjectRecord["state"],
    createdAt: row.created_at,
  };
}

export function errorToColumns(e: ExecutionErrorRecord | undefined): ErrorColumns {
  if (!e) return noError;
  return {
    error_kind: e.kind,
    error_code: e.code,
    error_message: e.message,
    error_recoverable: e.recoverable === undefined ? null : e.recoverable ? 1 : 0,
    error_stack: e.stack ?? null,
    error_uri: e.errorUri ?? null,
  };
}

const noError: ErrorColumns = Object.freeze({
  error_kind: null,
  error_code: null,
  error_message: null,
  error_recoverable: null,
  error_stack: null,
  error_uri: null,
});

/** The error a row records; its kind column says whether there is one. */
function errorFromColumns(row: ErrorColumns): ExecutionErrorRecord | undefined {
  if (row.error_kind === null) return undefined;
  const e: ExecutionErrorRecord = { kind: row.error_kind as ErrorKind, code: row.error_code ?? "", message: row.error_message ?? "" };
  if (row.error_recoverable !== null) e.recoverable = row.error_recoverable === 1;
  if (row.error_stack !== null) e.stack = row.error_stack;
  if (row.error_uri !== null) e.errorUri = row.error_uri;
  return e;
}
