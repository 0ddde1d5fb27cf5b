// Runs the control plane's executions on the engine: a queue in front of a limit of executions at once, resume
// of unfinished ones after a restart, and termination with a cause. Never decides where a task runs (the runner does).
import { Interruption, Termination } from "../engine/engine.js";
import type { TaskRunner } from "../engine/runner.js";
import { blobsForOneWriter, type BlobStore } from "../storage/blob-store.js";
import { terminalExecutionPhases, type ControlPlaneStore, type ExecutionKey } from "../store/records.js";
import { runRecordedExecution } from "./recorded-execution.js";
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
  private endGrace?: () => void;
  private hurried = false;

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

  /**
   * A graceful stop: takes no more executions (those waiting stay QUEUED), gives the attempts running now up to
   * `graceMs` to finish while no new attempt starts (`attemptsFinished` resolves once none runs), then interrupts
   * what still runs. Interrupted attempts are recorded ABORTED and never-started ones stay QUEUED; neither counts
   * against a budget, and every unfinished execution stays RUNNING or QUEUED for the next start to resume.
   */
  async stop(graceMs: number, attemptsFinished: Promise<void>): Promise<void> {
    this.close();
    let timer: NodeJS.Timeout | undefined;
    if (this.running.size && !this.hurried) {
      this.options.log?.(`stopping: ${this.running.size} execution(s) running; their running attempts get up to ${graceMs / 1000}s to finish, no new attempt starts`);
      await Promise.race([
        attemptsFinished,
        new Promise<void>((resolve) => {
          this.endGrace = resolve;
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const left = [...this.running.values()];
    if (left.length) this.options.log?.(`stopping: interrupting ${left.length} unfinished execution(s); they resume on the next start`);
    for (const running of left) running.stop.abort(new Interruption("the server is stopping"));
    await Promise.all(left.map((running) => running.done));
  }

  /** Ends the grace period of a stop at once (a second Ctrl-C): what still runs is interrupted, charging nothing. */
  stopNow(): void {
    this.hurried = true;
    this.endGrace?.();
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
    // Its own view of the shared blob store: a write of another execution that fails (a full disk) is not its error.
    await runRecordedExecution(key, { ...this.options, blobs: blobsForOneWriter(this.options.blobs) }, signal);
  }
}
