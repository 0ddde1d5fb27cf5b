// The DAG executor: runs an execution's nodes as their inputs become ready, with retries on two budgets,
// timeouts, the cache and recovery, recording every state in the store. Never decides where a task runs.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { ContainerError_Kind, ErrorDocumentSchema } from "../idl/gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../idl/gen/flyteidl/core/execution_pb.js";
import { UserError } from "../errors.js";
import { definitionOf, type Definition, type Entity, type TaskDefinition, type WorkflowDefinition } from "../sdk/entity.js";
import { startNodeId } from "../sdk/trace.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { parseDuration } from "../types/duration.js";
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
  LaunchKind,
  MetadataStore,
  NodeExecutionRecord,
  NodePhase,
  TaskExecutionRecord,
} from "../store/records.js";
import { cacheKey } from "./cache-key.js";
import { planWorkflow, resolveBinding, type PlannedNode } from "./plan.js";
import { Recorder } from "./recorder.js";
import type { AttemptError, AttemptOutcome, TaskRunner } from "./runner.js";

export interface EngineEnv {
  /** Where history is recorded; without one (direct calls from user code) nothing is recorded or cached. */
  store?: MetadataStore;
  blobs: BlobStore;
  runner: TaskRunner;
  /** System failures a node may have before it fails (Flyte's max-node-retries-system-failures). Default 3. */
  maxSystemFailures?: number;
}

/** Nodes of an earlier execution whose outputs a recovering execution reuses, by unique node id. */
export interface RecoverSource {
  executionName: string;
  nodes: ReadonlyMap<string, NodeExecutionRecord>;
}

export interface ExecutionRequest {
  key: ExecutionKey;
  entity: Entity;
  /** Full names for records and messages: the compiler's names when known. */
  nameOf: (entity: Entity) => string;
  launch: { kind: LaunchKind; name: string; version: string };
  /** The launched entity's inputs; defaults, launch-plan defaults and fixed inputs are filled in here. */
  inputs: LiteralMap;
  source?: ExecutionRecord["source"];
  mode?: ExecutionRecord["mode"];
  sourceExecution?: string;
  recover?: RecoverSource;
  overwriteCache?: boolean;
  /** Task attempts running at once. Default 25, like Flyte's. */
  maxParallelism?: number;
  owner?: ExecutionRecord["owner"];
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
  firstFailure?: NodeFailure;
}

const shared = { serialized: new Map<string, Promise<LiteralMap | undefined>>() };

function now(): number {
  return Date.now();
}

