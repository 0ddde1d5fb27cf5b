// One warm worker process as the pool sees it: started once, fed one attempt at a time over IPC, its stdout and
// stderr split into each attempt's output at the end markers. Never decides on retiring or replacing: the pool does.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { attemptEndPattern, type RunRequestMessage, type WorkerMessage } from "./worker-protocol.js";

/** How one attempt on a worker (warm or cold) ended, before anything is read from the blob store. */
export interface WorkerResult {
  /** What tsflyte-execute ended with: 0 wrote outputs.pb or error.pb, 1 could not, 2 bad arguments; null if it did not end itself. */
  exitCode: number | null;
  /** The worker process ended during the attempt (or before it could start it). */
  died?: { code: number | null; signal: NodeJS.Signals | null; error?: string };
  /** The attempt's signal aborted: its worker was killed. */
  aborted?: boolean;
  /** The attempt's output: its console output, and whatever its process wrote to stdout and stderr meanwhile. */
  logs: string;
  /** The end of the worker's stderr, for saying why a worker died. */
  stderrTail: string;
  pid?: number;
}

type Stream = "stdout" | "stderr";

interface Running {
  id: number;
  resolve: (result: WorkerResult & { retire: boolean }) => void;
  output: Record<Stream, string>;
  markers: number;
  done?: Extract<WorkerMessage, { type: "done" }>;
  /** After "done", how long to wait for the markers before giving up on late output. */
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  signal?: AbortSignal;
}

const tailBytes = 4096;
/** Output held between attempts (a timer's late logging) is attributed to the next; this much at most. */
const heldLimit = 1 << 20;
const markerWaitMs = 1_000;
let nextId = 1;

