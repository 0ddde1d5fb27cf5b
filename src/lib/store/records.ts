// The recorded history, as rows: executions, node executions, task attempts and cache entries, in the shapes
// every metadata store (SQLite now, PostgreSQL with the control plane) keeps. Types only; no I/O here.

/** Flyte's workflow execution phases (flyteidl.core.WorkflowExecution.Phase). */
export type ExecutionPhase =
  | "UNDEFINED" | "QUEUED" | "RUNNING" | "SUCCEEDING" | "SUCCEEDED" | "FAILING" | "FAILED" | "ABORTED" | "TIMED_OUT" | "ABORTING";
/** Flyte's node execution phases (flyteidl.core.NodeExecution.Phase). */
export type NodePhase =
  | "UNDEFINED" | "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILING" | "FAILED" | "ABORTED" | "SKIPPED" | "TIMED_OUT" | "DYNAMIC_RUNNING" | "RECOVERED";
/** Flyte's task execution phases (flyteidl.core.TaskExecution.Phase). */
export type TaskPhase =
  | "UNDEFINED" | "QUEUED" | "RUNNING" | "SUCCEEDED" | "ABORTED" | "FAILED" | "INITIALIZING" | "WAITING_FOR_RESOURCES" | "RETRYABLE_FAILED";
/** Flyte's catalog cache status (flyteidl.core.CatalogCacheStatus). */
export type CacheStatus = "CACHE_DISABLED" | "CACHE_MISS" | "CACHE_HIT" | "CACHE_POPULATED" | "CACHE_LOOKUP_FAILURE" | "CACHE_PUT_FAILURE" | "CACHE_SKIPPED";

export const terminalExecutionPhases: ReadonlySet<ExecutionPhase> = new Set(["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]);

export type ErrorKind = "USER" | "SYSTEM" | "UNKNOWN";

/** flyteidl.core.ExecutionError; `stack` is the user's stack, mapped to source lines, when known. */
export interface ExecutionErrorRecord {
  kind: ErrorKind;
  code: string;
  message: string;
  /** Whether another attempt could succeed (ContainerError RECOVERABLE); false for NonRetryableError. */
  recoverable?: boolean;
  stack?: string;
  errorUri?: string;
}

export interface ExecutionKey {
  project: string;
  domain: string;
  name: string;
}

export type LaunchKind = "task" | "workflow" | "launchPlan";

/** One execution of a task, workflow or launch plan. Times are milliseconds since the epoch. */
export interface ExecutionRecord extends ExecutionKey {
  launchKind: LaunchKind;
  /** The full name of what was launched, e.g. `examples.spend.calculateSpend`. */
  launchName: string;
  /** `local` for local runs; the registered version otherwise. */
  launchVersion: string;
  /** Where a local run loads its code again for recover and relaunch: absolute module path and export name. */
  source?: { file: string; exportName: string };
  mode: "MANUAL" | "RELAUNCH" | "RECOVERED";
  /** The execution this one relaunches or recovers (same project and domain). */
  sourceExecution?: string;
  phase: ExecutionPhase;
  error?: ExecutionErrorRecord;
  inputsUri: string;
  outputsUri?: string;
  overwriteCache: boolean;
  maxParallelism: number;
  /** The process running it; an execution whose owner is gone is failed by the next tsflyte start. */
  owner?: { host: string; pid: number; startedAt: number };
  createdAt: number;
  startedAt?: number;
  updatedAt: number;
  endedAt?: number;
}

/** One node of an execution. Nodes inside a subworkflow node have ids `<parent>-<attempt>-<node>`. */
export interface NodeExecutionRecord {
  project: string;
  domain: string;
  executionName: string;
  /** Unique within the execution. */
  nodeId: string;
  /** The node id in its workflow template (`n0`); equals nodeId at the top level. */
  specNodeId: string;
  parentNodeId?: string;
  entityKind: LaunchKind;
  entityName: string;
  /** True for subworkflow and launch plan nodes, whose children are node executions too. */
  isParent: boolean;
  phase: NodePhase;
  cacheStatus?: CacheStatus;
  cacheKey?: string;
  inputsUri?: string;
  outputsUri?: string;
  error?: ExecutionErrorRecord;
  /** For RECOVERED nodes: the execution whose outputs were reused. */
  recoveredFrom?: string;
  createdAt: number;
  startedAt?: number;
  updatedAt: number;
  endedAt?: number;
}

/** One attempt of a task node. */
export interface TaskExecutionRecord {
  project: string;
  domain: string;
  executionName: string;
  nodeId: string;
  /** 0 for the first attempt. */
  attempt: number;
  taskName: string;
  /** Which runner ran it: `in-process`, `subprocess`, `pod`, … */
  runner: string;
  phase: TaskPhase;
  error?: ExecutionErrorRecord;
  outputsUri?: string;
  /** The attempt's captured stdout, stderr and logger lines. */
  logsUri?: string;
  startedAt: number;
  updatedAt: number;
  endedAt?: number;
}

/** A cached task result: where its outputs are, and which execution produced them. */
export interface CacheEntryRecord {
  key: string;
  taskName: string;
  cacheVersion: string;
  outputsUri: string;
  project: string;
  domain: string;
  executionName: string;
  nodeId: string;
  createdAt: number;
}

/** One row to insert or replace (by primary key). A batch of writes is applied in one transaction. */
export type StoreWrite =
  | { table: "execution"; row: ExecutionRecord }
  | { table: "node"; row: NodeExecutionRecord }
  | { table: "task"; row: TaskExecutionRecord }
  | { table: "cache"; row: CacheEntryRecord };

export interface ListExecutionsQuery {
  project: string;
  domain: string;
  /** Default 100. */
  limit?: number;
  /** The opaque token a previous page returned. */
  token?: string;
  phase?: ExecutionPhase;
}

export interface Page<T> {
  items: T[];
  /** Set when there are more items; pass it back as `token`. */
  token?: string;
}

/**
 * A metadata store. Every method is async so that PostgreSQL can implement it; SQLite answers synchronously
 * inside. Writes are upserts of whole rows; `write` applies a batch atomically, so a crash never leaves half.
 */
export interface MetadataStore {
  readonly location: string;
  write(batch: readonly StoreWrite[]): Promise<void>;
  getExecution(key: ExecutionKey): Promise<ExecutionRecord | undefined>;
  /** Newest first (by createdAt, then name). */
  listExecutions(query: ListExecutionsQuery): Promise<Page<ExecutionRecord>>;
  /** Every node execution of an execution, at every level, ordered by createdAt then nodeId. */
  listNodeExecutions(key: ExecutionKey): Promise<NodeExecutionRecord[]>;
  /** Every attempt of an execution's task nodes, ordered by nodeId then attempt. */
  listTaskExecutions(key: ExecutionKey): Promise<TaskExecutionRecord[]>;
  getCacheEntry(key: string): Promise<CacheEntryRecord | undefined>;
  /**
   * Fails every QUEUED or RUNNING execution owned by a process on `host` for which `isAlive` says no: the
   * execution, its unfinished nodes and attempts become FAILED with a SYSTEM error. Returns their keys.
   */
  failOrphanedExecutions(host: string, isAlive: (owner: { pid: number; startedAt: number }) => boolean, now: number): Promise<ExecutionKey[]>;
  close(): Promise<void>;
}
