// Where subprocess attempts run: `warm`, N long-lived worker processes that keep task modules imported, or `cold`,
// one tsflyte-execute process per attempt as a pod would. At most `size` attempts run at once; the rest wait in
// FIFO order. Never leaves a process behind: close() kills them, and workers exit when this process goes.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { UserError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { ownProcessGroup, WarmWorker, type WorkerResult } from "./worker-warm.js";

export type { WorkerResult } from "./worker-warm.js";

export type WorkerMode = "warm" | "cold";

export interface WorkerPoolOptions {
  /** How many attempts run at once: the number of warm workers, or of cold processes at a time. */
  size: number;
  /** The workers' working directory: where MODULE is found without --code-bundle, and where packages are looked up. */
  cwd: string;
  /** Added to this process's environment for every worker. */
  env?: Record<string, string>;
  /** `warm` (default): long-lived workers; `cold`: a new tsflyte-execute process per attempt, as a pod runs it. */
  mode?: WorkerMode;
}

export interface WorkerRequest {
  /** tsflyte-execute's arguments, without the command itself. */
  args: string[];
  /** The attempt's own environment (FLYTE_*), on top of the pool's. */
  env: Record<string, string>;
  /** Defaults to the pool's cwd. */
  cwd?: string;
  /** Aborting it kills the attempt's worker (or takes the attempt out of the queue). */
  signal?: AbortSignal;
  /** Awaited once a worker is ready for the attempt, before the worker gets it (see TaskAttempt.started). */
  started?: () => Promise<void>;
}

/** The built entry points the workers run; tsflyte must be built (dist/) for subprocess attempts. */
export const executeBin = join(packageRoot, "bin", "tsflyte-execute");
export const workerEntry = join(packageRoot, "dist", "execute-worker.js");
const executeEntry = join(packageRoot, "dist", "execute.js");

const logLimit = 16 << 20;

export class WorkerPool {
  readonly size: number;
  readonly mode: WorkerMode;
  readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;
  private running = 0;
  private readonly queue: Array<(started: boolean) => void> = [];
  private readonly idle: WarmWorker[] = [];
  private readonly workers = new Set<WarmWorker>();
  private readonly cold = new Set<ReturnType<typeof spawn>>();
  private closed = false;
  /** Set by drain(): no attempt takes a slot any more; resolved once none runs. */
  private draining?: { idle: Promise<void>; resolve: () => void };

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new UserError(`worker pool size must be a whole number ≥ 1, got ${options.size}`);
    const mode = options.mode ?? "warm";
    if (mode !== "warm" && mode !== "cold") throw new UserError(`worker pool mode must be "warm" or "cold", got ${String(mode)}`);
    const needed = mode === "warm" ? workerEntry : executeEntry;
    if (!existsSync(needed)) throw new UserError(`tsflyte is not built: ${needed} is missing`, "run `npm run build` in tsflyte's folder");
    this.size = options.size;
    this.mode = mode;
    this.cwd = resolve(options.cwd);
    if (!statSync(this.cwd, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`the workers' folder ${this.cwd} does not exist`);
    this.env = { ...process.env, ...options.env };
  }

  /** Starts every warm worker now rather than on first use, and waits until they are ready. */
  async warmUp(): Promise<void> {
    if (this.mode !== "warm") return;
    while (this.workers.size < this.size && !this.closed) this.idle.push(this.spawnWarm());
    const starting = [...this.workers];
    // Idle workers do not keep this process alive, but one waiting for them to start must.
    for (const worker of starting) worker.ref(true);
    await Promise.all(starting.map((w) => w.ready.catch(() => undefined)));
    for (const worker of starting) if (!worker.busy) worker.ref(false);
  }

  /** The process ids of the live workers: warm ones, and cold ones running an attempt (for tests and diagnostics). */
  workerPids(): number[] {
    const pids = [...[...this.workers].map((w) => w.pid), ...[...this.cold].map((c) => c.pid)];
    return pids.filter((pid): pid is number => pid !== undefined);
  }

