// The DAG executor: runs an execution's nodes as their inputs become ready, with retries on two budgets,
// timeouts, the cache and recovery, recording every state in the store. Never decides where a task runs.
import type { Literal, LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { Entity } from "../sdk/entity.js";
import { startNodeId } from "../sdk/trace.js";
import type { BlobStore } from "../storage/blob-store.js";
import {
  attemptOutputPrefix,
  executionInputsUri,
  executionOutputsUri,
  nodeInputsUri,
  rawOutputPrefix,
} from "../storage/layout.js";
import type {
  CacheStatus,
  ExecutionErrorRecord,
  ExecutionKey,
  ExecutionPhase,
  ExecutionRecord,
  ExecutionSettings,
  LaunchKind,
  MetadataStore,
  NodeExecutionRecord,
  NodePhase,
  TaskExecutionRecord,
} from "../store/records.js";
import { cacheKey } from "./cache-key.js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DynamicJobSpecSchema, type DynamicJobSpec } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";
import { UserError } from "../errors.js";
import type { IrClosure, IrRoot } from "./from-ir.js";
import { LiteralSchema } from "../idl/gen/flyteidl/core/literals_pb.js";
import {
  workflowOf,
  type ExecLaunchPlan,
  type ExecTask,
  type ExecWorkflow,
  type Executable,
  type PlannedNode,
} from "./executable.js";
import { executableOf } from "./from-sdk.js";
import { runGate, type GateAnswerer } from "./gate-node.js";
import { runArray } from "./array-node.js";
import { runBranch } from "./branch-node.js";
import { failureErrorInput } from "../compiler/emit-nodes.js";
import { dynamicWorkflow } from "./dynamic-node.js";
import type { ChildRun } from "./child-run.js";
import { resolveBinding } from "./plan.js";
import { encodeLiteralMap, literalMapOf } from "./literal-bytes.js";
import { Recorder } from "./recorder.js";
import { inlineLimitBytes, inputsFields, outputsFields, placeValue, readRecordedLiteralMap, recordedOutputs } from "./recorded-values.js";
import type { AttemptError, AttemptOutcome, DynamicOutcome, TaskRunner } from "./runner.js";

export interface EngineEnv {
  /** Where history is recorded; without one (direct calls from user code) nothing is recorded or cached. */
  store?: MetadataStore;
  blobs: BlobStore;
  runner: TaskRunner;
  /** System failures a node may have before it fails (Flyte's max-node-retries-system-failures). Default 3. */
  maxSystemFailures?: number;
  /** Who answers gates where the execution runs (a local run's terminal); elsewhere gates wait for their signal in the store. */
  gates?: GateAnswerer;
  /**
   * Registered entities a dynamic workflow's spec names but does not carry (a control plane's registry). Without it,
   * a dynamic workflow built in a task container can call only what its spec carries.
   */
  resolveReferences?: (refs: IrRoot[]) => Promise<IrClosure>;
}

/** Nodes of an earlier execution whose outputs a recovering execution reuses, by unique node id. */
export interface RecoverSource {
  executionName: string;
  nodes: ReadonlyMap<string, NodeExecutionRecord>;
}

/** An execution picked up again after its process stopped (the control plane restarting), from its records. */
export interface ResumeState {
  /** Its row as recorded: QUEUED, or RUNNING when the process stopped mid-way. */
  record: ExecutionRecord;
  /** Its node executions by unique node id: finished ones are not run again. */
  nodes: ReadonlyMap<string, NodeExecutionRecord>;
  /** Its task attempts by unique node id: numbering goes on, failures count against the budgets. */
  tasks: ReadonlyMap<string, readonly TaskExecutionRecord[]>;
}

export interface ExecutionRequest {
  key: ExecutionKey;
  /** What to run: an executable (registered IR), or an SDK entity with the names to record it under. */
  executable?: Executable;
  entity?: Entity;
  /** Full names for records and messages: the compiler's names when known. */
  nameOf?: (entity: Entity) => string;
  launch: { kind: LaunchKind; name: string; version: string };
  /** The launched entity's inputs; defaults, launch-plan defaults and fixed inputs are filled in here (not when resuming: they were). */
  inputs: LiteralMap;
  /** Continue this recorded execution instead of starting a new one. */
  resume?: ResumeState;
  source?: ExecutionRecord["source"];
  mode?: ExecutionRecord["mode"];
  sourceExecution?: string;
  recover?: RecoverSource;
  overwriteCache?: boolean;
  /** Task attempts running at once. Default 25, like Flyte's. */
  maxParallelism?: number;
  owner?: ExecutionRecord["owner"];
  /** What a new execution is launched with (a resumed one keeps its record's): envs, raw output prefix, … */
  settings?: ExecutionSettings;
  /** Stops the execution (Ctrl-C, terminate): running attempts are abandoned and it ends ABORTED. */
  signal?: AbortSignal;
}

export interface ExecutionResult {
  record: ExecutionRecord;
  outputs?: LiteralMap;
  /** The error of the node that failed first (the execution's error names it too). */
  failure?: NodeFailure;
}

export interface NodeFailure {
  nodeId: string;
  entityName: string;
  error: ExecutionErrorRecord;
  /** What the task threw, for callers in the same process (direct calls rethrow it). */
  thrown?: unknown;
}

export const defaultMaxParallelism = 25;

/** The abort reason of an execution terminated on request: recorded as its abort cause and who asked. */
export class Termination extends Error {
  constructor(
    cause: string,
    readonly principal: string,
  ) {
    super(cause);
  }
}

/**
 * The abort reason of an execution its server stops (a graceful stop, after its grace period): the attempts running
 * are recorded ABORTED with code `Interrupted` and the rest of the execution is left as it stands, RUNNING, for the
 * next start to resume. Neither budget is charged: a resume does not count interrupted or never-started attempts.
 */
export class Interruption extends Error {}

/** What an attempt stopped by its server's shutdown is recorded with. */
export const interruptedCode = "Interrupted";

function interrupted(run: Run): boolean {
  return run.request.signal?.reason instanceof Interruption;
}

/** Ends an execution's nodes: thrown through node promises once a node has failed and the workflow stops. */
class NodeFailed extends Error {
  constructor(readonly failure: NodeFailure) {
    super(failure.error.message);
  }
}

class Aborted extends Error {}

/** Limits how many task attempts run at once across the whole execution. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  acquire(): Promise<void> | undefined {
    if (this.active < this.limit) {
      this.active++;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

interface Run {
  request: ExecutionRequest;
  env: EngineEnv;
  key: ExecutionKey;
  recorder: Recorder;
  limiter: Limiter;
  abort: AbortController;
  maxSystemFailures: number;
  /** In-flight cache keys of serialized tasks: identical nodes wait for the first instead of running. */
  serialized: Map<string, Promise<LiteralMap | undefined>>;
  /** Attempts running now, so that stopping the execution reaches each of them. */
  running: Set<AttemptStop>;
  /** The execution's settings, which every attempt gets. */
  settings?: ExecutionSettings;
  firstFailure?: NodeFailure;
}