/** Runs one execution to its end and returns its final record; a node's failure is a result, not a throw. */
export async function runExecution(request: ExecutionRequest, env: EngineEnv): Promise<ExecutionResult> {
  const def = definitionOf(request.entity);
  if (!def) throw new UserError("only tasks, workflows and launch plans can be executed");
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
  // Inputs are completed before anything is recorded: a missing input means no execution starts.
  const inputs = completeInputs(def, request.inputs, request.nameOf(request.entity));
  const base = env.blobs.baseUri;
  const started = now();
  const record: ExecutionRecord = {
    ...key,
    launchKind: request.launch.kind,
    launchName: request.launch.name,
    launchVersion: request.launch.version,
    source: request.source,
    mode: request.mode ?? "MANUAL",
    sourceExecution: request.sourceExecution,
    phase: "RUNNING",
    inputsUri: executionInputsUri(base, key),
    overwriteCache: request.overwriteCache ?? false,
    maxParallelism: request.maxParallelism ?? defaultMaxParallelism,
    owner: request.owner,
    createdAt: started,
    startedAt: started,
    updatedAt: started,
  };
  if (env.store) {
    env.blobs.put(record.inputsUri, toBinary(LiteralMapSchema, inputs));
    // The inputs and then the RUNNING row are durable before any task runs: after a crash the execution is
    // visible, and recover and relaunch can read what it was started with.
    await env.blobs.flush();
    run.recorder.record({ table: "execution", row: record });
    await run.recorder.flush();
  }

  let outputs: LiteralMap | undefined;
  try {
    if (def.kind === "task") {
      const node: PlannedNode = { id: "n0", entity: request.entity, definition: def, inputs: {}, upstream: [] };
      outputs = await runNode(run, node, "n0", undefined, inputs);
    } else {
      outputs = await runWorkflow(run, workflowEntityOf(request.entity), inputs, "", undefined);
    }
  } catch (e) {
    if (!(e instanceof NodeFailed) && !(e instanceof Aborted)) throw e;
  }
  request.signal?.removeEventListener("abort", onTerminate);
  const ended = now();
  if (request.signal?.aborted && !run.firstFailure) {
    record.phase = "ABORTED";
    const reason = request.signal.reason;
    record.error = { kind: "USER", code: "Aborted", message: reason instanceof Error ? reason.message : String(reason ?? "the execution was stopped") };
    outputs = undefined;
  } else if (run.firstFailure) {
    record.phase = "FAILED";
    record.error = run.firstFailure.error;
    outputs = undefined;
  } else {
    record.phase = "SUCCEEDED";
    if (outputs && env.store) {
      record.outputsUri = executionOutputsUri(base, key);
      env.blobs.put(record.outputsUri, toBinary(LiteralMapSchema, outputs));
    }
  }
  record.endedAt = ended;
  record.updatedAt = ended;
  if (env.store) {
    // Data first, then the rows that point at it: a crash in between leaves rows that still read true.
    await env.blobs.flush();
    run.recorder.record({ table: "execution", row: record });
    await run.recorder.flush();
  }
  return { record, outputs, failure: run.firstFailure };
}

/** The workflow a workflow or launch plan entity runs. */
function workflowEntityOf(entity: Entity): Entity {
  const def = definitionOf(entity)!;
  return def.kind === "launchPlan" ? def.workflow : entity;
}

/**
 * Fills in what the caller left out: the entity's defaults, a launch plan's defaults and fixed inputs, and
 * NONE for optional inputs. A required input that is still missing is the caller's error.
 */
export function completeInputs(def: Definition, given: LiteralMap, name: string): LiteralMap {
  const literals: Record<string, Literal> = {};
  const missing: string[] = [];
  for (const [input, type] of Object.entries(def.inputs)) {
    const literal = given.literals[input] ?? defaultLiteral(type, input);
    if (literal) literals[input] = literal;
    else missing.push(`${input} (${type.name})`);
  }
  const unknown = Object.keys(given.literals).filter((k) => !(k in def.inputs));
  if (def.kind === "launchPlan") {
    const wf = definitionOf(def.workflow) as WorkflowDefinition;
    const fixed = unknown.filter((k) => k in def.fixedInputs);
    if (fixed.length) throw new UserError(`${name}: ${fixed.join(", ")} ${fixed.length > 1 ? "are" : "is"} fixed by the launch plan and cannot be given`);
    for (const [input, value] of Object.entries(def.fixedInputs)) literals[input] = wf.inputs[input].toLiteral(value, input);
  }
  const problems = [
    ...unknown.map((k) => `unknown input "${k}" (inputs: ${Object.keys(def.inputs).join(", ") || "none"})`),
    ...missing.map((m) => `missing input ${m}`),
  ];
  if (problems.length) throw new UserError(`${name}: ${problems.join("; ")}`);
  return create(LiteralMapSchema, { literals });
}

function defaultLiteral(type: AnyType, name: string): Literal | undefined {
  if (type.hasDefault) return type.toLiteral(type.defaultValue, name);
  if (acceptsNone(type)) return type.toLiteral(null, name);
  return undefined;
}

