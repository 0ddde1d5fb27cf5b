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
/** What a node runs: an entity, or a control-flow node (a branch, a map over a list, a gate). */
export type NodeKind = LaunchKind | "branch" | "array" | "gate";

/**
 * What an execution was launched with beyond what it runs and its inputs: the admin ExecutionSpec fields a request
 * (or its launch plan) gave. Each target acts on those it can, and refuses at create what it cannot honour.
 */
export interface ExecutionSettings {
  /** Kubernetes labels; on Kubernetes they go on the execution's objects (its record ConfigMap, driver Job, task pods). */
  labels?: Record<string, string>;
  /** Kubernetes annotations, on the same objects as the labels. */
  annotations?: Record<string, string>;
  /** Environment variables every task attempt gets (spec.envs), in the order given. */
  envs?: Record<string, string>;
  /** The service account task pods run as (security_context.run_as.k8s_service_account, or auth_role's). */
  serviceAccount?: string;
  /** The IAM role task pods get, as the annotation the target's config names (security_context.run_as.iam_role, or auth_role's). */
  iamRole?: string;
  /** spec.auth_role as the request gave it (Flyte deprecates it; flytectl still sends it), to return it as given. */
  authRole?: { assumableIamRole: string; kubernetesServiceAccount: string };
  /** Where offloaded files, directories and tables go (raw_output_data_config.output_location_prefix), no trailing slash. */
  rawOutputPrefix?: string;
  /** cluster_assignment.cluster_pool_name: recorded and shown; tsflyte runs an execution in its one cluster. */
  clusterPool?: string;
  /** execution_cluster_label.value: recorded and shown, as clusterPool. */
  executionClusterLabel?: string;
  /** spec.interruptible: whether the tasks that do not say so themselves may run on preemptible capacity. */
  interruptible?: boolean;
  /** spec.disable_all: no notifications for this execution (tsflyte sends none in any case). */
  disableAllNotifications?: boolean;
}

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
  /** Its inputs as a binary LiteralMap, when small enough to live in the row (see inlineLimitBytes); else at inputsUri. */
  inputs?: Uint8Array;
  /** Where its inputs.pb is: only when that file was written (large inputs). */
  inputsUri?: string;
  /** Its outputs, inline as `inputs` is; else at outputsUri. */
  outputs?: Uint8Array;
  outputsUri?: string;
  overwriteCache: boolean;
  maxParallelism: number;
  /** The process running it; an execution whose owner is gone is failed by the next tsflyte start. */
  owner?: { host: string; pid: number; startedAt: number };
  /** Why it was terminated (`DELETE executions/…` with a cause), and by whom. */
  abort?: { cause: string; principal: string };
  /** The project and domain of the launched entity, when they differ from the execution's own (server only). */
  launchProject?: string;
  launchDomain?: string;
  /** Who started it (metadata.principal): what the request said, else the caller as the server knows it. */
  principal?: string;
  /** What it was launched with (labels, envs, service account, …); absent when nothing was given. */
  settings?: ExecutionSettings;
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
  entityKind: NodeKind;
  /** The entity it runs; a branch's name; for a map, the entity mapped. */
  entityName: string;
  /** True for subworkflow, launch plan, branch and map nodes, whose children (cases, items) are node executions too. */
  isParent: boolean;
  phase: NodePhase;
  cacheStatus?: CacheStatus;
  cacheKey?: string;
  /** Its inputs as a binary LiteralMap, when small enough to live in the row; files only where something reads them. */
  inputs?: Uint8Array;
  /** Where its inputs.pb is: only when that file was written (a runner outside the engine's process, or large inputs). */
  inputsUri?: string;
  outputs?: Uint8Array;
  outputsUri?: string;
  error?: ExecutionErrorRecord;
  /** For RECOVERED nodes: the execution whose outputs were reused. */
  recoveredFrom?: string;
  /** Task nodes: the retries the task allows, so up to `retries + 1` attempts for user errors. */
  retries?: number;
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
  /** Its outputs as a binary LiteralMap, when small enough to live in the row; else (or also) at outputsUri. */
  outputs?: Uint8Array;
  outputsUri?: string;
  /** The attempt's captured stdout, stderr and logger lines, when short enough to live in the row; else at logsUri. */
  logs?: string;
  logsUri?: string;
  startedAt: number;
  updatedAt: number;
  endedAt?: number;
}