const shared = { serialized: new Map<string, Promise<LiteralMap | undefined>>() };

function now(): number {
  return Date.now();
}

/** Runs one execution to its end and returns its final record; a node's failure is a result, not a throw. */
export async function runExecution(request: ExecutionRequest, env: EngineEnv): Promise<ExecutionResult> {
  const executable = request.executable ?? executableOf(request.entity!, request.nameOf!);
  const key = request.key;
  const run: Run = {
    request,
    env,
    key,
    recorder: new Recorder(env.store),
    limiter: new Limiter(request.maxParallelism && request.maxParallelism > 0 ? request.maxParallelism : defaultMaxParallelism),
    abort: new AbortController(),
    maxSystemFailures: env.maxSystemFailures ?? 3,
    serialized: env.store ? shared.serialized : new Map(),
    running: new Set(),
  };
  const onTerminate = () => abortRun(run);
  request.signal?.addEventListener("abort", onTerminate, { once: true });
  if (request.signal?.aborted) abortRun(run);
  // Inputs are completed before anything is recorded: a missing input means no execution starts.
  const inputs = request.resume ? request.inputs : executable.completeInputs(request.inputs);
  const base = env.blobs.baseUri;
  const started = now();
  const resumed = request.resume?.record;
  const record: ExecutionRecord = resumed
    ? { ...resumed, phase: "RUNNING", startedAt: resumed.startedAt ?? started, updatedAt: started, owner: request.owner ?? resumed.owner }
    : {
    ...key,
    launchKind: request.launch.kind,
    launchName: request.launch.name,
    launchVersion: request.launch.version,
    source: request.source,
    mode: request.mode ?? "MANUAL",
    sourceExecution: request.sourceExecution,
    phase: "RUNNING",
    overwriteCache: request.overwriteCache ?? false,
    maxParallelism: request.maxParallelism ?? defaultMaxParallelism,
    owner: request.owner,
    ...(request.settings ? { settings: request.settings } : {}),
    createdAt: started,
    startedAt: started,
    updatedAt: started,
  };
  run.settings = record.settings;
  if (env.store) {
    if (!resumed) Object.assign(record, inputsFields(placeValue(encodeLiteralMap(inputs), executionInputsUri(base, key), env.blobs)));
    // The inputs (in the row, or a file first when large) and the RUNNING row are durable before any task runs:
    // after a crash the execution is visible, and recover and relaunch can read what it was started with.
    if (record.inputsUri) await env.blobs.flush();
    run.recorder.record({ table: "execution", row: record });
    await run.recorder.flush();
  }

  let outputs: LiteralMap | undefined;
  try {
    if (executable.kind === "task") {
      const node: PlannedNode = { kind: "call", id: "n0", target: executable, inputs: {}, upstream: [] };
      outputs = await runNode(run, node, "n0", undefined, inputs, new Map());
    } else {
      outputs = await runWorkflow(run, workflowOf(executable), inputs, "", undefined);
    }
  } catch (e) {
    if (e instanceof NodeFailed) run.firstFailure ??= e.failure;
    else if (!(e instanceof Aborted)) throw e;
  }
  request.signal?.removeEventListener("abort", onTerminate);
  if (interrupted(run) && !run.firstFailure) {
    // Its server stops: the interrupted attempts' rows are written, the execution's row stays RUNNING for the next start.
    if (env.store) {
      await env.blobs.flush();
      await run.recorder.flush();
    }
    return { record };
  }
  const ended = now();
  if (request.signal?.aborted && !run.firstFailure) {
    record.phase = "ABORTED";
    const reason = request.signal.reason;
    record.error = { kind: "USER", code: "Aborted", message: reason instanceof Error ? reason.message : String(reason ?? "the execution was stopped") };
    if (reason instanceof Termination) record.abort = { cause: reason.message, principal: reason.principal };
    outputs = undefined;
  } else if (run.firstFailure) {
    record.phase = "FAILED";
    record.error = run.firstFailure.error;
    outputs = undefined;
  } else {
    record.phase = "SUCCEEDED";
    if (outputs && env.store) Object.assign(record, outputsFields(placeValue(encodeLiteralMap(outputs), executionOutputsUri(base, key), env.blobs)));
  }
  record.endedAt = ended;
  record.updatedAt = ended;
  if (env.store) {
    // Files first, then the rows that point at them: a crash in between leaves rows that still read true.
    await env.blobs.flush();
    run.recorder.record({ table: "execution", row: record });
    await run.recorder.flush();
  }
  return { record, outputs, failure: run.firstFailure };
}

