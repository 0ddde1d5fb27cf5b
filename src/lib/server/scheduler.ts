// Runs the control plane's executions on the engine: a queue in front of a limit of executions at once, resume
// of unfinished ones after a restart, and termination with a cause. Never decides where a task runs (the runner does).
import { fromBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../idl/gen/flyteidl/core/literals_pb.js";
import { runExecution, Termination } from "../engine/engine.js";
import { executableFromIr, type IrRoot } from "../engine/from-ir.js";
import type { TaskRunner } from "../engine/runner.js";
import type { BlobStore } from "../storage/blob-store.js";
import { currentOwner } from "../store/owner.js";
import {
  terminalExecutionPhases,
  type ControlPlaneStore,
  type ExecutionKey,
  type ExecutionRecord,
  type NodeExecutionRecord,
  type TaskExecutionRecord,
} from "../store/records.js";
import { loadClosure } from "./closure.js";
import type { ExecutionControl } from "./control.js";

export interface SchedulerOptions {
  store: ControlPlaneStore;
  blobs: BlobStore;
  runner: TaskRunner;
  /** Executions running at once; the rest wait, QUEUED, in arrival order. Task attempts are limited by the runner. */
  maxRunningExecutions?: number;
  log?: (line: string) => void;
}

interface Running {
  stop: AbortController;
  done: Promise<void>;
}

const keyString = (key: ExecutionKey) => `${key.project}/${key.domain}/${key.name}`;

export class Scheduler implements ExecutionControl {
  private readonly queue: ExecutionKey[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Map<string, Running>();
  private readonly limit: number;
  private closed = false;

  constructor(private readonly options: SchedulerOptions) {
    this.limit = options.maxRunningExecutions ?? 64;
  }

  start(key: ExecutionKey): void {
    const id = keyString(key);
    if (this.closed || this.queued.has(id) || this.running.has(id)) return;
    this.queued.add(id);
    this.queue.push(key);
    this.pump();
  }

  /** Picks up every execution a previous server process left unfinished, oldest first. */
  async resumeUnfinished(): Promise<number> {
    const unfinished = await this.options.store.listUnfinishedExecutions();
    for (const record of unfinished) this.start(record);
    return unfinished.length;
  }

  async terminate(key: ExecutionKey, cause: string, principal: string): Promise<boolean> {
    const id = keyString(key);
    const running = this.running.get(id);
    if (running) {
      running.stop.abort(new Termination(cause, principal));
      await running.done;
      return true;
    }
    // Not started here yet: it ends without running anything.
    if (this.queued.delete(id)) this.queue.splice(this.queue.findIndex((k) => keyString(k) === id), 1);
    const record = await this.options.store.getExecution(key);
    if (!record || terminalExecutionPhases.has(record.phase)) return false;
    const t = Date.now();
    await this.options.store.write([
      {
        table: "execution",
        row: { ...record, phase: "ABORTED", error: { kind: "USER", code: "Aborted", message: cause }, abort: { cause, principal }, endedAt: t, updatedAt: t },
      },
    ]);
    return true;
  }

  /** How many executions run now and wait in the queue. */
  get load(): { running: number; queued: number } {
    return { running: this.running.size, queued: this.queue.length };
  }

  /** Stops taking work. Running executions are left as recorded, for the next server process to resume. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.limit && this.queue.length) {
      const key = this.queue.shift()!;
      const id = keyString(key);
      this.queued.delete(id);
      const stop = new AbortController();
      const done = this.run(key, stop.signal)
        .catch((e: unknown) => this.options.log?.(`execution ${id} stopped with an internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`))
        .finally(() => {
          this.running.delete(id);
          this.pump();
        });
      this.running.set(id, { stop, done });
    }
  }

  private async run(key: ExecutionKey, signal: AbortSignal): Promise<void> {
    const { store, blobs, runner } = this.options;
    const record = await store.getExecution(key);
    if (!record || terminalExecutionPhases.has(record.phase)) return;
    if (record.phase === "ABORTING") {
      await this.finish(record, "ABORTED", { kind: "USER", code: "Aborted", message: record.abort?.cause ?? "terminated" });
      return;
    }
    let prepared: Awaited<ReturnType<Scheduler["prepare"]>>;
    try {
      prepared = await this.prepare(record);
    } catch (e) {
      // What it launches or its inputs cannot be read: it cannot run anywhere, so it fails now, with the reason.
      await this.finish(record, "FAILED", { kind: "SYSTEM", code: "ExecutionNotRunnable", message: e instanceof Error ? e.message : String(e) });
      return;
    }
    let result: Awaited<ReturnType<typeof runExecution>>;
    try {
      result = await runExecution(
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
        { store, blobs, runner },
      );
    } catch (e) {
      // A fault of tsflyte's own: the execution ends FAILED instead of staying RUNNING to fail again on every start.
      const message = e instanceof Error ? e.message : String(e);
      this.options.log?.(`execution ${keyString(key)} failed inside tsflyte: ${e instanceof Error ? (e.stack ?? message) : message}`);
      await this.finish(record, "FAILED", { kind: "SYSTEM", code: "InternalError", message: `tsflyte failed while running it: ${message}` });
      return;
    }
    this.options.log?.(`execution ${keyString(key)} ${result.record.phase}`);
  }

  private async prepare(record: ExecutionRecord) {
    const { store, blobs } = this.options;
    const root: IrRoot = {
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
    const executable = executableFromIr(root, await loadClosure(store, root));
    const inputs = fromBinary(LiteralMapSchema, await blobs.read(record.inputsUri));
    const nodes = new Map<string, NodeExecutionRecord>();
    for (const node of await store.listNodeExecutions(record)) nodes.set(node.nodeId, node);
    const tasks = new Map<string, TaskExecutionRecord[]>();
    for (const attempt of await store.listTaskExecutions(record)) {
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

  private async finish(record: ExecutionRecord, phase: "ABORTED" | "FAILED", error: NonNullable<ExecutionRecord["error"]>): Promise<void> {
    const t = Date.now();
    await this.options.store.write([{ table: "execution", row: { ...record, phase, error, startedAt: record.startedAt ?? t, endedAt: t, updatedAt: t } }]);
  }
}