/** Runs a workflow's nodes; `prefix` makes node ids unique inside subworkflows (`n1-0-`). */
async function runWorkflow(
  run: Run,
  workflow: Entity,
  inputs: LiteralMap,
  prefix: string,
  parentNodeId: string | undefined,
): Promise<LiteralMap> {
  const def = definitionOf(workflow) as WorkflowDefinition;
  const plan = planWorkflow(def, run.request.nameOf, run.request.nameOf(workflow));
  const outputs = new Map<string, LiteralMap>([[startNodeId, inputs]]);
  const done = new Map<string, Promise<void>>();
  const failFast = (def.options.onFailure ?? "fail-immediately") === "fail-immediately";
  for (const node of plan.nodes) {
    const upstream = node.upstream.map((id) => done.get(id)!);
    const task = (async () => {
      if (upstream.length === 1) await upstream[0];
      else if (upstream.length) await Promise.all(upstream);
      if (run.abort.signal.aborted) throw new Aborted();
      const nodeInputs: Record<string, Literal> = {};
      for (const input in node.inputs) nodeInputs[input] = resolveBinding(node.inputs[input], outputs);
      const uniqueId = prefix + node.id;
      try {
        outputs.set(node.id, await runNode(run, node, uniqueId, parentNodeId, create(LiteralMapSchema, { literals: nodeInputs })));
      } catch (e) {
        if (e instanceof NodeFailed && failFast) abortRun(run);
        throw e;
      }
    })();
    task.catch(() => undefined);
    done.set(node.id, task);
  }
  const settled = await Promise.allSettled(done.values());
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected" && s.reason instanceof NodeFailed);
  if (failed) throw failed.reason;
  const bug = settled.find((s): s is PromiseRejectedResult => s.status === "rejected" && !(s.reason instanceof Aborted));
  if (bug) throw bug.reason;
  if (settled.some((s) => s.status === "rejected")) throw new Aborted();
  const literals: Record<string, Literal> = {};
  for (const output in plan.outputs) literals[output] = resolveBinding(plan.outputs[output], outputs);
  return create(LiteralMapSchema, { literals });
}

function nodeRecord(run: Run, node: PlannedNode, uniqueId: string, parentNodeId: string | undefined): NodeExecutionRecord {
  const t = now();
  return {
    ...keyOf(run),
    nodeId: uniqueId,
    specNodeId: node.id,
    parentNodeId,
    entityKind: node.definition.kind,
    entityName: run.request.nameOf(node.entity),
    isParent: node.definition.kind !== "task",
    phase: "RUNNING",
    createdAt: t,
    startedAt: t,
    updatedAt: t,
  };
}

function keyOf(run: Run): { project: string; domain: string; executionName: string } {
  return { project: run.key.project, domain: run.key.domain, executionName: run.key.name };
}

function finishNode(run: Run, record: NodeExecutionRecord, phase: NodePhase, extra: Partial<NodeExecutionRecord> = {}): void {
  const t = now();
  Object.assign(record, extra, { phase, updatedAt: t, endedAt: t });
  run.recorder.record({ table: "node", row: record });
}

async function runNode(
  run: Run,
  node: PlannedNode,
  uniqueId: string,
  parentNodeId: string | undefined,
  inputs: LiteralMap,
): Promise<LiteralMap> {
  const { blobs } = run.env;
  const record = nodeRecord(run, node, uniqueId, parentNodeId);
  if (run.env.store) {
    record.inputsUri = nodeInputsUri(blobs.baseUri, run.key, uniqueId);
    blobs.put(record.inputsUri, toBinary(LiteralMapSchema, inputs));
  }
  const recovered = run.request.recover ? await recoverNode(run, uniqueId) : undefined;
  if (recovered) {
    finishNode(run, record, "RECOVERED", { outputsUri: recovered.uri, recoveredFrom: run.request.recover!.executionName, cacheStatus: recovered.cacheStatus });
    return recovered.outputs;
  }
  run.recorder.record({ table: "node", row: record });
  const def = node.definition;
  if (def.kind === "task") return runTaskNode(run, def, record, inputs);
  const childInputs = completeInputs(def, inputs, record.entityName);
  try {
    const outputs = await runWorkflow(run, workflowEntityOf(node.entity), childInputs, `${uniqueId}-0-`, uniqueId);
    const extra: Partial<NodeExecutionRecord> = {};
    if (run.env.store) {
      extra.outputsUri = `${attemptOutputPrefix(blobs.baseUri, run.key, uniqueId, 0)}/outputs.pb`;
      blobs.put(extra.outputsUri, toBinary(LiteralMapSchema, outputs));
    }
    finishNode(run, record, "SUCCEEDED", extra);
    return outputs;
  } catch (e) {
    if (e instanceof NodeFailed) finishNode(run, record, "FAILED", { error: e.failure.error });
    else if (e instanceof Aborted) finishNode(run, record, "ABORTED");
    throw e;
  }
}