/** Runs a workflow's nodes; `prefix` makes node ids unique inside subworkflows (`n1-0-`). */
async function runWorkflow(
  run: Run,
  workflow: ExecWorkflow,
  inputs: LiteralMap,
  prefix: string,
  parentNodeId: string | undefined,
): Promise<LiteralMap> {
  const plan = workflow.plan();
  const outputs = new Map<string, LiteralMap>([[startNodeId, inputs]]);
  const done = new Map<string, Promise<void>>();
  const failFast = workflow.failFast;
  for (const node of plan.nodes) {
    const upstream = node.upstream.map((id) => done.get(id)!);
    const task = (async () => {
      if (upstream.length === 1) await upstream[0];
      else if (upstream.length) await Promise.all(upstream);
      if (run.abort.signal.aborted) throw new Aborted();
      const uniqueId = prefix + node.id;
      try {
        outputs.set(node.id, await runNode(run, node, uniqueId, parentNodeId, resolveInputs(node, outputs), outputs));
      } catch (e) {
        if (e instanceof NodeFailed) {
          run.firstFailure ??= e.failure;
          if (failFast) abortRun(run);
        }
        throw e;
      }
    })();
    task.catch(() => undefined);
    done.set(node.id, task);
  }
  const settled = await Promise.allSettled(done.values());
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected" && s.reason instanceof NodeFailed);
  if (failed) {
    if (plan.failureNode) await runFailureNode(run, plan.failureNode, prefix, parentNodeId, outputs, (failed.reason as NodeFailed).failure);
    throw failed.reason;
  }
  const bug = settled.find((s): s is PromiseRejectedResult => s.status === "rejected" && !(s.reason instanceof Aborted));
  if (bug) throw bug.reason;
  if (settled.some((s) => s.status === "rejected")) throw new Aborted();
  const literals: Record<string, Literal> = {};
  for (const output in plan.outputs) literals[output] = resolveBinding(plan.outputs[output], outputs);
  return literalMapOf(literals);
}

function resolveInputs(node: PlannedNode, outputs: ReadonlyMap<string, LiteralMap>): LiteralMap {
  const literals: Record<string, Literal> = {};
  for (const input in node.inputs) literals[input] = resolveBinding(node.inputs[input], outputs);
  return literalMapOf(literals);
}

/**
 * A failed workflow's failure node (WorkflowTemplate.failure_node): runs once, with the workflow's inputs and, when it
 * declares one, the error as `err`. Its own failure is recorded on it; the workflow's error stays the first one.
 */
async function runFailureNode(
  run: Run,
  node: PlannedNode,
  prefix: string,
  parentNodeId: string | undefined,
  outputs: Map<string, LiteralMap>,
  failure: NodeFailure,
): Promise<void> {
  // The user's stop or the server's is not a failure: nothing runs after it.
  if (run.request.signal?.aborted) return;
  const errorLiteral: Literal = create(LiteralSchema, {
    value: {
      case: "scalar",
      value: { value: { case: "error", value: { failedNodeId: failure.nodeId, message: `${failure.error.code}: ${failure.error.message}` } } },
    },
  });
  const inputs = resolveInputs({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([name]) => name !== failureErrorInput)) }, outputs);
  if (failureErrorInput in node.inputs || failureErrorInputDeclared(node)) inputs.literals[failureErrorInput] = errorLiteral;
  // The workflow's abort (fail-immediately) must not stop its own clean-up: the failure node gets a run of its own.
  const cleanup: Run = { ...run, abort: new AbortController(), running: new Set() };
  try {
    await runNode(cleanup, node, prefix + node.id, parentNodeId, inputs, outputs);
  } catch (e) {
    if (!(e instanceof NodeFailed) && !(e instanceof Aborted)) throw e;
  }
}

function failureErrorInputDeclared(node: PlannedNode): boolean {
  return node.kind === "call" && node.target.inputNames.includes(failureErrorInput);
}