/** A cached task result: its outputs (inline when small, else where they are), and which execution produced them. */
export interface CacheEntryRecord {
  key: string;
  taskName: string;
  cacheVersion: string;
  outputs?: Uint8Array;
  outputsUri?: string;
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
  /** FlyteAdmin-style filters, all of which must hold (`eq(phase,FAILED)+gte(created_at,…)`). */
  filters?: readonly ExecutionFilter[];
  /**
   * Default: newest first (created_at DESC, then name DESC). Other keys break ties by name in the same direction;
   * an execution without a start or end time sorts before every time when ascending, after them when descending.
   */
  sortBy?: { key: ExecutionSortKey; direction: "ASC" | "DESC" };
}

/** The execution fields a list can filter on; times are milliseconds since the epoch. */
export type ExecutionFilterField =
  | "name" | "phase" | "mode" | "launch_kind" | "launch_name" | "launch_version" | "source_execution"
  | "created_at" | "updated_at" | "started_at" | "ended_at";
export type ExecutionSortKey = "created_at" | "updated_at" | "started_at" | "ended_at" | "name" | "phase";

export interface ExecutionFilter {
  field: ExecutionFilterField;
  op: "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "contains" | "value_in";
  /** One value, or several for `value_in`. Numbers for the time fields. */
  value: string | number | readonly (string | number)[];
}

export interface Page<T> {
  items: T[];
  /** Set when there are more items; pass it back as `token`. */
  token?: string;
}

/** A signal of an execution, by FlyteAdmin's SignalIdentifier: the execution and the gate's signal id. */
export interface SignalKey {
  project: string;
  domain: string;
  executionName: string;
  signalId: string;
}

/** A signal a gate waits for (FlyteAdmin's Signal): made when the first gate starts waiting for it, set once. */
export interface SignalRecord extends SignalKey {
  /** Its type, a binary LiteralType (approvals: boolean). */
  type: Uint8Array;
  /** Its value, a binary Literal, once given. */
  value?: Uint8Array;
  createdAt: number;
  updatedAt: number;
}

/** What setting a signal did: set it, found it set to the same value, found no such signal, or found another value. */
export type SetSignalOutcome = { outcome: "set" | "same"; signal: SignalRecord } | { outcome: "missing" } | { outcome: "conflict"; signal: SignalRecord };

/** Signals of executions (FlyteAdmin's GetOrCreateSignal, ListSignals and SetSignal), kept with their history. */
export interface SignalStore {
  /** The signal as stored, inserting `record` first when there is none (a gate starts waiting). */
  getOrCreateSignal(record: SignalRecord): Promise<SignalRecord>;
  getSignal(key: SignalKey): Promise<SignalRecord | undefined>;
  /** An execution's signals by signal id, `limit` at a time (default 100); the token is the page's last signal id. */
  listSignals(key: ExecutionKey, limit?: number, token?: string): Promise<Page<SignalRecord>>;
  /** Sets the value once: setting it again to the same bytes changes nothing, to other bytes is refused (conflict). */
  setSignal(key: SignalKey, value: Uint8Array, now: number): Promise<SetSignalOutcome>;
}

/**
 * A metadata store. Every method is async so that PostgreSQL can implement it; SQLite answers synchronously
 * inside. Writes are upserts of whole rows; `write` applies a batch atomically, so a crash never leaves half.
 * Text sorts and compares byte by byte (UTF-8: 'B' before 'a') in every store, whatever the database's locale.
 */