/** The outputs a recovering execution reuses for this node, when the original run finished it. */
async function recoverNode(run: Run, uniqueId: string): Promise<{ outputs: LiteralMap; uri: string; cacheStatus?: CacheStatus } | undefined> {
  const source = run.request.recover?.nodes.get(uniqueId);
  if (!source?.outputsUri || (source.phase !== "SUCCEEDED" && source.phase !== "RECOVERED")) return undefined;
  try {
    const bytes = await run.env.blobs.read(source.outputsUri);
    return { outputs: fromBinary(LiteralMapSchema, bytes), uri: source.outputsUri, cacheStatus: source.cacheStatus };
  } catch {
    // The outputs were never written (the original process died first): run the node again.
    return undefined;
  }
}

async function runTaskNode(run: Run, def: TaskDefinition, record: NodeExecutionRecord, inputs: LiteralMap): Promise<LiteralMap> {
  const cache = def.options.cache;
  if (!cache || !run.env.store) {
    record.cacheStatus = "CACHE_DISABLED";
    return runAttempts(run, def, record, inputs);
  }
  const key = cacheKey(record.entityName, def, cache.version, inputs, cache.ignoredInputs);
  record.cacheKey = key;
  if (!run.request.overwriteCache) {
    const hit = await lookupCache(run, key);
    if (hit) {
      finishNode(run, record, "SUCCEEDED", { cacheStatus: "CACHE_HIT", outputsUri: hit.uri });
      return hit.outputs;
    }
    const inFlight = cache.serialize ? run.serialized.get(key) : undefined;
    if (inFlight) {
      const outputs = await inFlight.catch(() => undefined);
      const after = outputs ? await lookupCache(run, key) : undefined;
      if (after) {
        finishNode(run, record, "SUCCEEDED", { cacheStatus: "CACHE_HIT", outputsUri: after.uri });
        return after.outputs;
      }
    }
  }
  record.cacheStatus = "CACHE_MISS";
  const running = runAttempts(run, def, record, inputs).then((outputs) => {
    const t = now();
    run.recorder.record({
      table: "cache",
      row: { key, taskName: record.entityName, cacheVersion: cache.version, outputsUri: record.outputsUri!, ...keyOf(run), nodeId: record.nodeId, createdAt: t },
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

async function lookupCache(run: Run, key: string): Promise<{ outputs: LiteralMap; uri: string } | undefined> {
  const entry = await run.env.store!.getCacheEntry(key);
  if (!entry) return undefined;
  try {
    return { outputs: fromBinary(LiteralMapSchema, await run.env.blobs.read(entry.outputsUri)), uri: entry.outputsUri };
  } catch {
    return undefined;
  }
}

/** Runs attempts until one succeeds or a budget is spent: user errors `retries + 1` attempts, system errors their own. */
async function runAttempts(run: Run, def: TaskDefinition, record: NodeExecutionRecord, inputs: LiteralMap): Promise<LiteralMap> {
  const { blobs, store } = run.env;
  const userAttempts = (def.options.retries ?? 0) + 1;
  const timeoutMs = def.options.timeout === undefined ? undefined : parseDuration(def.options.timeout);
  let userFailures = 0;
  let systemFailures = 0;
  for (let attempt = 0; ; attempt++) {
    const wait = run.limiter.acquire();
    if (wait) await wait;
    if (run.abort.signal.aborted) {
      run.limiter.release();
      finishNode(run, record, "ABORTED");
      throw new Aborted();
    }
    const prefix = attemptOutputPrefix(blobs.baseUri, run.key, record.nodeId, attempt);
    const started = now();
    const taskRecord: TaskExecutionRecord = {
      ...keyOf(run),
      nodeId: record.nodeId,
      attempt,
      taskName: record.entityName,
      runner: run.env.runner.name,
      phase: "RUNNING",
      startedAt: started,
      updatedAt: started,
    };
    run.recorder.record({ table: "task", row: taskRecord });
    const lastUserAttempt = userFailures + 1 >= userAttempts;
    let outcome: AttemptOutcome;
    let aborted = false;
    try {
      ({ outcome, aborted } = await runOneAttempt(run, def, record, inputs, attempt, prefix, timeoutMs, lastUserAttempt));
    } finally {
      run.limiter.release();
    }
    const ended = now();
    taskRecord.endedAt = ended;
    taskRecord.updatedAt = ended;
    if (outcome.logs && store) {
      taskRecord.logsUri = `${prefix}/logs.txt`;
      blobs.put(taskRecord.logsUri, new TextEncoder().encode(outcome.logs));
    }
    if (aborted) {
      taskRecord.phase = "ABORTED";
      run.recorder.record({ table: "task", row: taskRecord });
      finishNode(run, record, "ABORTED");
      throw new Aborted();
    }
    if (outcome.ok) {
      taskRecord.phase = "SUCCEEDED";
      if (store) {
        taskRecord.outputsUri = `${prefix}/outputs.pb`;
        blobs.put(taskRecord.outputsUri, toBinary(LiteralMapSchema, outcome.outputs));
      }
      run.recorder.record({ table: "task", row: taskRecord });
      finishNode(run, record, "SUCCEEDED", { outputsUri: taskRecord.outputsUri });
      return outcome.outputs;
    }
    const error = outcome.error;
    if (error.kind === "USER") userFailures++;
    else systemFailures++;
    const retry = error.recoverable && userFailures < userAttempts && systemFailures < run.maxSystemFailures;
    const { thrown: _thrown, ...recorded } = error;
    const errorRecord: ExecutionErrorRecord = { ...recorded, errorUri: store ? `${prefix}/error.pb` : undefined };
    if (store) blobs.put(errorRecord.errorUri!, errorDocument(error));
    taskRecord.phase = retry ? "RETRYABLE_FAILED" : "FAILED";
    taskRecord.error = errorRecord;
    run.recorder.record({ table: "task", row: taskRecord });
    if (retry) continue;
    const final =
      error.kind === "USER" ? finalError(error, errorRecord, userFailures, userAttempts) : finalError(error, errorRecord, systemFailures, run.maxSystemFailures);
    const failure: NodeFailure = { nodeId: record.nodeId, entityName: record.entityName, error: final, thrown: error.thrown };
    run.firstFailure ??= failure;
    finishNode(run, record, error.code === "Timeout" ? "TIMED_OUT" : "FAILED", { error: final });
    throw new NodeFailed(failure);
  }
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

function errorDocument(error: AttemptError): Uint8Array {
  return toBinary(
    ErrorDocumentSchema,
    create(ErrorDocumentSchema, {
      error: {
        code: error.code,
        message: error.stack ?? error.message,
        kind: error.recoverable ? ContainerError_Kind.RECOVERABLE : ContainerError_Kind.NON_RECOVERABLE,
        origin: error.kind === "USER" ? ExecutionError_ErrorKind.USER : ExecutionError_ErrorKind.SYSTEM,
      },
    }),
  );
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
  def: TaskDefinition,
  record: NodeExecutionRecord,
  inputs: LiteralMap,
  attempt: number,
  prefix: string,
  timeoutMs: number | undefined,
  lastAttempt: boolean,
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
  try {
    const running = run.env.runner
      .run({
        execution: run.key,
        nodeId: record.nodeId,
        attempt,
        task: { name: record.entityName, definition: def },
        inputs,
        inputsUri: record.inputsUri ?? "",
        outputPrefix: prefix,
        rawOutputPrefix: rawOutputPrefix(blobs.baseUri, run.key, record.nodeId, attempt),
        blobs,
        get signal() {
          return stop.signal;
        },
        interruptible: Boolean(def.options.interruptible) && !lastAttempt,
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