function nodeRecord(run: Run, node: PlannedNode, uniqueId: string, parentNodeId: string | undefined, specNodeId = node.id): NodeExecutionRecord {
  const t = now();
  // One literal with every field, in one order: records of one shape stay fast to make, copy and write.
  const record: NodeExecutionRecord = {
    project: run.key.project,
    domain: run.key.domain,
    executionName: run.key.name,
    nodeId: uniqueId,
    specNodeId,
    parentNodeId,
    entityKind: node.kind === "call" ? node.target.kind : node.kind,
    entityName: node.kind === "call" ? node.target.name : node.kind === "array" ? node.node.target.name : node.name,
    isParent: node.kind === "gate" ? false : node.kind !== "call" || node.target.kind !== "task",
    retries: undefined,
    phase: "RUNNING",
    createdAt: t,
    startedAt: t,
    updatedAt: t,
  };
  if (node.kind === "call" && node.target.kind === "task") record.retries = node.target.retries;
  return record;
}

function keyOf(run: Run): { project: string; domain: string; executionName: string } {
  return { project: run.key.project, domain: run.key.domain, executionName: run.key.name };
}

function finishNode(run: Run, record: NodeExecutionRecord, phase: NodePhase, extra: Partial<NodeExecutionRecord> = {}): void {
  const t = now();
  Object.assign(record, extra, { phase, updatedAt: t, endedAt: t });
  run.recorder.record({ table: "node", row: record });
}

/** What a branch or a map needs of the engine to run its children, for the node `record` is of. */
function childRun(run: Run, record: NodeExecutionRecord): ChildRun {
  return {
    runChild: (node, uniqueId, inputs, scope, specNodeId) => runNode(run, node, uniqueId, record.nodeId, inputs, scope, specNodeId),
    skipChild: (node, uniqueId) => {
      if (run.request.resume?.nodes.get(uniqueId)?.phase === "SKIPPED") return;
      finishNode(run, nodeRecord(run, node, uniqueId, record.nodeId), "SKIPPED");
    },
    fail: (error) => failNode(run, record, error),
    childFailure: (e) => (e instanceof NodeFailed ? e.failure : undefined),
    resolveInputs,
    signal: run.abort.signal,
    aborted: () => new Aborted(),
  };
}

/**
 * Runs one node: finished ones of a resumed execution and recovered ones give their recorded outputs; the rest run by
 * kind. `scope` holds the outputs of the enclosing workflow's nodes, which a branch's cases read.
 */
async function runNode(
  run: Run,
  node: PlannedNode,
  uniqueId: string,
  parentNodeId: string | undefined,
  inputs: LiteralMap,
  scope: ReadonlyMap<string, LiteralMap>,
  specNodeId?: string,
): Promise<LiteralMap> {
  const { blobs } = run.env;
  const earlier = run.request.resume?.nodes.get(uniqueId);
  if (earlier) {
    const finished = await finishedOutputs(run, earlier);
    if (finished) return finished;
  }
  const record = nodeRecord(run, node, uniqueId, parentNodeId, specNodeId);
  if (earlier) {
    record.createdAt = earlier.createdAt;
    record.startedAt = earlier.startedAt ?? record.startedAt;
  }
  if (run.env.store) {
    const bytes = encodeLiteralMap(inputs);
    const uri = nodeInputsUri(blobs.baseUri, run.key, uniqueId);
    if (node.kind === "call" && node.target.kind === "task" && run.env.runner.isolated) {
      // A worker outside this process reads the node's inputs.pb, so that file is written; the row keeps a copy when small.
      blobs.put(uri, bytes);
      record.inputsUri = uri;
      if (bytes.byteLength <= inlineLimitBytes) record.inputs = bytes;
    } else {
      Object.assign(record, inputsFields(placeValue(bytes, uri, blobs)));
    }
  }
  const recovered = run.request.recover ? await recoverNode(run, uniqueId) : undefined;
  if (recovered) {
    finishNode(run, record, "RECOVERED", { ...recovered.fields, recoveredFrom: run.request.recover!.executionName, cacheStatus: recovered.cacheStatus });
    return recovered.outputs;
  }
  run.recorder.record({ table: "node", row: record });
  if (node.kind === "call" && node.target.kind === "task") return runTaskNode(run, node.target, record, inputs);
  try {
    let outputs: LiteralMap;
    if (node.kind === "branch") outputs = await runBranch(childRun(run, record), node, record.nodeId, inputs, scope);
    else if (node.kind === "array") outputs = await runArray(childRun(run, record), node, record.nodeId, inputs);
    else if (node.kind === "gate") outputs = await runGate({ env: run.env, key: run.key, signal: run.abort.signal, fail: (error) => failNode(run, record, error), aborted: () => new Aborted() }, node, record, inputs);
    else outputs = await runWorkflow(run, workflowOf(node.target as ExecWorkflow | ExecLaunchPlan), node.target.completeInputs(inputs), `${uniqueId}-0-`, uniqueId);
    const extra = run.env.store
      ? outputsFields(placeValue(encodeLiteralMap(outputs), `${attemptOutputPrefix(blobs.baseUri, run.key, uniqueId, 0)}/outputs.pb`, blobs))
      : {};
    finishNode(run, record, "SUCCEEDED", extra);
    return outputs;
  } catch (e) {
    if (e instanceof NodeFailed) {
      // The node's own failure (a branch with no case, a map short of successes) is recorded by whoever threw it.
      if (record.phase === "RUNNING") finishNode(run, record, "FAILED", { error: e.failure.error });
    } else if (e instanceof Aborted && !interrupted(run)) finishNode(run, record, "ABORTED");
    throw e;
  }
}