export interface MetadataStore extends SignalStore {
  readonly location: string;
  write(batch: readonly StoreWrite[]): Promise<void>;
  getExecution(key: ExecutionKey): Promise<ExecutionRecord | undefined>;
  /** Newest first (by createdAt, then name), unless `query.sortBy` says otherwise. */
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

// ── The control plane's registry: projects, and registered tasks, workflows and launch plans. ──

export type EntityResource = "task" | "workflow" | "launchPlan";

export interface EntityKey {
  project: string;
  domain: string;
  name: string;
  version: string;
}

/** A registered entity. Immutable once written, except a launch plan's state. */
export interface EntityRecord extends EntityKey {
  resource: EntityResource;
  /**
   * The admin spec as binary protobuf: `flyteidl.admin.TaskSpec`, `flyteidl.admin.WorkflowSpec` or
   * `flyteidl.admin.LaunchPlanSpec`.
   */
  spec: Uint8Array;
  /** A digest of the spec's deterministic bytes: equal digests are an identical re-register. */
  digest: string;
  /** Launch plans only. */
  state?: "ACTIVE" | "INACTIVE";
  createdAt: number;
  /** When setLaunchPlanState last changed this version's state; absent until it first does. */
  updatedAt?: number;
}

export interface ProjectRecord {
  id: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  state: "ACTIVE" | "ARCHIVED";
  createdAt: number;
}

export interface ListEntitiesQuery {
  resource: EntityResource;
  project: string;
  domain: string;
  /** Only versions of this name. */
  name?: string;
  /** Launch plans only: only those in this state. */
  state?: "ACTIVE" | "INACTIVE";
  /** Default 100. */
  limit?: number;
  token?: string;
  /**
   * Default: newest first (created_at DESC, then name and version DESC). `name` breaks ties by version, `version`
   * by name, in the same direction.
   */
  sortBy?: { key: "created_at" | "name" | "version"; direction: "ASC" | "DESC" };
}

/** What `registerEntity` found: it wrote the record, or one was already stored under the same key. */
export type RegisterOutcome = { created: true } | { created: false; existing: EntityRecord };

/**
 * The registry and the control plane's execution bookkeeping. Each method that changes anything is one
 * transaction, so a request that fails half-way leaves nothing behind.
 */
export interface RegistryStore {
  /**
   * Inserts the entity unless its key is taken; never replaces. A launch plan registered ACTIVE deactivates the
   * other versions of its name, as setLaunchPlanState does.
   */
  registerEntity(record: EntityRecord): Promise<RegisterOutcome>;
  getEntity(resource: EntityResource, key: EntityKey): Promise<EntityRecord | undefined>;
  listEntities(query: ListEntitiesQuery): Promise<Page<EntityRecord>>;
  /** Distinct names of one resource in a project and domain, sorted by name. */
  listEntityNames(resource: EntityResource, project: string, domain: string, limit?: number, token?: string): Promise<Page<string>>;
  /**
   * Sets a launch plan version's state. Activating one version deactivates every other version of the same
   * name in the same transaction (FlyteAdmin keeps at most one active). False when the version does not exist.
   */
  setLaunchPlanState(key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number): Promise<boolean>;
  /** The active version of a launch plan name, if any. */
  getActiveLaunchPlan(project: string, domain: string, name: string): Promise<EntityRecord | undefined>;
  /** False when a project with this id exists. */
  createProject(project: ProjectRecord): Promise<boolean>;
  getProject(id: string): Promise<ProjectRecord | undefined>;
  /** Sorted by id. */
  listProjects(): Promise<ProjectRecord[]>;
  /** Inserts a new execution row; false (and nothing written) when the name is taken in that project and domain. */
  createExecution(record: ExecutionRecord): Promise<boolean>;
  /** Executions that have not reached a terminal phase (QUEUED, RUNNING, SUCCEEDING, FAILING, ABORTING), oldest first. */
  listUnfinishedExecutions(): Promise<ExecutionRecord[]>;
  /** How many executions of a project and domain are in each phase. */
  countExecutions(project: string, domain: string): Promise<Record<string, number>>;
}

/** What the control plane keeps everything in: both stores over one database. */
export interface ControlPlaneStore extends MetadataStore, RegistryStore {}