export class WarmWorker {
  readonly child: ChildProcess;
  /** Resolves when the worker has loaded and can take an attempt; rejects if it ends first. */
  readonly ready: Promise<void>;
  /** True once it was ready: only such a worker is replaced when it goes, so a worker that cannot start is not respawned forever. */
  wasReady = false;
  exited = false;
  private running?: Running;
  private readonly held: Record<Stream, string> = { stdout: "", stderr: "" };
  private tail = "";
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null; error?: string };
  private readonly exitListeners: Array<() => void> = [];

  constructor(entry: string, cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [entry], { cwd, env, stdio: ["ignore", "pipe", "pipe", "ipc"], detached: ownProcessGroup });
    for (const stream of ["stdout", "stderr"] as const) {
      const readable = this.child[stream] as Readable;
      readable.setEncoding("utf8");
      readable.on("data", (text: string) => this.output(stream, text));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on("message", (message: WorkerMessage) => {
        if (message.type === "ready") {
          this.wasReady = true;
          resolve();
        } else if (message.type === "done") this.done(message);
      });
      this.child.on("error", (error) => {
        this.ended({ code: null, signal: null, error: error.message });
        reject(error);
      });
      this.child.on("exit", (code, signal) => {
        // Its last output may still be in the pipes: wait for them to close, but not for a grandchild holding them.
        const end = () => {
          this.ended({ code, signal });
          reject(new Error(`the worker ended before it was ready (${describeExit(code, signal)})`));
        };
        const timer = setTimeout(end, 200);
        this.child.once("close", () => {
          clearTimeout(timer);
          end();
        });
      });
    });
    this.ready.catch(() => undefined); // reported through run()
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Calls `listener` once the process is gone. */
  onExit(listener: () => void): void {
    if (this.exited) listener();
    else this.exitListeners.push(listener);
  }

  /** Runs one attempt. `retire` says the task crashed its process and this worker must go. */
  run(request: Omit<RunRequestMessage, "type" | "id">, signal?: AbortSignal): Promise<WorkerResult & { retire: boolean }> {
    if (this.running) throw new Error("tsflyte bug: a warm worker was given two attempts at once");
    if (this.exited) return Promise.resolve({ ...this.diedResult(""), retire: true });
    return new Promise((resolve) => {
      const id = nextId++;
      const running: Running = { id, resolve, output: { stdout: "", stderr: "" }, markers: 0, signal };
      this.running = running;
      if (signal) {
        running.onAbort = () => this.abort(running);
        signal.addEventListener("abort", running.onAbort, { once: true });
      }
      this.child.send({ type: "run", id, ...request } satisfies RunRequestMessage, (error) => {
        if (error && this.running === running) this.kill(); // the exit handler ends the attempt
      });
    });
  }

  /** Keeps this process's event loop alive for the worker (while it works) or not (while it idles). */
  ref(on: boolean): void {
    const handles = [this.child, this.child.channel, this.child.stdout, this.child.stderr] as Array<{ ref?(): void; unref?(): void } | null | undefined>;
    for (const handle of handles) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }

  private abort(running: Running): void {
    if (this.running !== running) return;
    this.kill();
    this.finish(running, { exitCode: null, aborted: true, logs: running.output.stdout + running.output.stderr, stderrTail: this.tail, pid: this.pid }, true);
  }

  private done(message: Extract<WorkerMessage, { type: "done" }>): void {
    const running = this.running;
    if (!running || running.id !== message.id) return;
    running.done = message;
    if (running.markers >= message.marked.length) this.complete(running);
    else running.timer = setTimeout(() => this.complete(running), markerWaitMs);
  }

  private complete(running: Running): void {
    const done = running.done!;
    const logs = running.output.stdout + running.output.stderr + done.logs;
    this.finish(running, { exitCode: done.exitCode, logs, stderrTail: this.tail, pid: this.pid }, done.retire);
  }

  private finish(running: Running, result: WorkerResult, retire: boolean): void {
    if (this.running !== running) return;
    this.running = undefined;
    if (running.timer) clearTimeout(running.timer);
    if (running.onAbort) running.signal?.removeEventListener("abort", running.onAbort);
    running.resolve({ ...result, retire });
  }

  /** Splits a stream at the end markers: text before a marker belongs to that marker's attempt. */
  private output(stream: Stream, text: string): void {
    if (stream === "stderr") this.tail = (this.tail + text).slice(-tailBytes);
    let pending = this.held[stream] + text;
    for (let match = attemptEndPattern.exec(pending); match; match = attemptEndPattern.exec(pending)) {
      const before = pending.slice(0, match.index);
      pending = pending.slice(match.index + match[0].length);
      const running = this.running;
      if (running && running.id === Number(match[1])) {
        running.output[stream] += before;
        running.markers++;
        if (running.done && running.markers >= running.done.marked.length) this.complete(running);
      }
    }
    // While an attempt runs its output is its own at once, except what may be the start of a split marker.
    const escape = pending.lastIndexOf("\u001b");
    const keep = escape >= 0 && pending.length - escape < 48 ? escape : pending.length;
    if (this.running) {
      this.running.output[stream] += pending.slice(0, keep);
      pending = pending.slice(keep);
    }
    this.held[stream] = pending.length > heldLimit ? pending.slice(-heldLimit) : pending;
  }

  private ended(info: { code: number | null; signal: NodeJS.Signals | null; error?: string }): void {
    if (this.exited) return;
    this.exited = true;
    this.exitInfo = info;
    const running = this.running;
    if (running) {
      // Whatever the worker wrote before it died is the attempt's; it may have been mid-line.
      const logs = running.output.stdout + this.held.stdout + running.output.stderr + this.held.stderr;
      this.finish(running, this.diedResult(logs), true);
    }
    for (const listener of this.exitListeners.splice(0)) listener();
  }

  private diedResult(logs: string): WorkerResult {
    const info = this.exitInfo ?? { code: null, signal: null };
    return { exitCode: null, died: info, logs, stderrTail: this.tail, pid: this.pid };
  }
}

/**
 * Workers get a process group of their own, so a Ctrl-C at the terminal reaches only the process that owns them,
 * which decides how their attempts end (a server drains them first). They still exit when their parent goes.
 */
export const ownProcessGroup = process.platform !== "win32";

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  return `exit code ${code ?? "unknown"}`;
}