/** A resumed execution's node that finished before the process stopped: its outputs, when they were recorded. */
async function finishedOutputs(run: Run, node: NodeExecutionRecord): Promise<LiteralMap | undefined> {
  if (node.phase !== "SUCCEEDED" && node.phase !== "RECOVERED") return undefined;
  return readRecordedLiteralMap(run.env.blobs, recordedOutputs(node));
}

/** The outputs a recovering execution reuses for this node, when the original run finished it: the same bytes or URI, not a copy. */
async function recoverNode(
  run: Run,
  uniqueId: string,
): Promise<{ outputs: LiteralMap; fields: Pick<NodeExecutionRecord, "outputs" | "outputsUri">; cacheStatus?: CacheStatus } | undefined> {
  const source = run.request.recover?.nodes.get(uniqueId);
  if (!source || (source.phase !== "SUCCEEDED" && source.phase !== "RECOVERED")) return undefined;
  // Undefined when the outputs were never recorded (the original process died first): the node runs again.
  const outputs = await readRecordedLiteralMap(run.env.blobs, recordedOutputs(source));
  return outputs && { outputs, fields: outputsFields(recordedOutputs(source)), cacheStatus: source.cacheStatus };
}

async function runTaskNode(run: Run, task: ExecTask, record: NodeExecutionRecord, inputs: LiteralMap): Promise<LiteralMap> {
  const cache = task.cache;
  if (!cache || !run.env.store) {
    record.cacheStatus = "CACHE_DISABLED";
    return runAttempts(run, task, record, inputs);
  }
  const key = cacheKey(record.entityName, task.interfaceHash, cache.version, inputs, cache.ignoredInputs);
  record.cacheKey = key;
  if (!run.request.overwriteCache) {
    const hit = await lookupCache(run, key);
    if (hit) {
      finishNode(run, record, "SUCCEEDED", { cacheStatus: "CACHE_HIT", ...hit.fields });
      return hit.outputs;
    }
    const inFlight = cache.serialize ? run.serialized.get(key) : undefined;
    if (inFlight) {
      const outputs = await inFlight.catch(() => undefined);
      const after = outputs ? await lookupCache(run, key) : undefined;
      if (after) {
        finishNode(run, record, "SUCCEEDED", { cacheStatus: "CACHE_HIT", ...after.fields });
        return after.outputs;
      }
    }
  }
  record.cacheStatus = "CACHE_MISS";
  const running = runAttempts(run, task, record, inputs).then((outputs) => {
    const t = now();
    run.recorder.record({
      table: "cache",
      row: { key, taskName: record.entityName, cacheVersion: cache.version, ...outputsFields(recordedOutputs(record)), ...keyOf(run), nodeId: record.nodeId, createdAt: t },
    });
    record.cacheStatus = "CACHE_POPULATED";
    run.recorder.record({ table: "node", row: record });
    return outputs;
  });
  if (cache.serialize) {
    const settled = running.then(async (outputs) => {
      await run.recorder.flush();
      return outputs;
    });
    run.serialized.set(key, settled);
    settled.catch(() => undefined).finally(() => {
      if (run.serialized.get(key) === settled) run.serialized.delete(key);
    });
  }
  return running;
}

/** A cached value for `key`, referenced as it is (its bytes or its URI): a hit copies nothing and writes no file. */
async function lookupCache(run: Run, key: string): Promise<{ outputs: LiteralMap; fields: Pick<NodeExecutionRecord, "outputs" | "outputsUri"> } | undefined> {
  const entry = await run.env.store!.getCacheEntry(key);
  if (!entry) return undefined;
  const outputs = await readRecordedLiteralMap(run.env.blobs, recordedOutputs(entry));
  return outputs && { outputs, fields: outputsFields(recordedOutputs(entry)) };
}

