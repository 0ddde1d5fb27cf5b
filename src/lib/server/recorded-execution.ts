// Runs one execution the store holds from its recorded state: what it launches (from the registry), its inputs,
// the nodes and attempts an earlier process finished. Shared by the control plane's scheduler and the Kubernetes
// driver. Never decides where tasks run (the runner does) and never leaves an execution RUNNING after a fault of ours.
import { runExecution } from "../engine/engine.js";
import { readRecordedLiteralMap, recordedInputs } from "../engine/recorded-values.js";
import { executableFromIr, type IrRoot } from "../engine/from-ir.js";
import type { TaskRunner } from "../engine/runner.js";
import type { BlobStore } from "../storage/blob-store.js";
import { LeaseLostError } from "../store/leases.js";
import { currentOwner } from "../store/owner.js";
import { isStoreUnavailable } from "../store/unavailable.js";
import {
  terminalExecutionPhases,
  type ControlPlaneStore,
  type ExecutionKey,
  type ExecutionPhase,
  type ExecutionRecord,
  type NodeExecutionRecord,
  type TaskExecutionRecord,
} from "../store/records.js";
import { loadClosure, loadReferences } from "./closure.js";

export interface RecordedExecutionDeps {
  store: ControlPlaneStore;
  blobs: BlobStore;
  runner: TaskRunner;
  log?: (line: string) => void;
}

const keyString = (key: ExecutionKey) => `${key.project}/${key.domain}/${key.name}`;

/** Runs (or resumes) the execution to its end; resolves to its final phase, or undefined when there was nothing to run. */
export async function runRecordedExecution(key: ExecutionKey, deps: RecordedExecutionDeps, signal: AbortSignal): Promise<ExecutionPhase | undefined> {
  const { store, blobs, runner, log } = deps;
  const record = await store.getExecution(key);
  if (!record || terminalExecutionPhases.has(record.phase)) return undefined;
  if (record.phase === "ABORTING") {
    return finishRecorded(store, record, "ABORTED", { kind: "USER", code: "Aborted", message: record.abort?.cause ?? "terminated" });
  }
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(store, blobs, record);
  } catch (e) {
    // The database is down (the caller retries later) or another server runs it now: nothing to record here.
    if (isStoreUnavailable(e) || e instanceof LeaseLostError) throw e;
    // What it launches or its inputs cannot be read: it cannot run anywhere, so it fails now, with the reason.
    return finishRecorded(store, record, "FAILED", { kind: "SYSTEM", code: "ExecutionNotRunnable", message: e instanceof Error ? e.message : String(e) });
  }
  try {
    const result = await runExecution(
      {
        key,
        executable: prepared.executable,
        launch: { kind: record.launchKind, name: record.launchName, version: record.launchVersion },
        inputs: prepared.inputs,
        resume: { record, nodes: prepared.nodes, tasks: prepared.tasks },
        recover: prepared.recover,
        overwriteCache: record.overwriteCache,
        maxParallelism: record.maxParallelism,
        owner: currentOwner(),
        signal,
      },
      { store, blobs, runner, resolveReferences: (refs) => loadReferences(store, refs) },
    );
    // Still RUNNING: interrupted by the server's stop, and resumed by its next start.
    log?.(`execution ${keyString(key)} ${result.record.phase === "RUNNING" ? "interrupted by the stop; it resumes on the next start" : result.record.phase}`);
    return result.record.phase;
  } catch (e) {
    // Not a fault in the execution: the database went away for longer than the store waited, or another server
    // took the execution over. Either way it stays unfinished, for whoever holds it once the database answers.
    if (isStoreUnavailable(e) || e instanceof LeaseLostError) throw e;
    // A fault of tsflyte's own: the execution ends FAILED instead of staying RUNNING to fail again on every start.
    const message = e instanceof Error ? e.message : String(e);
    log?.(`execution ${keyString(key)} failed inside tsflyte: ${e instanceof Error ? (e.stack ?? message) : message}`);
    return finishRecorded(store, record, "FAILED", { kind: "SYSTEM", code: "InternalError", message: `tsflyte failed while running it: ${message}` });
  }
}

/** The root entity a recorded execution launched, as an IR reference. */
export function launchedRoot(record: ExecutionRecord): IrRoot {
  return {
    kind: record.launchKind,
    id: {
      $typeName: "flyteidl.core.Identifier",
      resourceType: 0,
      project: record.launchProject ?? record.project,
      domain: record.launchDomain ?? record.domain,
      name: record.launchName,
      version: record.launchVersion,
      org: "",
    },
  };
}

async function prepare(store: ControlPlaneStore, blobs: BlobStore, record: ExecutionRecord) {
  const root = launchedRoot(record);
  // Independent reads, at once: on a remote store each is a round trip.
  const [closure, inputs, nodeRecords, taskRecords] = await Promise.all([
    loadClosure(store, root),
    readRecordedLiteralMap(blobs, recordedInputs(record)),
    store.listNodeExecutions(record),
    store.listTaskExecutions(record),
  ]);
  const executable = executableFromIr(root, closure);
  if (!inputs) throw new Error(`its inputs are missing${record.inputsUri ? ` from ${record.inputsUri}` : " from its record"}`);
  const nodes = new Map<string, NodeExecutionRecord>();
  for (const node of nodeRecords) nodes.set(node.nodeId, node);
  const tasks = new Map<string, TaskExecutionRecord[]>();
  for (const attempt of taskRecords) {
    const list = tasks.get(attempt.nodeId);
    if (list) list.push(attempt);
    else tasks.set(attempt.nodeId, [attempt]);
  }
  let recover: { executionName: string; nodes: Map<string, NodeExecutionRecord> } | undefined;
  if (record.mode === "RECOVERED" && record.sourceExecution) {
    const sourceNodes = new Map<string, NodeExecutionRecord>();
    const source = { project: record.project, domain: record.domain, name: record.sourceExecution };
    for (const node of await store.listNodeExecutions(source)) sourceNodes.set(node.nodeId, node);
    recover = { executionName: record.sourceExecution, nodes: sourceNodes };
  }
  return { executable, inputs, nodes, tasks, recover };
}

/** Ends an execution that did not run (or could not go on) with a phase and the reason. */
export async function finishRecorded(
  store: ControlPlaneStore,
  record: ExecutionRecord,
  phase: "ABORTED" | "FAILED",
  error: NonNullable<ExecutionRecord["error"]>,
): Promise<ExecutionPhase> {
  const t = Date.now();
  await store.write([{ table: "execution", row: { ...record, phase, error, startedAt: record.startedAt ?? t, endedAt: t, updatedAt: t } }]);
  return phase;
}