  /** Attempts running now, and waiting for a slot. */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.queue.length };
  }

  async run(request: WorkerRequest): Promise<WorkerResult> {
    if (request.signal?.aborted) return { exitCode: null, aborted: true, logs: "", stderrTail: "" };
    if (!(await this.acquire(request.signal))) {
      return this.closed
        ? { exitCode: null, died: { code: null, signal: null, error: "the worker pool was closed" }, logs: "", stderrTail: "" }
        : { exitCode: null, aborted: true, logs: "", stderrTail: "" };
    }
    try {
      return this.mode === "warm" ? await this.runWarm(request) : await this.runCold(request);
    } finally {
      this.release();
    }
  }

  /**
   * Starts no more attempts (those waiting for a slot keep waiting, until their signal aborts or the pool closes) and
   * resolves once the attempts running now have finished.
   */
  drain(): Promise<void> {
    if (!this.draining) {
      let resolve!: () => void;
      const idle = new Promise<void>((done) => (resolve = done));
      this.draining = { idle, resolve };
      if (this.running === 0) resolve();
    }
    return this.draining.idle;
  }

  /** Kills every worker and fails what waits; the pool takes no more attempts. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.queue.splice(0)) wake(false);
    const gone: Promise<void>[] = [];
    for (const worker of this.workers) {
      gone.push(new Promise((done) => worker.onExit(done)));
      worker.ref(true); // this process waits for it to be gone
      worker.kill();
    }
    for (const child of this.cold) {
      gone.push(new Promise((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once("exit", () => done()))));
      child.kill("SIGKILL");
    }
    this.idle.length = 0;
    await Promise.all(gone);
  }

  private acquire(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.running < this.size && !this.draining) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const wake = (started: boolean) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(started);
      };
      const onAbort = () => {
        const at = this.queue.indexOf(wake);
        if (at >= 0) this.queue.splice(at, 1);
        resolve(false);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(wake);
    });
  }

  private release(): void {
    const next = this.draining ? undefined : this.queue.shift();
    if (next) next(true); // the slot passes straight to the next in line
    else if (--this.running === 0) this.draining?.resolve();
  }

  private spawnWarm(): WarmWorker {
    const worker = new WarmWorker(workerEntry, this.cwd, this.env);
    this.workers.add(worker);
    worker.ref(false);
    worker.onExit(() => {
      this.workers.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return worker;
  }

  private async runWarm(request: WorkerRequest): Promise<WorkerResult> {
    let worker = this.idle.pop();
    while (worker?.exited) worker = this.idle.pop();
    worker ??= this.spawnWarm();
    worker.ref(true);
    try {
      await worker.ready;
    } catch (error) {
      this.workers.delete(worker);
      return { exitCode: null, died: { code: worker.child.exitCode, signal: worker.child.signalCode, error: (error as Error).message }, logs: "", stderrTail: "", pid: worker.pid };
    }
    if (!(await this.start(request))) {
      worker.ref(false);
      this.idle.push(worker);
      return { exitCode: null, aborted: true, logs: "", stderrTail: "" };
    }
    const { retire, ...result } = await worker.run({ args: request.args, env: request.env, cwd: request.cwd ?? this.cwd }, request.signal);
    if (retire || worker.exited) {
      this.workers.delete(worker);
      worker.kill();
      worker.ref(false);
      // A worker that once started is replaced at once, so the pool stays warm; one that never started is not.
      if (worker.wasReady && !this.closed && this.workers.size < this.size) this.idle.push(this.spawnWarm());
    } else {
      worker.ref(false);
      this.idle.push(worker);
    }
    return result;
  }

  /** Reports the attempt started, unless it was stopped while it waited; false then, and it must not start. */
  private async start(request: WorkerRequest): Promise<boolean> {
    if (request.signal?.aborted) return false;
    await request.started?.();
    return !request.signal?.aborted;
  }

  private async runCold(request: WorkerRequest): Promise<WorkerResult> {
    if (!(await this.start(request))) return { exitCode: null, aborted: true, logs: "", stderrTail: "" };
    return new Promise((resolveResult) => {
      // An IPC channel, so the process ends if this one dies; tsflyte-execute exits on its disconnect.
      const child = spawn(process.execPath, [executeBin, ...request.args], {
        cwd: request.cwd ?? this.cwd,
        env: { ...this.env, ...request.env },
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        detached: ownProcessGroup,
      });
      this.cold.add(child);
      let logs = "";
      let tail = "";
      let settled = false;
      const finish = (result: WorkerResult) => {
        if (settled) return;
        settled = true;
        request.signal?.removeEventListener("abort", onAbort);
        resolveResult(result);
      };
      const onAbort = () => {
        child.kill("SIGKILL");
        finish({ exitCode: null, aborted: true, logs, stderrTail: tail, pid: child.pid });
      };
      request.signal?.addEventListener("abort", onAbort, { once: true });
      for (const stream of ["stdout", "stderr"] as const) {
        const readable = child[stream] as Readable;
        readable.setEncoding("utf8");
        readable.on("data", (text: string) => {
          if (logs.length < logLimit) logs += text;
          if (stream === "stderr") tail = (tail + text).slice(-4096);
        });
      }
      child.on("error", (error) => {
        this.cold.delete(child);
        finish({ exitCode: null, died: { code: null, signal: null, error: error.message }, logs, stderrTail: tail, pid: child.pid });
      });
      child.on("exit", (code, signal) => {
        const end = () => {
          this.cold.delete(child);
          if (code === null) finish({ exitCode: null, died: { code, signal }, logs, stderrTail: tail, pid: child.pid });
          else finish({ exitCode: code, logs, stderrTail: tail, pid: child.pid });
        };
        // Its last output may still be in the pipes: wait for them to close, but not for a grandchild holding them.
        const timer = setTimeout(end, 200);
        child.once("close", () => {
          clearTimeout(timer);
          end();
        });
      });
    });
  }
}