/** Runs attempts until one succeeds or a budget is spent: user errors `retries + 1` attempts, system errors their own. */
async function runAttempts(run: Run, task: ExecTask, record: NodeExecutionRecord, inputs: LiteralMap): Promise<LiteralMap> {
  const { blobs, store } = run.env;
  const userAttempts = task.retries + 1;
  const timeoutMs = task.timeoutMs;
  const earlier = earlierAttempts(run, record.nodeId);
  const { firstAttempt, lastError } = earlier;
  let { userFailures, systemFailures } = earlier;
  const generated = await earlierDynamicSpec(run, record);
  if (generated) return runDynamic(run, task, record, { spec: generated.spec }, generated.prefix);
  if (lastError && (userFailures >= userAttempts || systemFailures >= run.maxSystemFailures)) {
    // Every attempt the budgets allow already ran before the process stopped.
    const spent = lastError.kind === "USER" ? finalError(lastError, lastError, userFailures, userAttempts) : finalError(lastError, lastError, systemFailures, run.maxSystemFailures);
    return failNode(run, record, { ...spent, recoverable: lastError.recoverable });
  }
  for (let attempt = firstAttempt; ; attempt++) {
    const wait = run.limiter.acquire();
    if (wait) await wait;
    if (run.abort.signal.aborted) {
      run.limiter.release();
      if (!interrupted(run)) finishNode(run, record, "ABORTED");
      throw new Aborted();
    }
    const prefix = attemptOutputPrefix(blobs.baseUri, run.key, record.nodeId, attempt);
    const queued = now();
    // QUEUED until a worker takes it: an attempt waiting for a worker when the process stops never ran, and a
    // restart runs it again under the same number, charging nothing.
    const taskRecord: TaskExecutionRecord = {
      project: run.key.project,
      domain: run.key.domain,
      executionName: run.key.name,
      nodeId: record.nodeId,
      attempt,
      taskName: record.entityName,
      runner: run.env.runner.name,
      phase: "QUEUED",
      startedAt: queued,
      updatedAt: queued,
    };
    run.recorder.record({ table: "task", row: taskRecord });
    // A process of its own may outlive ours for a moment: its attempt is RUNNING on record before it starts, so a
    // crash in between never leaves an attempt that ran but that no restart counts. An attempt that outlives the
    // engine by design (a pod under a fixed name) is found again by that name instead, so it need not wait for the record.
    const durableStart = run.env.runner.isolated && !run.env.runner.attemptsOutliveEngine && store;
    const markStarted = async () => {
      if (taskRecord.phase !== "QUEUED") return;
      const t = now();
      taskRecord.phase = "RUNNING";
      taskRecord.startedAt = t;
      taskRecord.updatedAt = t;
      run.recorder.record({ table: "task", row: taskRecord });
      if (durableStart) await run.recorder.flush();
    };
    const lastUserAttempt = userFailures + 1 >= userAttempts;
    let outcome: AttemptOutcome;
    let aborted = false;
    try {
      if (!run.env.runner.reportsStart) await markStarted();
      ({ outcome, aborted } = await runOneAttempt(run, task, record, inputs, attempt, prefix, timeoutMs, lastUserAttempt, markStarted));
    } finally {
      run.limiter.release();
    }
    const ended = now();
    taskRecord.endedAt = ended;
    taskRecord.updatedAt = ended;
    // An attempt that ran in a process of its own always gets its log, empty or not, so its log link leads somewhere.
    if (outcome.logsUri) {
      taskRecord.logsUri = outcome.logsUri;
    } else if ((outcome.logs || outcome.stored) && store) {
      const logs = new TextEncoder().encode(outcome.logs);
      if (logs.byteLength <= inlineLimitBytes) taskRecord.logs = outcome.logs;
      else blobs.put((taskRecord.logsUri = `${prefix}/logs.txt`), logs);
    }
    if (aborted && interrupted(run)) {
      // Its server stops. One that never started stays QUEUED; one that ran is ABORTED as interrupted. Neither counts.
      if (taskRecord.phase !== "QUEUED") {
        taskRecord.phase = "ABORTED";
        taskRecord.error = { kind: "SYSTEM", code: interruptedCode, message: "interrupted by the server's stop; it runs again when the server starts" };
        run.recorder.record({ table: "task", row: taskRecord });
      }
      throw new Aborted();
    }
    if (aborted) {
      taskRecord.phase = "ABORTED";
      run.recorder.record({ table: "task", row: taskRecord });
      finishNode(run, record, "ABORTED");
      throw new Aborted();
    }
    if (outcome.ok && outcome.dynamic) {
      // The body built a workflow: futures.pb is its durable record, so a restart or a recovery runs that same workflow.
      if (store && !outcome.stored) blobs.put(`${prefix}/futures.pb`, toBinary(DynamicJobSpecSchema, outcome.dynamic.spec));
      taskRecord.phase = "SUCCEEDED";
      run.recorder.record({ table: "task", row: taskRecord });
      return runDynamic(run, task, record, outcome.dynamic, prefix);
    }
    if (outcome.ok) {
      taskRecord.phase = "SUCCEEDED";
      if (store) {
        const bytes = encodeLiteralMap(outcome.outputs);
        if (outcome.stored) {
          // Its worker wrote outputs.pb, which stays where Flyte's layout puts it; the row keeps a copy when small.
          taskRecord.outputsUri = `${prefix}/outputs.pb`;
          if (bytes.byteLength <= inlineLimitBytes) taskRecord.outputs = bytes;
        } else {
          Object.assign(taskRecord, outputsFields(placeValue(bytes, `${prefix}/outputs.pb`, blobs)));
        }
      }
      run.recorder.record({ table: "task", row: taskRecord });
      finishNode(run, record, "SUCCEEDED", outputsFields(recordedOutputs(taskRecord)));
      return outcome.outputs;
    }
    const error = outcome.error;
    if (error.kind === "USER") userFailures++;
    else systemFailures++;
    const retry = error.recoverable && userFailures < userAttempts && systemFailures < run.maxSystemFailures;
    const { thrown: _thrown, ...recorded } = error;
    // The error lives in the row; error.pb exists only when the attempt's own process wrote it.
    const errorRecord: ExecutionErrorRecord = outcome.stored ? { ...recorded, errorUri: `${prefix}/error.pb` } : recorded;
    taskRecord.phase = retry ? "RETRYABLE_FAILED" : "FAILED";
    taskRecord.error = errorRecord;
    run.recorder.record({ table: "task", row: taskRecord });
    if (retry) continue;
    const final =
      error.kind === "USER" ? finalError(error, errorRecord, userFailures, userAttempts) : finalError(error, errorRecord, systemFailures, run.maxSystemFailures);
    return failNode(run, record, final, error.thrown);
  }
}

/**
 * A dynamic workflow's node: the workflow its body built runs as the node's children (`<node>-0-<child>`), the node
 * DYNAMIC_RUNNING meanwhile; the spec's output bindings give the node's outputs.
 */
async function runDynamic(run: Run, task: ExecTask, record: NodeExecutionRecord, dynamic: DynamicOutcome, prefix: string): Promise<LiteralMap> {
  const t = now();
  Object.assign(record, { phase: "DYNAMIC_RUNNING", isParent: true, updatedAt: t });
  run.recorder.record({ table: "node", row: record });
  try {
    const workflow = await dynamicWorkflow(task.name, dynamic, { nameOf: run.request.nameOf, resolveReferences: run.env.resolveReferences });
    const outputs = await runWorkflow(run, workflow, literalMapOf({}), `${record.nodeId}-0-`, record.nodeId);
    const extra = run.env.store ? outputsFields(placeValue(encodeLiteralMap(outputs), `${prefix}/outputs.pb`, run.env.blobs)) : {};
    finishNode(run, record, "SUCCEEDED", extra);
    return outputs;
  } catch (e) {
    if (e instanceof UserError) return failNode(run, record, { kind: "USER", code: "DynamicWorkflowInvalid", message: e.message, recoverable: false });
    if (e instanceof NodeFailed) finishNode(run, record, "FAILED", { error: e.failure.error });
    else if (e instanceof Aborted && !interrupted(run)) finishNode(run, record, "ABORTED");
    throw e;
  }
}

/**
 * The workflow an earlier attempt of this dynamic node already built (its futures.pb): a resumed execution's own, or
 * the recovered execution's. Reused where ids name registered entities; in this process the body is traced again
 * (it only builds the graph) and its children are recovered by their ids.
 */
async function earlierDynamicSpec(run: Run, record: NodeExecutionRecord): Promise<{ spec: DynamicJobSpec; prefix: string } | undefined> {
  if (!run.env.resolveReferences || !run.env.store) return undefined;
  const base = run.env.blobs.baseUri;
  const candidates: string[] = [];
  for (const attempt of run.request.resume?.tasks.get(record.nodeId) ?? []) {
    if (attempt.phase === "SUCCEEDED") candidates.push(attemptOutputPrefix(base, run.key, record.nodeId, attempt.attempt));
  }
  const source = run.request.recover?.nodes.get(record.nodeId);
  if (source?.isParent && source.entityKind === "task") {
    const key = { project: run.key.project, domain: run.key.domain, name: run.request.recover!.executionName };
    for (let attempt = 0; attempt <= (source.retries ?? 0) + run.maxSystemFailures; attempt++) candidates.push(attemptOutputPrefix(base, key, record.nodeId, attempt));
  }
  for (const prefix of candidates) {
    const uri = `${prefix}/futures.pb`;
    if (await run.env.blobs.exists(uri)) return { spec: fromBinary(DynamicJobSpecSchema, await run.env.blobs.read(uri)), prefix };
  }
  return undefined;
}

function failNode(run: Run, record: NodeExecutionRecord, error: ExecutionErrorRecord, thrown?: unknown): never {
  const failure: NodeFailure = { nodeId: record.nodeId, entityName: record.entityName, error, thrown };
  finishNode(run, record, error.code === "Timeout" || error.code.endsWith("|Timeout") ? "TIMED_OUT" : "FAILED", { error });
  throw new NodeFailed(failure);
}

/**
 * What a resumed execution's node already spent: the next attempt number and the failures per budget. An
 * attempt that was running when the process stopped lost its worker: it is recorded as a system failure, unless
 * the runner's attempts outlive the engine, when it is taken up again. An attempt still QUEUED (no worker took it)
 * never ran: it runs under its own number and counts nothing. An ABORTED one (interrupted by a stop) counts nothing.
 */
function earlierAttempts(run: Run, nodeId: string): { firstAttempt: number; userFailures: number; systemFailures: number; lastError?: AttemptError } {
  const earlier = run.request.resume?.tasks.get(nodeId);
  const spent = { firstAttempt: 0, userFailures: 0, systemFailures: 0, lastError: undefined as AttemptError | undefined };
  if (!earlier) return spent;
  const t = now();
  for (const attempt of earlier) {
    spent.firstAttempt = Math.max(spent.firstAttempt, attempt.attempt + 1);
    const unfinished = attempt.phase !== "SUCCEEDED" && attempt.phase !== "ABORTED" && attempt.phase !== "FAILED" && attempt.phase !== "RETRYABLE_FAILED";
    if (attempt.phase === "QUEUED" || (unfinished && run.env.runner.attemptsOutliveEngine)) {
      // Never started, or its pod kept running without us: the same attempt is taken up again (a pod by its fixed name).
      spent.firstAttempt = attempt.attempt;
      continue;
    }
    if (attempt.phase === "FAILED" || attempt.phase === "RETRYABLE_FAILED") {
      if (attempt.error?.kind === "USER") spent.userFailures++;
      else spent.systemFailures++;
      if (attempt.error) spent.lastError = { kind: attempt.error.kind === "USER" ? "USER" : "SYSTEM", recoverable: attempt.error.recoverable ?? true, code: attempt.error.code, message: attempt.error.message };
    } else if (attempt.phase !== "SUCCEEDED" && attempt.phase !== "ABORTED") {
      const error: AttemptError = {
        kind: "SYSTEM",
        recoverable: true,
        code: "WorkerLost",
        message: "the control plane stopped while this attempt ran, and its worker with it",
      };
      spent.systemFailures++;
      spent.lastError = error;
      run.recorder.record({ table: "task", row: { ...attempt, phase: "RETRYABLE_FAILED", error, endedAt: t, updatedAt: t } });
    }
  }
  return spent;
}

/** Flyte's wording once retries are spent: `RetriesExhausted|<code>`, `[n/max] currentAttempt done. Last Error: USER::…`. */
function finalError(error: AttemptError, recorded: ExecutionErrorRecord, failures: number, max: number): ExecutionErrorRecord {
  if (!error.recoverable || max <= 1) return recorded;
  return {
    ...recorded,
    code: `RetriesExhausted|${error.code}`,
    message: `[${failures}/${max}] currentAttempt done. Last Error: ${error.kind}::${error.message}`,
  };
}

/**
 * What ends an attempt early: its timeout, or the execution stopping. The AbortSignal the task sees is made
 * only if the task asks for it, and the execution reaches its running attempts without one listener each.
 */
class AttemptStop {
  private controller?: AbortController;
  private resolveStopped?: (value: { outcome: AttemptOutcome; aborted: boolean }) => void;
  private reason?: Error;
  readonly stopped = new Promise<{ outcome: AttemptOutcome; aborted: boolean }>((resolve) => (this.resolveStopped = resolve));

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.reason && !this.controller.signal.aborted) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  stop(outcome: AttemptOutcome, aborted: boolean, reason: Error): void {
    this.reason = reason;
    this.controller?.abort(reason);
    this.resolveStopped?.({ outcome, aborted });
    this.resolveStopped = undefined;
  }
}

/** One attempt, ended early by its timeout or by the execution stopping; the runner gets the abort signal. */
async function runOneAttempt(
  run: Run,
  task: ExecTask,
  record: NodeExecutionRecord,
  inputs: LiteralMap,
  attempt: number,
  prefix: string,
  timeoutMs: number | undefined,
  lastAttempt: boolean,
  started: () => Promise<void>,
): Promise<{ outcome: AttemptOutcome; aborted: boolean }> {
  const stop = new AttemptStop();
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      const message = `the task did not finish within its timeout of ${formatMs(timeoutMs)}`;
      stop.stop({ ok: false, error: { kind: "USER", recoverable: true, code: "Timeout", message }, logs: "" }, false, new Error(message));
    }, timeoutMs);
  }
  run.running.add(stop);
  // The task may block this thread; what earlier nodes wrote goes to disk meanwhile.
  run.env.blobs.send();
  const blobs = run.env.blobs;
  const settings = run.settings;
  // A task that says nothing about it runs as the execution says (Flyte: the node's flag beats the execution's).
  const interruptible = task.interruptible ?? settings?.interruptible ?? false;
  try {
    const running = run.env.runner
      .run({
        execution: run.key,
        nodeId: record.nodeId,
        attempt,
        task: task.runnable,
        taskId: task.id,
        inputs,
        inputsUri: record.inputsUri ?? "",
        outputPrefix: prefix,
        rawOutputPrefix: rawOutputPrefix(blobs.baseUri, run.key, record.nodeId, attempt, settings?.rawOutputPrefix),
        blobs,
        get signal() {
          return stop.signal;
        },
        interruptible: interruptible && !lastAttempt,
        ...(settings ? { settings } : {}),
        ...(run.request.nameOf ? { nameOf: run.request.nameOf } : {}),
        started,
      })
      .then((outcome) => ({ outcome, aborted: false }));
    return await Promise.race([running, stop.stopped]);
  } finally {
    if (timer) clearTimeout(timer);
    run.running.delete(stop);
  }
}

/** Stops every running attempt of the execution: they end ABORTED and the engine stops waiting for them. */
function abortRun(run: Run): void {
  if (run.abort.signal.aborted) return;
  run.abort.abort();
  const reason = new Error("the execution stopped");
  for (const stop of run.running) {
    stop.stop({ ok: false, error: { kind: "SYSTEM", recoverable: false, code: "Aborted", message: reason.message }, logs: "" }, true, reason);
  }
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${ms / 1000}s`;
  return `${Math.floor(ms / 60_000)}m${ms % 60_000 ? `${(ms % 60_000) / 1000}s` : ""}`;
}

/** Whether an execution in this phase can still change. */
export function isTerminal(phase: ExecutionPhase): boolean {
  return phase === "SUCCEEDED" || phase === "FAILED" || phase === "ABORTED" || phase === "TIMED_OUT";
}

